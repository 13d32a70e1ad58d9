// Follicle capture page: the chosen photo under the previous one of the same angle (a ghost
// whose opacity the slider sets), and before the upload the same checks the server makes
// (shorter side, mean brightness, sharpness as the variance of the Laplacian of the grey
// image reduced to data-check-side px), shown as a hint beside the field. The server's
// verdict is the one that counts; the hint only saves a round trip.
"use strict";

function measure(img, checkSide) {
  const w = img.naturalWidth, h = img.naturalHeight;
  const k = Math.min(1, checkSide / Math.max(w, h));
  const cw = Math.max(1, Math.round(w * k)), ch = Math.max(1, Math.round(h * k));
  const canvas = document.createElement("canvas");
  canvas.width = cw; canvas.height = ch;
  const ctx = canvas.getContext("2d", { willReadFrequently: true });
  ctx.drawImage(img, 0, 0, cw, ch);
  const d = ctx.getImageData(0, 0, cw, ch).data;
  const grey = new Float32Array(cw * ch);
  let sum = 0;
  for (let i = 0, p = 0; i < grey.length; i++, p += 4) {
    // ITU-R BT.601 luma, as the server's grayscale.
    grey[i] = 0.299 * d[p] + 0.587 * d[p + 1] + 0.114 * d[p + 2];
    sum += grey[i];
  }
  let s = 0, s2 = 0, n = 0;
  for (let y = 1; y < ch - 1; y++) {
    for (let x = 1; x < cw - 1; x++) {
      const i = y * cw + x;
      const l = grey[i - 1] + grey[i + 1] + grey[i - cw] + grey[i + cw] - 4 * grey[i];
      s += l; s2 += l * l; n++;
    }
  }
  const mean = n ? s / n : 0;
  return { width: w, height: h, brightness: sum / grey.length / 255, sharpness: n ? s2 / n - mean * mean : 0 };
}

function hintFor(q, f) {
  const out = [];
  if (Math.min(q.width, q.height) < Number(f.dataset.minSide)) {
    out.push(`${q.width} × ${q.height} pixels is too small to compare: the shorter side must be at least ${f.dataset.minSide} pixels.`);
  }
  if (q.brightness < Number(f.dataset.minBrightness)) out.push(`Too dark (brightness ${q.brightness.toFixed(2)}).`);
  if (q.brightness > Number(f.dataset.maxBrightness)) out.push(`Too bright (brightness ${q.brightness.toFixed(2)}).`);
  if (q.sharpness < Number(f.dataset.minSharpness)) out.push(`Looks blurred (sharpness ${q.sharpness.toFixed(0)}).`);
  return out;
}

document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("capture-form");
  if (!form) return;
  const ghost = document.getElementById("ghost");
  const opacity = document.getElementById("ghost-opacity");
  if (ghost && opacity) {
    const sync = () => { ghost.style.opacity = String(Number(opacity.value) / 100); };
    opacity.addEventListener("input", sync);
    sync();
  }
  const input = document.getElementById("photo");
  const hint = document.getElementById("photo-hint");
  const preview = document.getElementById("new-photo");
  window.follicleCapture = { checked: null };
  input.addEventListener("change", () => {
    const file = input.files && input.files[0];
    hint.textContent = "";
    if (!file) return;
    if (!/^image\/(jpeg|png)$/.test(file.type)) {
      hint.textContent = `${file.name} is not a JPEG or PNG photo.`;
      window.follicleCapture.checked = { refused: true };
      return;
    }
    const url = URL.createObjectURL(file);
    preview.onload = () => {
      const q = measure(preview, Number(form.dataset.checkSide));
      const problems = hintFor(q, form);
      hint.textContent = problems.length ? problems.join(" ") : `${q.width} × ${q.height} px, brightness ${q.brightness.toFixed(2)}, sharpness ${q.sharpness.toFixed(0)}: fine.`;
      window.follicleCapture.checked = { ...q, problems };
    };
    preview.onerror = () => { hint.textContent = `${file.name} cannot be read as an image.`; };
    preview.src = url;
    preview.hidden = false;
  });
});
