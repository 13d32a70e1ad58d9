// Follicle designer: the head chart with live dots.
//
// The design is a pattern request (the JSON `follicle pattern --design` reads). When the page
// opens it asks for an edit session (POST /api/v1/designer-sessions); every edit then goes to
// the session (POST /api/v1/designer-sessions/{id}/edits) with a sequence number and the
// version of the dots this page holds, and the answer is a delta in the binary form
// (application/vnd.follicle.pattern version 2, see follicle_web::binary): the 16 mm tiles of
// the chart whose dots changed, with their new dots, and the plan's hours, sessions and price
// in its header. The page keeps its dots by tile, replaces the tiles a delta lists and redraws.
//
// The newest edit supersedes: when the server keeps up with the pointer, a new edit aborts the
// request in flight and is sent at once (the server drops an edit superseded before or while it
// is drawn, stopping its drawing within a tile, and answers 409); when it does not keep up, the
// newest edit waits for the answer in flight instead (aborting every edit for a newer one would
// leave nothing drawn while the pointer moves: the server draws one edit of a session at a
// time). While the pointer moves the server previews each edit (only the tiles whose density
// changed are drawn afresh); letting go of the pointer sends the design once more with
// `release`, which the server draws exactly: the dots after a drag are exactly the pattern's.
//
// For the end-to-end tests' benchmark `window.follicleDesigner` keeps `latencies` (each drawn
// update: its pointer event to its dots on the canvas), `timings` (each drawn update broken
// down: the event to the edit sent, the round trip and the server's part of it (its Server-Timing),
// the delta applied, the chart drawn, the
// tiles), `eventLatencies` (each pointer event: to the first drawing that includes it), and
// `dots` and `checksum` of what is drawn
// (`checksumOf` gives the same for a whole pattern from POST /api/v1/pattern).
"use strict";

const ZONES = ["hairline", "frontal", "temples", "mid_scalp", "crown", "sides_back", "scar"];
// Zone outlines have hundreds of points; every HANDLE_EVERY-th is a handle, and dragging one
// moves its neighbours with a smooth fall-off over ZONE_FALLOFF_MM.
const HANDLE_EVERY = 12;
const ZONE_FALLOFF_MM = 18;
const ZONE_COLOURS = { hairline: "#2c7fb8", frontal: "#41ab5d", temples: "#807dba", mid_scalp: "#fd8d3c", crown: "#e7298a", sides_back: "#969696", scar: "#d7301f" };
const RECORD_BYTES = 12;
const TILE_HUNDREDTHS = 1600;
// With nothing drawn for this long, an edit in flight is never aborted (it is let through).
const STARVING_MS = 150;

// The magic, version, header and the offset of the bytes after it.
function readFrame(buffer) {
  const view = new DataView(buffer);
  const magic = String.fromCharCode(view.getUint8(0), view.getUint8(1), view.getUint8(2), view.getUint8(3));
  if (magic !== "FPAT") throw new Error("not a Follicle pattern");
  const version = view.getUint16(4, true);
  if (view.getUint16(6, true) !== RECORD_BYTES) throw new Error("unknown record size");
  const headerLength = view.getUint32(8, true);
  const header = JSON.parse(new TextDecoder().decode(new Uint8Array(buffer, 12, headerLength)));
  let offset = 12 + headerLength;
  offset += (4 - (offset % 4)) % 4;
  return { view, version, header, offset };
}

// A checksum of dot records that does not depend on their order: the sum of each record's
// FNV-1a hash, modulo 2^32.
function recordsChecksum(bytes, from, n) {
  let sum = 0;
  for (let i = 0, o = from; i < n; i++, o += RECORD_BYTES) {
    let h = 0x811c9dc5;
    for (let k = 0; k < RECORD_BYTES; k++) h = Math.imul(h ^ bytes[o + k], 0x01000193);
    sum = (sum + (h >>> 0)) >>> 0;
  }
  return sum;
}

