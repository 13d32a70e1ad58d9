// The signature pad of a consent page: strokes drawn with a finger, pen or mouse are kept as
// "x,y x,y;x,y …" in the canvas's own 600 × 200 units, in the hidden `signature` field.
(function () {
  "use strict";
  const pad = document.getElementById("pad");
  const field = document.getElementById("signature");
  if (!pad || !field) return;
  const ctx = pad.getContext("2d");
  const strokes = [];
  let current = null;
  const point = (e) => {
    const r = pad.getBoundingClientRect();
    const x = Math.min(pad.width, Math.max(0, (e.clientX - r.left) * pad.width / r.width));
    const y = Math.min(pad.height, Math.max(0, (e.clientY - r.top) * pad.height / r.height));
    return [Math.round(x * 10) / 10, Math.round(y * 10) / 10];
  };
  const save = () => {
    field.value = strokes.map((s) => s.map((p) => p[0] + "," + p[1]).join(" ")).join(";");
  };
  const draw = () => {
    ctx.clearRect(0, 0, pad.width, pad.height);
    ctx.lineWidth = 3;
    ctx.lineCap = "round";
    ctx.lineJoin = "round";
    ctx.strokeStyle = "#1a2a4a";
    for (const s of strokes) {
      ctx.beginPath();
      s.forEach((p, i) => (i ? ctx.lineTo(p[0], p[1]) : ctx.moveTo(p[0], p[1])));
      if (s.length === 1) ctx.lineTo(s[0][0] + 0.1, s[0][1]);
      ctx.stroke();
    }
  };
  pad.addEventListener("pointerdown", (e) => {
    pad.setPointerCapture(e.pointerId);
    current = [point(e)];
    strokes.push(current);
    draw();
    e.preventDefault();
  });
  pad.addEventListener("pointermove", (e) => {
    if (!current) return;
    current.push(point(e));
    draw();
    e.preventDefault();
  });
  const end = () => {
    current = null;
    save();
  };
  pad.addEventListener("pointerup", end);
  pad.addEventListener("pointercancel", end);
  document.getElementById("clear").addEventListener("click", () => {
    strokes.length = 0;
    save();
    draw();
  });
})();
