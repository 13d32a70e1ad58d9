// Follicle designer: the design on the client's photo.
//
// The landmarks are the photo's own, kept by the server: the page asks for them
// (GET /api/v1/photos/{id}/landmarks); when none are kept it asks the face model to find them
// (POST /api/v1/photos/{id}/landmarks/detect) and keeps what it found. When the model finds no
// face (or several, or one too small) the page shows the server's message and the practitioner
// places the points by hand, clicking them in turn. Every point placed or dragged here is saved
// (PUT /api/v1/photos/{id}/landmarks), so the landmarks page and this view agree.
//
// The server fits the warp between the photo and the head model through the landmarks once
// (POST /api/v1/photos/{id}/warp) and answers two grids: chart mm → photo pixel and photo
// pixel → chart mm. The page keeps them per photo and landmarks, so every edit's dots (the
// designer's tiles, window.follicleDesigner) are placed on the photo here without asking the
// server again, and a hairline point dragged on the photo goes back to the chart through the
// second grid: the designer sends it as any other edit and the dots follow on the chart and on
// the photo. The photo is drawn again at most once an animation frame. When the design stands
// still, the server draws the healed look on the photo at the moment chosen
// (POST /api/v1/photos/{id}/overlay); the slider uncovers the photo as taken on its left.
// "Client sheet" shows the sheet of the saved version on the client's photos
// (GET /api/v1/designs/{id}/client-sheet: PNG shown, PDF to download).
//
// For the end-to-end test, window.folliclePhotoView keeps `latencies`: every pointer event of a
// hairline drag on the photo (each move counts by its own time stamp, also those the browser
// coalesced into one pointermove where it has no pointerrawupdate), from the event to the animation frame that first shows the photo drawn with
// a design that includes it (an event superseded by a newer one before it was drawn counts
// until the frame that shows the newer one). `timings` breaks each drawn update down.
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
      photo: null, // { id, angle, width, height, orientation, img }
      landmarks: [], // { name, x_px, y_px }
      outline: [], // the face outline the model found, kept with the points
      source: null, // how the points came to be: "detected", "adjusted", "manual" (null: none yet)
      found: false, // the points are the server's (kept or found): no guided placing
      skipped: new Set(),
      grids: null,
      gridsKey: null,
      overlay: null, // { img, key }
      header: null,
      drag: null, // { kind: "anchor" | "landmark", index }
      pending: [], // photo pointer events not yet shown: { seq, at }
    };
    const api = (window.folliclePhotoView = { latencies: [], timings: [], redraws: 0, overlays: 0, saves: 0, view });
    let scale = 1, base = null; // canvas px per photo px; the photo's pixels at canvas size

    for (const p of photos) {
      const o = document.createElement("option");
      o.value = p.id;
      o.textContent = `${p.angle}, ${p.date}`;
      select.appendChild(o);
    }
    const toDo = () => (LANDMARKS[view.photo.angle] || LANDMARKS.front).filter(([n]) => !view.landmarks.some((l) => l.name === n) && !view.skipped.has(n));
    const placedEnough = () => view.landmarks.length >= 3 && (view.found || toDo().length === 0);
    const request = () => designer.state.request;
    const body = (extra = {}) => JSON.stringify({ design: request(), landmarks: view.landmarks, view: view.photo.angle, ...extra });
    const say = (text) => { status.textContent = text; };
    const errorText = async (res) => {
      const err = await res.json().catch(() => ({ error: { message: res.statusText || `the server answered ${res.status}` } }));
      return `${err.error.field ? err.error.field + ": " : ""}${err.error.message}`;
    };

    function showPrompt() {
      if (!view.photo) return;
      const next = toDo()[0];
      if (view.found) {
        prompt.textContent = `${view.landmarks.length} landmarks on the photo; drag one to adjust it (it is saved)${next ? `, or click ${next[1]} to add it` : ""}.`;
        return;
      }
      prompt.textContent = next
        ? `Click ${next[1]} (${view.landmarks.length} placed).`
        : `${view.landmarks.length} landmarks placed; drag one to adjust it.`;
    }

    // The landmarks kept with the photo; when none are, those the face model finds (kept at
    // once). No face found: the server's message, and the points are placed by hand.
    async function loadLandmarks(id, gen) {
      const mine = () => view.photo && view.photo.id === id && chosen === gen;
      const res = await fetch(`/api/v1/photos/${id}/landmarks`);
      if (!mine()) return;
      if (res.ok) {
        const kept = await res.json();
        if (!mine()) return;
        view.landmarks = kept.points.map((p) => ({ name: p.name, x_px: p.x_px, y_px: p.y_px }));
        view.outline = kept.outline || [];
        view.source = kept.source;
        view.found = kept.source !== "manual" || view.landmarks.length >= 3;
        say(`The landmarks kept with this photo (${kept.source}).`);
        return;
      }
      if (res.status !== 404) { say(`The landmarks could not be read: ${await errorText(res)}`); return; }
      if (view.photo.angle !== "front") { say("No landmarks kept with this photo: place them by hand."); return; }
      say("Looking for the face…");
      const found = await fetch(`/api/v1/photos/${id}/landmarks/detect`, { method: "POST", headers: { "X-CSRF-Token": csrf } });
      if (!mine()) return;
      if (!found.ok) {
        say(`No landmarks found: ${await errorText(found)}`);
        return;
      }
      const answer = await found.json();
      if (!mine()) return;
      view.landmarks = answer.points.map((p) => ({ name: p.name, x_px: p.x_px, y_px: p.y_px }));
      view.outline = answer.outline || [];
      view.source = "detected";
      view.found = true;
      say(`Found ${view.landmarks.length} landmarks on the face: drag any that are off.`);
      await save();
    }

    // Keeps the points with the photo (the landmarks page shows the same).
    let saving = Promise.resolve();
    function save() {
      const id = view.photo.id;
      const payload = JSON.stringify({
        points: view.landmarks.map((l) => ({ name: l.name, x_px: l.x_px, y_px: l.y_px })),
        outline: view.outline,
        source: view.source || "manual",
      });
      saving = saving.then(async () => {
        const res = await fetch(`/api/v1/photos/${id}/landmarks`, {
          method: "PUT",
          headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
          body: payload,
        });
        if (!res.ok) { say(`The landmarks were not saved: ${await errorText(res)}`); return; }
        api.saves += 1;
      }, () => {});
      return saving;
    }

    let chosen = 0; // the latest choice: an older one still loading gives way
    async function choose(id) {
      const p = photos.find((q) => q.id === id);
      if (!p) return;
      if (view.photo && view.photo.id === id && view.photo.img) return; // already shown
      const gen = ++chosen;
      const img = new Image();
      img.src = `/api/v1/photos/${id}`;
      await img.decode();
      if (gen !== chosen) return;
      // The upright size (the stored bytes are as the camera took them).
      const turned = (p.orientation || 1) >= 5;
      const W = turned ? img.naturalHeight : img.naturalWidth, H = turned ? img.naturalWidth : img.naturalHeight;
      view.photo = { ...p, width: W, height: H, img };
      scale = Math.min(1, MAX_CANVAS / Math.max(W, H));
      canvas.width = Math.round(W * scale);
      canvas.height = Math.round(H * scale);
      const t = uprightTransform(p.orientation || 1, canvas.width, canvas.height);
      if (t) ctx.setTransform(...t);
      if (turned) ctx.drawImage(img, 0, 0, canvas.height, canvas.width); else ctx.drawImage(img, 0, 0, canvas.width, canvas.height);
      ctx.setTransform(1, 0, 0, 1, 0, 0);
      base = ctx.getImageData(0, 0, canvas.width, canvas.height);
      view.landmarks = [];
      view.outline = [];
      view.source = null;
      view.found = false;
      view.skipped = new Set();
      view.grids = null; view.gridsKey = null; view.overlay = null;
      say("Reading the landmarks…");
      if (designer.state.pattern) fillMoments(designer.state.pattern.header.sessions);
      draw();
      await loadLandmarks(id, gen);
      if (gen !== chosen) return;
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
      if (!res.ok) { say(`Not placed: ${await errorText(res)}`); return false; }
      view.grids = await res.json();
      view.gridsKey = key;
      return true;
    }

    // The healed look drawn by the server for the design as it stands and the moment chosen.
    let overlaySeq = 0;
    async function refreshOverlay() {
      if (!view.photo || !placedEnough() || !view.gridsKey) return;
      const key = `${view.gridsKey}|${JSON.stringify(request())}|${momentSelect.value}`;
      if (view.overlay && view.overlay.key === key) return;
      const mine = ++overlaySeq;
      say("Drawing the healed look on the photo…");
      const res = await fetch(`/api/v1/photos/${view.photo.id}/overlay`, {
        method: "POST",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
        body: body({ moment: momentSelect.value || null }),
      });
      if (mine !== overlaySeq) return;
      if (!res.ok) { say(`No healed look: ${await errorText(res)}`); return; }
      const img = new Image();
      img.src = URL.createObjectURL(await res.blob());
      await img.decode();
      if (mine !== overlaySeq || view.drag) return;
      view.overlay = { img, key, pixels: null };
      api.overlays += 1;
      say(`The design on the photo: ${momentSelect.selectedOptions[0]?.textContent || ""}.`);
      draw();
    }

    async function refresh() {
      if (!view.photo || !placedEnough()) { draw(); return; }
      if (await ensureGrids()) { draw(); refreshOverlay(); }
    }

    const toCanvas = (p) => [p[0] * scale, p[1] * scale];
    const chartToCanvas = (q) => { const p = view.grids && sample(view.grids.chart_to_photo, q[0], q[1]); return p ? toCanvas(p) : null; };

    // The dots on the photo are placed through the chart → photo grid once per tile and kept
    // (canvas pixel index and opacity), so a delta costs only the tiles it replaced.
    let placed = new WeakMap(), placedFor = null;
    function tileOnPhoto(t) {
      const g = view.grids.chart_to_photo;
      if (placedFor !== view.gridsKey) { placed = new WeakMap(); placedFor = view.gridsKey; }
      let p = placed.get(t);
      if (p && p.scale === scale) return p;
      const w = canvas.width, h = canvas.height;
      const at = new Int32Array(t.n), alpha = new Float32Array(t.n);
      for (let i = 0; i < t.n; i++) {
        const q = sample(g, t.x[i], t.y[i]);
        at[i] = -1;
        if (!q) continue;
        const x = Math.round(q[0] * scale), y = Math.round(q[1] * scale);
        if (x < 0 || y < 0 || x >= w || y >= h) continue;
        at[i] = (y * w + x) * 4;
        alpha[i] = 0.3 + 0.4 * t.shade[i];
      }
      p = { at, alpha, scale };
      placed.set(t, p);
      return p;
    }

    // The after layer: the server's healed look when it is of the design as it stands, or
    // the photo with the dots drawn here (while the design changes).
    let afterImage = null;
    function afterPixels() {
      const w = canvas.width, h = canvas.height;
      const key = `${view.gridsKey}|${JSON.stringify(request())}|${momentSelect.value}`;
      if (view.overlay && view.overlay.key === key && !view.drag) {
        if (!view.overlay.pixels) {
          ctx.drawImage(view.overlay.img, 0, 0, w, h);
          view.overlay.pixels = ctx.getImageData(0, 0, w, h);
        }
        return view.overlay.pixels;
      }
      if (!afterImage || afterImage.width !== w || afterImage.height !== h) afterImage = new ImageData(w, h);
      const px = afterImage.data;
      px.set(base.data);
      if (!view.grids) return afterImage;
      const upTo = Number(document.getElementById("session").value || 99);
      for (const t of designer.state.tiles.values()) {
        const { at, alpha } = tileOnPhoto(t);
        for (let i = 0; i < t.n; i++) {
          const o = at[i];
          if (o < 0 || t.session[i] > upTo) continue;
          const a = alpha[i], keep = 1 - a;
          px[o] = px[o] * keep + 40 * a;
          px[o + 1] = px[o + 1] * keep + 42 * a;
          px[o + 2] = px[o + 2] * keep + 48 * a;
        }
      }
      return afterImage;
    }

    function draw() {
      if (!view.photo || !base) return;
      const w = canvas.width, h = canvas.height;
      const after = afterPixels();
      const split = Math.round((Number(compare.value) / 100) * w);
      ctx.putImageData(after, 0, 0);
      if (split > 0) {
        // Left of the line: the photo as taken.
        ctx.putImageData(base, 0, 0, 0, 0, split, h);
        if (split < w) {
          ctx.strokeStyle = "#ffffff"; ctx.lineWidth = 2;
          ctx.beginPath(); ctx.moveTo(split, 0); ctx.lineTo(split, h); ctx.stroke();
        }
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

    // At most one drawing of the photo an animation frame: the events it includes are timed
    // to that frame.
    let frameAsked = false, drawnSeq = 0;
    function drawSoon(seq) {
      drawnSeq = Math.max(drawnSeq, seq || 0);
      if (frameAsked) return;
      frameAsked = true;
      requestAnimationFrame(() => {
        frameAsked = false;
        const t0 = performance.now();
        draw();
        const t1 = performance.now();
        // The canvas drawn in this frame's callbacks is painted with this frame.
        while (view.pending.length && view.pending[0].seq <= drawnSeq) api.latencies.push(t1 - view.pending.shift().at);
        if (api.timings.length && api.timings[api.timings.length - 1].photoMs === null) api.timings[api.timings.length - 1].photoMs = t1 - t0;
      });
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
    canvas.addEventListener(designer.moveEvent, (ev) => {
      if (!view.drag || ev.pointerId !== view.drag.id) return;
      const [cx, cy] = eventXY(ev);
      const photoXY = [cx / scale, cy / scale];
      if (view.drag.kind === "landmark") {
        const l = view.landmarks[view.drag.index];
        l.x_px = Math.round(photoXY[0] * 10) / 10;
        l.y_px = Math.round(photoXY[1] * 10) / 10;
        drawSoon();
        return;
      }
      const mm = sample(view.grids.photo_to_chart, photoXY[0], photoXY[1]);
      if (!mm) return; // off the head
      // Each move counts from its own time stamp (the same clock as performance.now()): one
      // a pointerrawupdate, the moves since the last frame where the page has pointermoves.
      const stamps = designer.pointerStamps(ev);
      const seq = designer.dragAnchorTo([Math.round(mm[0] * 100) / 100, Math.round(mm[1] * 100) / 100], Math.min(...stamps));
      for (const at of stamps) view.pending.push({ seq, at });
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
      if (view.source === "detected") view.source = "adjusted";
      else if (!view.source) view.source = "manual";
      view.overlay = null;
      showPrompt();
      draw();
      save();
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
      view.outline = [];
      view.source = "manual";
      view.found = false;
      view.skipped = new Set();
      view.grids = null; view.gridsKey = null; view.overlay = null;
      document.querySelector("input[name=photo-tool][value=landmarks]").checked = true;
      say("Place the landmarks by hand; they are saved as you place them.");
      showPrompt();
      draw();
    });
    document.querySelectorAll("input[name=photo-tool]").forEach((r) => r.addEventListener("change", draw));
    select.addEventListener("change", () => choose(select.value));
    momentSelect.addEventListener("change", () => { draw(); refreshOverlay(); });
    compare.addEventListener("input", draw);
    document.getElementById("session").addEventListener("change", draw);

    // A delta was drawn on the chart: the photo again in the next frame, with its events.
    let settle = null;
    designer.onDrawn.push((header, edit, timing) => {
      if (!view.photo) return;
      view.header = header;
      fillMoments(header.sessions);
      if (timing) api.timings.push({ ...timing, photoMs: null });
      drawSoon(edit.seq);
      // The healed look once the design stands still.
      clearTimeout(settle);
      if (!view.drag && !designer.state.drag) settle = setTimeout(refreshOverlay, 250);
    });

    // The client sheet of the version as saved, on this photo when it is a front photo with
    // landmarks (otherwise the newest such): the PNG shown here, the PDF to download.
    document.getElementById("client-sheet").addEventListener("click", async () => {
      const png = document.getElementById("sheet-link"), pdf = document.getElementById("sheet-pdf");
      const onThis = view.photo && view.photo.angle === "front" && view.landmarks.length >= 3 ? `&photo=${view.photo.id}` : "";
      const pngUrl = new URL(png.getAttribute("href").split("&photo=")[0] + onThis, location.href);
      say("Drawing the client sheet…");
      await saving;
      const res = await fetch(pngUrl);
      if (!res.ok) { say(`No client sheet: ${await errorText(res)}`); return; }
      const img = document.getElementById("sheet-img");
      img.src = URL.createObjectURL(await res.blob());
      await img.decode();
      img.hidden = false;
      png.href = pngUrl.pathname + pngUrl.search;
      pdf.href = png.getAttribute("href").replace("format=png", "format=pdf");
      png.hidden = false;
      pdf.hidden = false;
      say("Client sheet ready: open it, or download it as a PDF to hand over.");
    });

    if (photos.length) choose(photos[0].id);
  }

  document.addEventListener("DOMContentLoaded", () => {
    const root = document.getElementById("photo-view");
    if (root && document.getElementById("photo-canvas") && window.follicleDesigner) init(root, window.follicleDesigner);
  });
})();