// One tile's dots, decoded from its records (a copy, so the answer's buffer can go).
function decodeTile(buffer, offset, n) {
  const rec = new Uint8Array(buffer.slice(offset, offset + n * RECORD_BYTES));
  const view = new DataView(rec.buffer);
  const x = new Float32Array(n), y = new Float32Array(n);
  const session = new Uint8Array(n), shade = new Float32Array(n);
  for (let i = 0, o = 0; i < n; i++, o += RECORD_BYTES) {
    x[i] = view.getInt16(o, true) / 100;
    y[i] = view.getInt16(o + 2, true) / 100;
    session[i] = rec[o + 6];
    shade[i] = rec[o + 10] / 255;
  }
  return { n, x, y, session, shade, sum: recordsChecksum(rec, 0, n) };
}

// Applies a delta (version 2) to the tiles (a Map "col,row" → tile). Returns its header.
function applyDelta(buffer, tiles) {
  const { view, version, header, offset } = readFrame(buffer);
  if (version !== 2) throw new Error(`expected a delta (version 2), got version ${version}`);
  const d = header.delta;
  if (d.base === null) tiles.clear();
  let at = offset + d.tiles * 8;
  for (let t = 0, e = offset; t < d.tiles; t++, e += 8) {
    const col = view.getInt16(e, true), row = view.getInt16(e + 2, true), n = view.getUint32(e + 4, true);
    const key = `${col},${row}`;
    if (n === 0) tiles.delete(key); else tiles.set(key, decodeTile(buffer, at, n));
    at += n * RECORD_BYTES;
  }
  if (at !== buffer.byteLength) throw new Error("the delta's records do not match its tile table");
  return header;
}

function circle(cx, cy, r, steps = 20) {
  const pts = [];
  for (let i = 0; i < steps; i++) {
    const a = (2 * Math.PI * i) / steps;
    pts.push([Math.round((cx + r * Math.cos(a)) * 100) / 100, Math.round((cy + r * Math.sin(a)) * 100) / 100]);
  }
  return pts;
}

