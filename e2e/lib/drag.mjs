// What a drag's drawn updates were made of, for the designer's and the photo view's drag
// reports: medians of each update's parts and the interval the test's pointer moves came at.

// The lower median of the numbers in `xs` (NaN when there are none).
export function median(xs) {
  const v = xs.filter((x) => typeof x === "number").sort((a, b) => a - b);
  return v.length ? v[Math.floor((v.length - 1) / 2)] : NaN;
}

// One line: the updates' parts (`timings`: window.follicleDesigner.timings, or the photo
// view's, which add `photoMs`) and the interval between the moves made at `movedAt`
// (performance.now() after each page.mouse.move, which waits for the browser to take it).
export function dragParts(timings, movedAt) {
  const f = (x) => (Number.isFinite(x) ? x.toFixed(1) : "–");
  const m = (key) => f(median(timings.map((t) => t[key])));
  const intervals = movedAt.slice(1).map((t, k) => t - movedAt[k]);
  const photo = timings.some((t) => "photoMs" in t) ? `, photo drawn ${m("photoMs")} ms` : "";
  return `drawn updates ${timings.length}; medians: event to edit sent ${m("waitMs")} ms, round trip ${m("roundTripMs")} ms (the server's part ${m("serverMs")} ms), delta applied ${m("applyMs")} ms, chart drawn ${m("chartMs")} ms${photo}; tiles a delta ${m("tiles")}; pointer moves ${f(median(intervals))} ms apart`;
}
