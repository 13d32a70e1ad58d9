// The signature pad of a consent page: strokes drawn with a finger, pen or mouse are kept as
// "x,y x,y;x,y …" in the canvas's own 600 × 200 units, in the hidden `signature` field. A
// signer who cannot draw with a pointer chooses "Type your name to sign instead" (radio
// buttons, keyboard-reachable; the page works without this script too).
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
  // "Type your name to sign instead": the pad is hidden (and its strokes not sent) while the
  // typed name is the signature; the name field gets the focus.
  const typed = document.getElementById("method-typed");
  const drawn = document.getElementById("method-drawn");
  const drawPart = document.getElementById("draw-part");
  const name = document.getElementById("name");
  const follow = () => {
    if (!typed || !drawPart) return;
    drawPart.hidden = typed.checked;
    field.disabled = typed.checked;
  };
  if (typed && drawn) {
    typed.addEventListener("change", () => {
      follow();
      if (typed.checked && name) name.focus();
    });
    drawn.addEventListener("change", follow);
    follow();
  }
})();