function init(root) {
  const canvas = document.getElementById("chart");
  const ctx = canvas.getContext("2d");
  const status = document.getElementById("status");
  const sessionSelect = document.getElementById("session");
  const baseDensity = JSON.parse(root.dataset.request).density_per_cm2;
  const state = {
    request: JSON.parse(root.dataset.request),
    pattern: null,
    anchors: null,
    selected: 0,
    undo: [],
    redo: [],
    tiles: new Map(), // "col,row" → the tile's dots
    dotsVersion: 0, // counts changes of the tiles
    version: null, // the version of the dots held (the server's), the base of the next delta
    session: null, // the edit session's id (a promise while it is being opened)
    seq: 0,
    inFlight: null, // { seq, controller, sentAt, startedAt, release }
    pending: null, // the newest edit waiting for the one in flight: { seq, startedAt, release }
    drag: null,
  };
  const api = (window.follicleDesigner = { latencies: [], timings: [], eventLatencies: [], updates: 0, superseded: 0, state });
  // The time stamps of the moves a pointer event stands for (the same clock as
  // performance.now()): its own, or those of the moves the browser coalesced into a
  // pointermove. A drag is timed from them, not from its handler. The photo view times its
  // drags by them too.
  api.pointerStamps = (ev) => {
    const coalesced = typeof ev.getCoalescedEvents === "function" ? ev.getCoalescedEvents() : [];
    return coalesced.length ? coalesced.map((e) => e.timeStamp) : [ev.timeStamp];
  };
  // The event a drag follows. Chromium's pointerrawupdate comes as soon as the pointer moves;
  // pointermove waits for the next animation frame (7-9 ms in the drag tests), and a drag's
  // edit is sent from its handler. The raw events can come at the mouse's own rate (up to
  // 1 kHz), so the handles are drawn at most once a frame (drawSoon), after the edit is sent.
  api.moveEvent = "onpointerrawupdate" in window ? "pointerrawupdate" : "pointermove";
  api.checksumOf = (buffer) => {
    const { header, offset } = readFrame(buffer);
    return { dots: header.dot_count, checksum: recordsChecksum(new Uint8Array(buffer), offset, header.dot_count) };
  };
  document.getElementById("style").value = state.request.hairline.style || "soft";

  // Chart mm → canvas px: the forehead (y > 0) at the top.
  let scale = 2, cx = 450, cy = 450;
  function fit(header) {
    const pts = header.outline.concat(header.hairline.points);
    let r = 10;
    for (const [px, py] of pts) r = Math.max(r, Math.abs(px), Math.abs(py));
    scale = (canvas.width / 2 - 20) / r;
  }
  const toPx = (p) => [cx + p[0] * scale, cy - p[1] * scale];
  const toMm = (px, py) => [(px - cx) / scale, (cy - py) / scale];
  // Where hairline point i is on the page, for tests and tools driving the designer.
  api.anchorClientXY = (i) => {
    const [px, py] = toPx(state.anchors[i]);
    const rect = canvas.getBoundingClientRect();
    return [rect.left + (px * rect.width) / canvas.width, rect.top + (py * rect.height) / canvas.height];
  };

  // The dots are drawn into pixels (a 1-pixel square per dot at the chart's scale, blended
  // like a fill with the dot's opacity): tens of thousands of fillRect calls with their own
  // colour strings would take longer than the server takes to answer.
  // The pixels are kept until the dots or the sessions shown change (moving a handle redraws
  // only the lines over them).
  let image = null, pixels32 = null, imageOf = null;
  const BACKGROUND = [0xea, 0xd9, 0xc6];
  function drawDots(upTo) {
    if (!image || image.width !== canvas.width || image.height !== canvas.height) {
      image = ctx.createImageData(canvas.width, canvas.height);
      pixels32 = new Uint32Array(image.data.buffer);
      imageOf = null;
    }
    if (imageOf && imageOf.version === state.dotsVersion && imageOf.upTo === upTo && imageOf.scale === scale) {
      ctx.putImageData(image, 0, 0);
      return;
    }
    imageOf = { version: state.dotsVersion, upTo, scale };
    const w = image.width, h = image.height, px = image.data;
    // Little-endian RGBA in one word (every browser this runs in is little-endian; the
    // fallback fills byte by byte).
    if (new Uint8Array(new Uint32Array([1]).buffer)[0] === 1) {
      pixels32.fill((0xff << 24) | (BACKGROUND[2] << 16) | (BACKGROUND[1] << 8) | BACKGROUND[0]);
    } else {
      for (let i = 0; i < px.length; i += 4) { px[i] = BACKGROUND[0]; px[i + 1] = BACKGROUND[1]; px[i + 2] = BACKGROUND[2]; px[i + 3] = 255; }
    }
    const side = Math.max(1, Math.round(Math.max(0.9, 0.12 * scale)));
    const half = side / 2;
    for (const t of state.tiles.values()) {
      for (let i = 0; i < t.n; i++) {
        if (t.session[i] > upTo) continue;
        const x0 = Math.round(cx + t.x[i] * scale - half), y0 = Math.round(cy - t.y[i] * scale - half);
        if (x0 < 0 || y0 < 0 || x0 + side > w || y0 + side > h) continue;
        const a = 0.35 + 0.65 * t.shade[i], keep = 1 - a;
        for (let yy = y0; yy < y0 + side; yy++) {
          for (let o = (yy * w + x0) * 4, end = o + side * 4; o < end; o += 4) {
            px[o] = px[o] * keep + 34 * a;
            px[o + 1] = px[o + 1] * keep + 30 * a;
            px[o + 2] = px[o + 2] * keep + 32 * a;
          }
        }
      }
    }
    ctx.putImageData(image, 0, 0);
  }

  function draw() {
    const p = state.pattern;
    if (!p) {
      ctx.fillStyle = "#ead9c6";
      ctx.fillRect(0, 0, canvas.width, canvas.height);
      return;
    }
    const h = p.header;
    drawDots(Number(sessionSelect.value || h.sessions));
    ctx.lineWidth = 1.5;
    ctx.strokeStyle = "#b39b84";
    path(h.outline, true);
    for (const z of h.zones) {
      ctx.strokeStyle = ZONE_COLOURS[z.kind] || "#888";
      ctx.setLineDash([6, 4]);
      path(z.polygon, true);
      ctx.setLineDash([]);
    }
    if (tool() === "zones") {
      for (const z of currentZones()) {
        ctx.fillStyle = ZONE_COLOURS[z.kind] || "#888";
        z.polygon.forEach((pt, j) => {
          if (j % HANDLE_EVERY) return;
          const [x, y] = toPx(pt);
          ctx.fillRect(x - 4, y - 4, 8, 8);
        });
      }
    }
    ctx.strokeStyle = "#1d5f8a";
    ctx.lineWidth = 2;
    path(h.hairline.points, false);
    state.anchors.forEach((a, i) => {
      const [px, py] = toPx(a);
      ctx.beginPath();
      ctx.arc(px, py, i === state.selected ? 9 : 7, 0, 2 * Math.PI);
      ctx.fillStyle = i === state.selected ? "#f0b429" : "#ffffff";
      ctx.fill();
      ctx.strokeStyle = "#1d5f8a";
      ctx.stroke();
    });
  }
  // draw() at the next animation frame, once however often it is asked before then.
  let frameAsked = false;
  function drawSoon() {
    if (frameAsked) return;
    frameAsked = true;
    requestAnimationFrame(() => { frameAsked = false; draw(); });
  }
  function path(points, close) {
    if (!points || !points.length) return;
    ctx.beginPath();
    points.forEach((pt, i) => { const [x, y] = toPx(pt); if (i) ctx.lineTo(x, y); else ctx.moveTo(x, y); });
    if (close) ctx.closePath();
    ctx.stroke();
  }

  // The edit session: opened once, again when the server has forgotten it (404).
  function openSession() {
    if (!state.session) {
      const cid = root.dataset.consultation;
      state.session = fetch("/api/v1/designer-sessions", {
        method: "POST",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": root.dataset.csrf },
        body: JSON.stringify({ consultation_id: cid || null }),
      }).then(async (res) => {
        const json = await res.json();
        if (!res.ok) { state.session = null; throw new Error(json.error ? json.error.message : res.statusText); }
        state.session = json.id;
        return json.id;
      }, (e) => { state.session = null; throw e; });
    }
    return Promise.resolve(state.session);
  }
  window.addEventListener("pagehide", () => {
    if (typeof state.session === "string") {
      fetch(`/api/v1/designer-sessions/${state.session}`, { method: "DELETE", keepalive: true, headers: { "X-CSRF-Token": root.dataset.csrf } }).catch(() => {});
    }
  });

  // Round trips and pointer intervals (smoothed): whether the server keeps up with the pointer.
  let roundTripMs = null, intervalMs = null, lastEditAt = null, lastDrawAt = performance.now();
  const smooth = (old, x) => (old === null ? x : 0.7 * old + 0.3 * x);
  const events = []; // pointer events not yet drawn: { seq, at }

  // A new edit (the design is state.request): sent now, or after the answer in flight.
  function regenerate(startedAt, release = !state.drag) {
    const seq = ++state.seq;
    const now = performance.now();
    if (startedAt) {
      events.push({ seq, at: startedAt });
      if (lastEditAt !== null && now - lastEditAt < 1000) intervalMs = smooth(intervalMs, now - lastEditAt);
      lastEditAt = now;
    }
    const edit = { seq, startedAt, release };
    const flying = state.inFlight;
    if (flying) {
      const keepsUp = roundTripMs !== null && intervalMs !== null && roundTripMs < intervalMs;
      const starving = now - lastDrawAt > STARVING_MS;
      // A move overtakes an edit no pointer made (a taken hairline point's control points): it
      // carries the same change, so the one in flight is aborted for it rather than waited for.
      const overtakes = startedAt && !flying.startedAt && !flying.release;
      if (!overtakes && (!keepsUp || starving)) {
        // Let the answer in flight come; the newest edit waits (an older waiting one is dropped).
        if (state.pending) api.superseded += 1;
        state.pending = edit;
        return;
      }
      flying.controller.abort();
      api.superseded += 1;
    }
    if (state.pending) { state.pending = null; api.superseded += 1; }
    send(edit);
  }

  async function send(edit) {
    const controller = new AbortController();
    const flight = { ...edit, controller, sentAt: performance.now() };
    state.inFlight = flight;
    try {
      const id = await openSession();
      const res = await fetch(`/api/v1/designer-sessions/${id}/edits`, {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/vnd.follicle.pattern", "X-CSRF-Token": root.dataset.csrf },
        body: JSON.stringify({ seq: edit.seq, base: state.version, release: edit.release, request: state.request }),
        signal: controller.signal,
      });
      if (res.status === 404) {
        // The server forgot the session (expired, or restarted): a new one, and every tile.
        await res.body?.cancel();
        if (state.session === id) state.session = null;
        state.version = null;
        if (state.inFlight === flight && !state.pending && !edit.reopened) state.pending = { ...edit, reopened: true };
        else if (edit.reopened) status.textContent = "Not drawn: the server keeps no designer session for this page; reload it.";
        return;
      }
      if (res.status === 409) { await res.body?.cancel(); return; } // superseded: a newer edit is on its way
      if (!res.ok) {
        const err = await res.json().catch(() => ({ error: { message: res.statusText } }));
        if (state.inFlight === flight) status.textContent = `Not drawn: ${err.error.field ? err.error.field + ": " : ""}${err.error.message}`;
        return;
      }
      const buffer = await res.arrayBuffer();
      if (state.inFlight !== flight) return; // superseded while it was read
      const received = performance.now();
      roundTripMs = smooth(roundTripMs, received - flight.sentAt);
      state.dotsVersion += 1;
      const header = applyDelta(buffer, state.tiles);
      state.version = header.delta.version;
      const serverTiming = /(?:^|,)\s*edit;dur=([\d.]+)/.exec(res.headers.get("Server-Timing") || "");
      const timing = {
        waitMs: edit.startedAt ? flight.sentAt - edit.startedAt : null, // the event to the edit sent
        roundTripMs: received - flight.sentAt, // sent to the whole answer read
        serverMs: serverTiming ? Number(serverTiming[1]) : null, // of which the server's (Server-Timing)
        applyMs: performance.now() - received, // the delta decoded into the tiles
        tiles: header.delta.tiles,
        chartMs: null,
      };
      drawn(header, edit, timing);
    } catch (e) {
      if (e.name === "AbortError") return;
      if (state.inFlight === flight) status.textContent = "The server did not answer: " + e.message;
      // The tiles may be half patched: ask for all of them next time.
      state.version = null;
    } finally {
      if (state.inFlight === flight) {
        state.inFlight = null;
        if (state.pending) { const next = state.pending; state.pending = null; send(next); }
      }
    }
  }

  // A delta was applied: redraw, and keep the figures.
  function drawn(header, edit, timing = null) {
    let n = 0, sum = 0;
    for (const t of state.tiles.values()) { n += t.n; sum = (sum + t.sum) >>> 0; }
    if (n !== header.dot_count) throw new Error(`${n} dots after the delta, expected ${header.dot_count}`);
    const first = !state.pattern;
    state.pattern = { header, n };
    if (first) fit(header);
    if (!state.drag) state.anchors = header.hairline.anchors.map((a) => a.slice());
    fillSessions(header.sessions);
    const before = performance.now();
    draw();
    const now = performance.now();
    if (timing) {
      timing.chartMs = now - before;
      api.timings.push(timing);
    }
    lastDrawAt = now;
    api.updates += 1;
    api.dots = n;
    api.checksum = sum;
    api.version = header.delta.version;
    for (const f of api.onDrawn) f(header, edit, timing);
    if (edit.startedAt) api.latencies.push(now - edit.startedAt);
    while (events.length && events[0].seq <= edit.seq) api.eventLatencies.push(now - events.shift().at);
    status.textContent = `${n.toLocaleString()} dots over ${header.sessions} sessions.`;
    showPlan(header.plan);
  }

  // The hours, sessions and price that go with the design as it now stands (planned by the
  // server with the dots, in the same answer).
  function showPlan(plan) {
    const out = document.getElementById("plan-figures");
    if (!plan || !out) return;
    if (plan.error) { out.textContent = `Not planned: ${plan.error.field ? plan.error.field + ": " : ""}${plan.error.message}`; return; }
    const price = plan.total === null ? "no quote" : `${plan.currency} ${plan.total.toLocaleString()}`;
    out.textContent = `${plan.sessions} sessions · ${plan.total_hours.toFixed(2)} h · ${plan.total_dots.toLocaleString()} dots · ${price}`;
    api.plan = plan;
  }
  function fillSessions(n) {
    if (sessionSelect.options.length === n) return;
    const keep = sessionSelect.value;
    sessionSelect.innerHTML = "";
    for (let s = 1; s <= n; s++) {
      const o = document.createElement("option");
      o.value = String(s);
      o.textContent = s === n ? `All ${n} sessions` : `After session ${s}`;
      sessionSelect.appendChild(o);
    }
    sessionSelect.value = keep && Number(keep) <= n ? keep : String(n);
  }

  // Edits: every change is a new request on the undo stack.
  function edit(change, startedAt) {
    state.undo.push(JSON.stringify(state.request));
    state.redo = [];
    change(state.request);
    regenerate(startedAt);
  }
  function setAnchors() {
    state.request.hairline.shape = { kind: "control_points", points: state.anchors.map((a) => [Math.round(a[0] * 100) / 100, Math.round(a[1] * 100) / 100]) };
  }
  // Where the first handle of the first zone of a kind is on the page (for tests and tools).
  api.zoneHandleClientXY = (kind) => {
    const z = currentZones().find((z) => z.kind === kind);
    if (!z) return null;
    const [px, py] = toPx(z.polygon[0]);
    const rect = canvas.getBoundingClientRect();
    return [rect.left + (px * rect.width) / canvas.width, rect.top + (py * rect.height) / canvas.height];
  };
  function currentZones() {
    if (state.request.zones.kind === "explicit") return state.request.zones.zones;
    return state.pattern ? state.pattern.header.zones : [];
  }
  function explicitZones() {
    if (state.request.zones.kind !== "explicit") {
      state.request.zones = { kind: "explicit", zones: state.pattern.header.zones.map((z) => ({ kind: z.kind, polygon: z.polygon })) };
    }
  }

  // The photo view (photo-view.js) drags hairline points on the photo through these, and
  // redraws its dots when a delta has been drawn (api.onDrawn).
  api.onDrawn = [];
  // A hairline point taken (by the pointer `id`; the photo view's drags are "photo").
  api.startAnchorDrag = (i, id = "photo") => {
    state.selected = i;
    state.undo.push(JSON.stringify(state.request));
    state.redo = [];
    state.drag = { id };
    toControlPoints();
    draw();
  };
  // A hairline point taken: the line becomes the curve through its points, which differs a
  // little from the rules' curve all along it (on a Norwood VII, a preview of half again as
  // many tiles as a move's). That change is sent at once, before the pointer moves, so that
  // the drag's first move costs only the move when the pointer rests a moment; a move made
  // before its answer aborts it and carries the change itself (see `regenerate`).
  function toControlPoints() {
    if (state.request.hairline.shape && state.request.hairline.shape.kind === "control_points") return;
    setAnchors();
    regenerate(null);
  }
  api.dragAnchorTo = (mm, startedAt) => {
    state.anchors[state.selected] = mm;
    setAnchors();
    regenerate(startedAt);
    drawSoon();
    return state.seq;
  };
  api.endAnchorDrag = () => endDrag();

  const tool = () => document.querySelector("input[name=tool]:checked").value;
  canvas.addEventListener("pointerdown", (ev) => {
    if (!state.pattern) return;
    const rect = canvas.getBoundingClientRect();
    const px = ((ev.clientX - rect.left) * canvas.width) / rect.width;
    const py = ((ev.clientY - rect.top) * canvas.height) / rect.height;
    if (tool() === "zones") {
      let best = null, bestD = 16;
      currentZones().forEach((z, zi) => z.polygon.forEach((pt, vi) => {
        if (vi % HANDLE_EVERY) return;
        const [x, y] = toPx(pt);
        const d = Math.hypot(x - px, y - py);
        if (d < bestD) { best = { zi, vi }; bestD = d; }
      }));
      if (!best) return;
      state.undo.push(JSON.stringify(state.request));
      state.redo = [];
      explicitZones();
      const poly = state.request.zones.zones[best.zi].polygon;
      state.drag = { id: ev.pointerId, zone: best.zi, vertex: best.vi, start: toMm(px, py), orig: poly.map((p) => p.slice()) };
      canvas.setPointerCapture(ev.pointerId);
      return;
    }
    if (tool() === "move") {
      let best = -1, bestD = 22;
      state.anchors.forEach((a, i) => { const [ax, ay] = toPx(a); const d = Math.hypot(ax - px, ay - py); if (d < bestD) { best = i; bestD = d; } });
      if (best < 0) return;
      canvas.setPointerCapture(ev.pointerId);
      api.startAnchorDrag(best, ev.pointerId);
    } else {
      const at = toMm(px, py);
      const r = Number(document.getElementById("brush").value) || 12;
      edit((req) => {
        if (tool() === "paint") {
          explicitZones();
          req.zones.zones.push({ kind: document.getElementById("paint-zone").value, polygon: circle(at[0], at[1], r) });
        } else {
          req.exclusions = (req.exclusions || []).concat([{ kind: "circle", center_mm: [Math.round(at[0] * 100) / 100, Math.round(at[1] * 100) / 100], radius_mm: r }]);
        }
      }, performance.now());
    }
  });
  canvas.addEventListener(api.moveEvent, (ev) => {
    if (!state.drag || ev.pointerId !== state.drag.id) return;
    const rect = canvas.getBoundingClientRect();
    const px = ((ev.clientX - rect.left) * canvas.width) / rect.width;
    const py = ((ev.clientY - rect.top) * canvas.height) / rect.height;
    const startedAt = Math.min(...api.pointerStamps(ev));
    if (state.drag.zone !== undefined) {
      const now = toMm(px, py);
      const [dx, dy] = [now[0] - state.drag.start[0], now[1] - state.drag.start[1]];
      const centre = state.drag.orig[state.drag.vertex];
      state.request.zones.zones[state.drag.zone].polygon = state.drag.orig.map((p) => {
        const w = Math.exp(-((Math.hypot(p[0] - centre[0], p[1] - centre[1]) / ZONE_FALLOFF_MM) ** 2));
        return [Math.round((p[0] + w * dx) * 100) / 100, Math.round((p[1] + w * dy) * 100) / 100];
      });
      regenerate(startedAt);
      drawSoon();
      return;
    }
    api.dragAnchorTo(toMm(px, py), startedAt);
  });
  // Letting go: the design once more, drawn exactly (release).
  const endDrag = () => { if (state.drag) { state.drag = null; regenerate(null, true); } };
  canvas.addEventListener("pointerup", endDrag);
  canvas.addEventListener("pointercancel", endDrag);

  canvas.addEventListener("keydown", (ev) => {
    if (!state.anchors) return;
    if (ev.key === "[" || ev.key === "]") {
      const n = state.anchors.length;
      state.selected = (state.selected + (ev.key === "]" ? 1 : n - 1)) % n;
      draw();
      ev.preventDefault();
      return;
    }
    const step = ev.shiftKey ? 5 : 1;
    const d = { ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, step], ArrowDown: [0, -step] }[ev.key];
    if (!d) return;
    ev.preventDefault();
    edit(() => {
      const a = state.anchors[state.selected];
      state.anchors[state.selected] = [a[0] + d[0], a[1] + d[1]];
      setAnchors();
    }, performance.now());
  });

  function restore(from, to) {
    if (!from.length) return;
    to.push(JSON.stringify(state.request));
    state.request = JSON.parse(from.pop());
    state.anchors = null;
    state.drag = null;
    regenerate(null);
  }
  document.getElementById("undo").addEventListener("click", () => restore(state.undo, state.redo));
  document.getElementById("redo").addEventListener("click", () => restore(state.redo, state.undo));
  document.addEventListener("keydown", (ev) => {
    if (!(ev.ctrlKey || ev.metaKey) || ev.key.toLowerCase() !== "z") return;
    ev.preventDefault();
    if (ev.shiftKey) restore(state.redo, state.undo); else restore(state.undo, state.redo);
  });
  document.getElementById("style").addEventListener("change", (ev) => edit((req) => { req.hairline.style = ev.target.value; }, performance.now()));
  document.getElementById("density").addEventListener("change", (ev) => edit((req) => {
    const f = Number(ev.target.value);
    for (const z of Object.keys(baseDensity)) req.density_per_cm2[z] = Math.round(baseDensity[z] * f * 10) / 10;
  }, performance.now()));
  sessionSelect.addEventListener("change", draw);
  document.querySelectorAll("input[name=tool]").forEach((r) => r.addEventListener("change", draw));

  document.getElementById("render").addEventListener("click", async () => {
    const img = document.getElementById("preview");
    const m = document.getElementById("moment").value;
    const moment = m === "healed" ? null : m;
    status.textContent = "Drawing the preview…";
    const res = await fetch("/api/v1/preview", {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": root.dataset.csrf },
      body: JSON.stringify({ design: state.request, view: "front", moment, size: 512 }),
    });
    if (!res.ok) { status.textContent = "No preview: " + (await res.text()); return; }
    img.src = URL.createObjectURL(await res.blob());
    img.alt = `Front view, ${m === "healed" ? "healed after the last session" : m.replace("years:", "") + " years later"}`;
    img.hidden = false;
    status.textContent = "Preview drawn.";
  });

  document.getElementById("save").addEventListener("click", async () => {
    const out = document.getElementById("save-status");
    const body = { request: state.request, seed: state.request.seed, notes: document.getElementById("notes").value };
    if (root.dataset.consultation) body.consultation_id = root.dataset.consultation;
    const res = await fetch(`/api/v1/clients/${root.dataset.client}/designs`, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": root.dataset.csrf },
      body: JSON.stringify(body),
    });
    const json = await res.json();
    if (!res.ok) { out.textContent = `Not saved: ${json.error.field ? json.error.field + ": " : ""}${json.error.message}`; out.className = "error"; return; }
    out.textContent = `Saved as version ${json.version}${json.quote_number ? ", quote " + json.quote_number : ""}.`;
    window.location.href = `/designs/${json.id}`;
  });

  regenerate(null);
}

document.addEventListener("DOMContentLoaded", () => {
  const root = document.getElementById("designer");
  if (root) init(root);
});
