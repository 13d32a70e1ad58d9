// Follicle designer: the design on the client's photo.
//
// The practitioner places a few landmarks on the photo (clicking them in turn; they can be
// dragged after). The server fits the warp between the photo and the head model through them
// once (POST /api/v1/photos/{id}/warp) and answers two grids: chart mm → photo pixel and photo
// pixel → chart mm. The page keeps them per photo and landmarks, so every edit's dots (the
// designer's tiles, window.follicleDesigner) are placed on the photo here without asking the
// server again, and a hairline point dragged on the photo goes back to the chart through the
// second grid: the designer sends it as any other edit and the dots follow on the chart and on
// the photo. When the design stands still, the server draws the healed look on the photo at
// the moment chosen (POST /api/v1/photos/{id}/overlay); the slider uncovers the photo as taken
// on its left. "Client sheet" asks for the photo before and after side by side
// (POST /api/v1/photos/{id}/sheet).
//
// For the end-to-end test, window.folliclePhotoView keeps `latencies` (each photo pointer
// event of a hairline drag: to the first drawing of the photo that includes it), and helpers
// to find points on the page.
"use strict";

(() => {
  // Landmarks to place, by the angle of the photo, with what to click. "Right" and "left" are
  // the client's.
  const LANDMARKS = {
    front: [
      ["glabella", "between the brows"],
      ["lateral_canthus_right", "the outer corner of the client's right eye (left in the photo)"],
      ["lateral_canthus_left", "the outer corner of the client's left eye (right in the photo)"],
      ["ear_right", "the client's right ear canal (left in the photo)"],
      ["ear_left", "the client's left ear canal (right in the photo)"],
      ["vertex", "the top of the head"],
    ],
    top: [
      ["glabella", "between the brows (the front edge)"],
      ["ear_right", "the client's right ear"],
      ["ear_left", "the client's left ear"],
      ["vertex", "the top of the head"],
      ["crown_whorl", "the centre of the crown whorl"],
    ],
    left: [
      ["lateral_canthus_left", "the outer corner of the left eye"],
      ["ear_left", "the left ear canal"],
      ["vertex", "the top of the head"],
      ["occipital_fringe", "the lowest point of the fringe at the nape"],
      ["glabella", "between the brows"],
    ],
    right: [
      ["lateral_canthus_right", "the outer corner of the right eye"],
      ["ear_right", "the right ear canal"],
      ["vertex", "the top of the head"],
      ["occipital_fringe", "the lowest point of the fringe at the nape"],
      ["glabella", "between the brows"],
    ],
    back: [
      ["ear_left", "the client's left ear (left in the photo)"],
      ["ear_right", "the client's right ear (right in the photo)"],
      ["crown_whorl", "the centre of the crown whorl"],
      ["occipital_fringe", "the lowest point of the fringe at the nape"],
      ["vertex", "the top of the head"],
    ],
  };
  const HANDLE_PX = 14;
  const MAX_CANVAS = 640;

  // Bilinear interpolation in a grid of [x, y] | null; null when a corner is missing.
  function sample(grid, x, y) {
    const gx = (x - grid.origin[0]) / grid.step, gy = (y - grid.origin[1]) / grid.step;
    const c = Math.floor(gx), r = Math.floor(gy);
    if (c < 0 || r < 0 || c + 1 >= grid.cols || r + 1 >= grid.rows) return null;
    const i = r * grid.cols + c;
    const a = grid.points[i], b = grid.points[i + 1], d = grid.points[i + grid.cols], e = grid.points[i + grid.cols + 1];
    if (!a || !b || !d || !e) return null;
    const fx = gx - c, fy = gy - r;
    return [
      (a[0] * (1 - fx) + b[0] * fx) * (1 - fy) + (d[0] * (1 - fx) + e[0] * fx) * fy,
      (a[1] * (1 - fx) + b[1] * fx) * (1 - fy) + (d[1] * (1 - fx) + e[1] * fx) * fy,
    ];
  }

  function init(root, designer) {
    const photos = JSON.parse(root.dataset.photos || "[]");
    const select = document.getElementById("photo-select");
    const canvas = document.getElementById("photo-canvas");
    const ctx = canvas.getContext("2d", { willReadFrequently: true });
    const status = document.getElementById("photo-status");
    const prompt = document.getElementById("landmark-prompt");
    const momentSelect = document.getElementById("photo-moment");
    const compare = document.getElementById("photo-compare");
    const csrf = document.getElementById("designer").dataset.csrf;
    const view = {
      photo: null, // { id, angle, width, height, img }
      landmarks: [], // { name, x_px, y_px }
      skipped: new Set(),
      grids: null,
      gridsKey: null,
      overlay: null, // { img, key }
      header: null,
      drag: null, // { kind: "anchor" | "landmark", index }
      pending: [], // photo pointer events not yet drawn: { seq, at }
    };
    const api = (window.folliclePhotoView = { latencies: [], redraws: 0, overlays: 0, view });
    let scale = 1, base = null; // canvas px per photo px; the photo's pixels at canvas size

    for (const p of photos) {
      const o = document.createElement("option");
      o.value = p.id;
      o.textContent = `${p.angle}, ${p.date}`;
      select.appendChild(o);
    }
    const storageKey = (id) => `follicle.landmarks.${id}`;
    const toDo = () => (LANDMARKS[view.photo.angle] || LANDMARKS.front).filter(([n]) => !view.landmarks.some((l) => l.name === n) && !view.skipped.has(n));
    const placedEnough = () => view.landmarks.length >= 3 && toDo().length === 0;
    const request = () => designer.state.request;
    const body = (extra = {}) => JSON.stringify({ design: request(), landmarks: view.landmarks, view: view.photo.angle, ...extra });

    function showPrompt() {
      if (!view.photo) return;
      const next = toDo()[0];
      prompt.textContent = next
        ? `Click ${next[1]} (${view.landmarks.length} placed).`
        : `${view.landmarks.length} landmarks placed; drag one to adjust it.`;
    }

    async function choose(id) {
      const p = photos.find((q) => q.id === id);
      if (!p) return;
      const img = new Image();
      img.src = `/api/v1/photos/${id}`;
      await img.decode();
      view.photo = { ...p, width: img.naturalWidth, height: img.naturalHeight, img };
      scale = Math.min(1, MAX_CANVAS / Math.max(img.naturalWidth, img.naturalHeight));
      canvas.width = Math.round(img.naturalWidth * scale);
      canvas.height = Math.round(img.naturalHeight * scale);
      ctx.drawImage(img, 0, 0, canvas.width, canvas.height);
      base = ctx.getImageData(0, 0, canvas.width, canvas.height);
      view.landmarks = JSON.parse(localStorage.getItem(storageKey(id)) || "[]");
      view.skipped = new Set();
      view.grids = null; view.gridsKey = null; view.overlay = null;
      status.textContent = "Place the landmarks on the photo.";
      if (designer.state.pattern) fillMoments(designer.state.pattern.header.sessions);
      showPrompt();
      draw();
      if (placedEnough()) await refresh();
    }

    function fillMoments(sessions) {
      if (momentSelect.dataset.sessions === String(sessions)) return;
      const keep = momentSelect.value;
      momentSelect.innerHTML = "";
      const add = (value, text) => { const o = document.createElement("option"); o.value = value; o.textContent = text; momentSelect.appendChild(o); };
      for (let s = 1; s <= sessions; s++) add(`healed:${s}`, `healed, after session ${s}`);
      for (const y of [1, 3, 5, 8]) add(`years:${y}`, `in ${y} year${y > 1 ? "s" : ""}`);
      add("years:4@4", "after a touch-up at year 4");
      add("years:8@4", "in 8 years, touched up at year 4");
      momentSelect.dataset.sessions = String(sessions);
      momentSelect.value = [...momentSelect.options].some((o) => o.value === keep) ? keep : `healed:${sessions}`;
    }

    // The warp grids for the photo and landmarks (fetched once for each).
    async function ensureGrids() {
      const key = `${view.photo.id}|${JSON.stringify(view.landmarks)}`;
      if (view.gridsKey === key) return true;
      const res = await fetch(`/api/v1/photos/${view.photo.id}/warp`, {
        method: "POST",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
        body: body(),
      });
      const json = await res.json();
      if (!res.ok) { status.textContent = `Not placed: ${json.error.field ? json.error.field + ": " : ""}${json.error.message}`; return false; }
      view.grids = json;
      view.gridsKey = key;
      return true;
    }

    // The healed look drawn by the server for the design as it stands and the moment chosen.
    let overlaySeq = 0;
    async function refreshOverlay() {
      if (!view.photo || !placedEnough()) return;
      const key = `${view.gridsKey}|${JSON.stringify(request())}|${momentSelect.value}`;
      if (view.overlay && view.overlay.key === key) return;
      const mine = ++overlaySeq;
      status.textContent = "Drawing the healed look on the photo…";
      const res = await fetch(`/api/v1/photos/${view.photo.id}/overlay`, {
        method: "POST",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
        body: body({ moment: momentSelect.value || null }),
      });
      if (mine !== overlaySeq) return;
      if (!res.ok) {
        const err = await res.json().catch(() => ({ error: { message: res.statusText } }));
        status.textContent = `No healed look: ${err.error.field ? err.error.field + ": " : ""}${err.error.message}`;
        return;
      }
      const img = new Image();
      img.src = URL.createObjectURL(await res.blob());
      await img.decode();
      if (mine !== overlaySeq || view.drag) return;
      view.overlay = { img, key };
      api.overlays += 1;
      status.textContent = `The design on the photo: ${momentSelect.selectedOptions[0]?.textContent || ""}.`;
      draw();
    }

    async function refresh() {
      if (!view.photo || !placedEnough()) { draw(); return; }
      if (await ensureGrids()) { draw(); refreshOverlay(); }
    }

    const toCanvas = (p) => [p[0] * scale, p[1] * scale];
    const chartToCanvas = (q) => { const p = view.grids && sample(view.grids.chart_to_photo, q[0], q[1]); return p ? toCanvas(p) : null; };

    // The after layer: the server's healed look when it is of the design as it stands, or
    // the photo with the dots drawn here (while the design changes).
    function afterPixels() {
      const w = canvas.width, h = canvas.height;
      const key = `${view.gridsKey}|${JSON.stringify(request())}|${momentSelect.value}`;
      if (view.overlay && view.overlay.key === key && !view.drag) {
        ctx.drawImage(view.overlay.img, 0, 0, w, h);
        return ctx.getImageData(0, 0, w, h);
      }
      const out = new ImageData(new Uint8ClampedArray(base.data), w, h);
      if (!view.grids) return out;
      const px = out.data, g = view.grids.chart_to_photo;
      const upTo = Number(document.getElementById("session").value || 99);
      for (const t of designer.state.tiles.values()) {
        for (let i = 0; i < t.n; i++) {
          if (t.session[i] > upTo) continue;
          const p = sample(g, t.x[i], t.y[i]);
          if (!p) continue;
          const x = Math.round(p[0] * scale), y = Math.round(p[1] * scale);
          if (x < 0 || y < 0 || x >= w || y >= h) continue;
          const o = (y * w + x) * 4, a = 0.3 + 0.4 * t.shade[i], keep = 1 - a;
          px[o] = px[o] * keep + 40 * a;
          px[o + 1] = px[o + 1] * keep + 42 * a;
          px[o + 2] = px[o + 2] * keep + 48 * a;
        }
      }
      return out;
    }

    function draw() {
      if (!view.photo || !base) return;
      const w = canvas.width, h = canvas.height;
      const after = afterPixels();
      const split = Math.round((Number(compare.value) / 100) * w);
      if (split > 0) {
        // Left of the line: the photo as taken.
        for (let y = 0; y < h; y++) {
          const from = y * w * 4;
          after.data.set(base.data.subarray(from, from + split * 4), from);
        }
      }
      ctx.putImageData(after, 0, 0);
      if (split > 0 && split < w) {
        ctx.strokeStyle = "#ffffff"; ctx.lineWidth = 2;
        ctx.beginPath(); ctx.moveTo(split, 0); ctx.lineTo(split, h); ctx.stroke();
      }
      // The hairline and its points, on the after side of the line.
      const header = designer.state.pattern && designer.state.pattern.header;
      if (view.grids && header && split < w) {
        ctx.save();
        ctx.beginPath();
        ctx.rect(split, 0, w - split, h);
        ctx.clip();
        ctx.strokeStyle = "#1d5f8a"; ctx.lineWidth = 2;
        ctx.beginPath();
        let pen = false;
        for (const q of header.hairline.points) {
          const c = chartToCanvas(q);
          if (!c) { pen = false; continue; }
          if (pen) ctx.lineTo(c[0], c[1]); else ctx.moveTo(c[0], c[1]);
          pen = true;
        }
        ctx.stroke();
        if (tool() === "hairline") {
          (designer.state.anchors || []).forEach((a, i) => {
            const c = chartToCanvas(a);
            if (!c) return;
            ctx.beginPath();
            ctx.arc(c[0], c[1], 6, 0, 2 * Math.PI);
            ctx.fillStyle = view.drag && view.drag.index === i ? "#f0b429" : "#ffffff";
            ctx.fill(); ctx.stroke();
          });
        }
        ctx.restore();
      }
      if (tool() === "landmarks") {
        for (const l of view.landmarks) {
          const [x, y] = toCanvas([l.x_px, l.y_px]);
          ctx.beginPath();
          ctx.arc(x, y, 5, 0, 2 * Math.PI);
          ctx.fillStyle = "#e7298a"; ctx.fill();
          ctx.strokeStyle = "#ffffff"; ctx.lineWidth = 1.5; ctx.stroke();
        }
      }
      api.redraws += 1;
    }

    const tool = () => document.querySelector("input[name=photo-tool]:checked").value;
    const eventXY = (ev) => {
      const rect = canvas.getBoundingClientRect();
      return [((ev.clientX - rect.left) * canvas.width) / rect.width, ((ev.clientY - rect.top) * canvas.height) / rect.height];
    };
    // Page coordinates of a photo pixel, and of hairline point i on the photo (for tests).
    api.photoClientXY = (x, y) => {
      const rect = canvas.getBoundingClientRect();
      return [rect.left + (x * scale * rect.width) / canvas.width, rect.top + (y * scale * rect.height) / canvas.height];
    };
    api.anchorClientXY = (i) => {
      const c = chartToCanvas(designer.state.anchors[i]);
      if (!c) return null;
      const rect = canvas.getBoundingClientRect();
      return [rect.left + (c[0] * rect.width) / canvas.width, rect.top + (c[1] * rect.height) / canvas.height];
    };
    // How many pixels of a photo-pixel box differ from the photo as taken (for tests).
    api.changedPixels = (x0, y0, x1, y1, threshold = 12) => {
      const w = canvas.width;
      const now = ctx.getImageData(0, 0, w, canvas.height).data;
      let n = 0;
      for (let y = Math.max(0, Math.round(y0 * scale)); y < Math.min(canvas.height, Math.round(y1 * scale)); y++) {
        for (let x = Math.max(0, Math.round(x0 * scale)); x < Math.min(w, Math.round(x1 * scale)); x++) {
          const o = (y * w + x) * 4;
          if (Math.abs(now[o] - base.data[o]) + Math.abs(now[o + 1] - base.data[o + 1]) + Math.abs(now[o + 2] - base.data[o + 2]) > threshold) n++;
        }
      }
      return n;
    };
    api.placedEnough = () => !!view.photo && placedEnough();

    canvas.addEventListener("pointerdown", (ev) => {
      if (!view.photo) return;
      const [cx, cy] = eventXY(ev);
      if (tool() === "landmarks") {
        let best = -1, bestD = HANDLE_PX;
        view.landmarks.forEach((l, i) => { const d = Math.hypot(l.x_px * scale - cx, l.y_px * scale - cy); if (d < bestD) { best = i; bestD = d; } });
        if (best >= 0) {
          view.drag = { kind: "landmark", index: best, id: ev.pointerId };
          canvas.setPointerCapture(ev.pointerId);
          return;
        }
        const next = toDo()[0];
        if (!next) return;
        view.landmarks.push({ name: next[0], x_px: Math.round((cx / scale) * 10) / 10, y_px: Math.round((cy / scale) * 10) / 10 });
        landmarksChanged();
        return;
      }
      if (!view.grids || !designer.state.anchors) return;
      let best = -1, bestD = HANDLE_PX;
      designer.state.anchors.forEach((a, i) => { const c = chartToCanvas(a); if (!c) return; const d = Math.hypot(c[0] - cx, c[1] - cy); if (d < bestD) { best = i; bestD = d; } });
      if (best < 0) return;
      view.drag = { kind: "anchor", index: best, id: ev.pointerId };
      designer.startAnchorDrag(best);
      canvas.setPointerCapture(ev.pointerId);
      draw();
    });
    canvas.addEventListener("pointermove", (ev) => {
      if (!view.drag || ev.pointerId !== view.drag.id) return;
      const startedAt = performance.now();
      const [cx, cy] = eventXY(ev);
      const photoXY = [cx / scale, cy / scale];
      if (view.drag.kind === "landmark") {
        const l = view.landmarks[view.drag.index];
        l.x_px = Math.round(photoXY[0] * 10) / 10;
        l.y_px = Math.round(photoXY[1] * 10) / 10;
        draw();
        return;
      }
      const mm = sample(view.grids.photo_to_chart, photoXY[0], photoXY[1]);
      if (!mm) return; // off the head
      const seq = designer.dragAnchorTo([Math.round(mm[0] * 100) / 100, Math.round(mm[1] * 100) / 100], startedAt);
      view.pending.push({ seq, at: startedAt });
    });
    const endDrag = () => {
      if (!view.drag) return;
      const kind = view.drag.kind;
      view.drag = null;
      if (kind === "landmark") landmarksChanged();
      else designer.endAnchorDrag();
    };
    canvas.addEventListener("pointerup", endDrag);
    canvas.addEventListener("pointercancel", endDrag);

    function landmarksChanged() {
      localStorage.setItem(storageKey(view.photo.id), JSON.stringify(view.landmarks));
      view.overlay = null;
      showPrompt();
      draw();
      if (placedEnough()) refresh();
    }
    document.getElementById("landmark-skip").addEventListener("click", () => {
      const next = view.photo && toDo()[0];
      if (!next) return;
      view.skipped.add(next[0]);
      showPrompt();
      if (placedEnough()) refresh();
    });
    document.getElementById("landmark-reset").addEventListener("click", () => {
      if (!view.photo) return;
      view.landmarks = [];
      view.skipped = new Set();
      view.grids = null; view.gridsKey = null; view.overlay = null;
      localStorage.removeItem(storageKey(view.photo.id));
      document.querySelector("input[name=photo-tool][value=landmarks]").checked = true;
      showPrompt();
      draw();
    });
    document.querySelectorAll("input[name=photo-tool]").forEach((r) => r.addEventListener("change", draw));
    select.addEventListener("change", () => choose(select.value));
    momentSelect.addEventListener("change", () => { draw(); refreshOverlay(); });
    compare.addEventListener("input", draw);
    document.getElementById("session").addEventListener("change", draw);

    // A delta was drawn on the chart: draw the photo again, and time the photo's own events.
    let settle = null;
    designer.onDrawn.push((header, edit) => {
      if (!view.photo) return;
      view.header = header;
      fillMoments(header.sessions);
      draw();
      const now = performance.now();
      while (view.pending.length && view.pending[0].seq <= edit.seq) api.latencies.push(now - view.pending.shift().at);
      // The healed look once the design stands still.
      clearTimeout(settle);
      if (!view.drag && !designer.state.drag) settle = setTimeout(refreshOverlay, 250);
    });

    document.getElementById("client-sheet").addEventListener("click", async () => {
      if (!view.photo || !placedEnough()) { status.textContent = "Place the landmarks on the photo first."; return; }
      status.textContent = "Drawing the client sheet…";
      const res = await fetch(`/api/v1/photos/${view.photo.id}/sheet`, {
        method: "POST",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
        body: body({ moment: momentSelect.value || null }),
      });
      if (!res.ok) {
        const err = await res.json().catch(() => ({ error: { message: res.statusText } }));
        status.textContent = `No client sheet: ${err.error.field ? err.error.field + ": " : ""}${err.error.message}`;
        return;
      }
      const url = URL.createObjectURL(await res.blob());
      const link = document.getElementById("sheet-link");
      link.href = url;
      link.hidden = false;
      const img = document.getElementById("sheet-img");
      img.src = url;
      img.hidden = false;
      status.textContent = "Client sheet ready: before and after, side by side.";
    });

    if (photos.length) choose(photos[0].id);
  }

  document.addEventListener("DOMContentLoaded", () => {
    const root = document.getElementById("photo-view");
    if (root && document.getElementById("photo-canvas") && window.follicleDesigner) init(root, window.follicleDesigner);
  });
})();
