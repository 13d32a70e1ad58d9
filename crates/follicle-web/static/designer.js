// Follicle designer: the head chart with live dots.
//
// The design is a pattern request (the JSON `follicle pattern --design` reads). Every edit
// makes a new request; the API answers the dots in the compact binary form
// (application/vnd.follicle.pattern, see follicle_web::binary), which this script reads
// with a DataView and draws on a canvas. While dragging, at most one request is in flight:
// the newest edit waits and is sent when the answer comes, so the dots follow the pointer
// as fast as the server draws them. Each update's latency (pointer event to dots drawn) is
// kept in `window.follicleDesigner.latencies` for the end-to-end tests' benchmark.
"use strict";

const ZONES = ["hairline", "frontal", "temples", "mid_scalp", "crown", "sides_back", "scar"];
// Zone outlines have hundreds of points; every HANDLE_EVERY-th is a handle, and dragging one
// moves its neighbours with a smooth fall-off over ZONE_FALLOFF_MM.
const HANDLE_EVERY = 12;
const ZONE_FALLOFF_MM = 18;
const ZONE_COLOURS = { hairline: "#2c7fb8", frontal: "#41ab5d", temples: "#807dba", mid_scalp: "#fd8d3c", crown: "#e7298a", sides_back: "#969696", scar: "#d7301f" };

function decodePattern(buffer) {
  const view = new DataView(buffer);
  const magic = String.fromCharCode(view.getUint8(0), view.getUint8(1), view.getUint8(2), view.getUint8(3));
  if (magic !== "FPAT") throw new Error("not a Follicle pattern");
  const recordBytes = view.getUint16(6, true);
  const headerLength = view.getUint32(8, true);
  const header = JSON.parse(new TextDecoder().decode(new Uint8Array(buffer, 12, headerLength)));
  let offset = 12 + headerLength;
  offset += (4 - (offset % 4)) % 4;
  const n = header.dot_count;
  const x = new Float32Array(n), y = new Float32Array(n), d = new Float32Array(n);
  const session = new Uint8Array(n), zone = new Uint8Array(n), shade = new Float32Array(n);
  for (let i = 0; i < n; i++, offset += recordBytes) {
    x[i] = view.getInt16(offset, true) / 100;
    y[i] = view.getInt16(offset + 2, true) / 100;
    d[i] = view.getUint16(offset + 4, true) / 1000;
    session[i] = view.getUint8(offset + 6);
    zone[i] = view.getUint8(offset + 7);
    shade[i] = view.getUint8(offset + 10) / 255;
  }
  return { header, n, x, y, d, session, zone, shade };
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
    inFlight: false,
    pending: null,
    drag: null,
  };
  const api = (window.follicleDesigner = { latencies: [], updates: 0, state });
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

  function draw() {
    const p = state.pattern;
    ctx.fillStyle = "#ead9c6";
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    if (!p) return;
    const h = p.header;
    ctx.lineWidth = 1.5;
    ctx.strokeStyle = "#b39b84";
    path(h.outline, true);
    for (const z of h.zones) {
      ctx.strokeStyle = ZONE_COLOURS[z.kind] || "#888";
      ctx.setLineDash([6, 4]);
      path(z.polygon, true);
      ctx.setLineDash([]);
    }
    const upTo = Number(sessionSelect.value || h.sessions);
    const r = Math.max(0.9, 0.12 * scale);
    for (let i = 0; i < p.n; i++) {
      if (p.session[i] > upTo) continue;
      const [px, py] = toPx([p.x[i], p.y[i]]);
      ctx.fillStyle = `rgba(34, 30, 32, ${0.35 + 0.65 * p.shade[i]})`;
      ctx.fillRect(px - r / 2, py - r / 2, r, r);
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
  function path(points, close) {
    if (!points || !points.length) return;
    ctx.beginPath();
    points.forEach((pt, i) => { const [x, y] = toPx(pt); if (i) ctx.lineTo(x, y); else ctx.moveTo(x, y); });
    if (close) ctx.closePath();
    ctx.stroke();
  }

  // One request in flight; the newest waiting edit goes next.
  function regenerate(startedAt) {
    const body = JSON.stringify(state.request);
    if (state.inFlight) { state.pending = { body, startedAt }; return; }
    send(body, startedAt);
  }
  async function send(body, startedAt) {
    state.inFlight = true;
    try {
      const res = await fetch("/api/v1/pattern", {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/vnd.follicle.pattern", "X-CSRF-Token": root.dataset.csrf },
        body,
      });
      if (!res.ok) {
        const err = await res.json().catch(() => ({ error: { message: res.statusText } }));
        status.textContent = `Not drawn: ${err.error.field ? err.error.field + ": " : ""}${err.error.message}`;
      } else {
        const pattern = decodePattern(await res.arrayBuffer());
        if (!state.pattern) fit(pattern.header);
        state.pattern = pattern;
        if (!state.drag) state.anchors = pattern.header.hairline.anchors.map((a) => a.slice());
        fillSessions(pattern.header.sessions);
        draw();
        api.updates += 1;
        if (startedAt) api.latencies.push(performance.now() - startedAt);
        status.textContent = `${pattern.n.toLocaleString()} dots over ${pattern.header.sessions} sessions.`;
        refreshPlan(body);
        api.dots = pattern.n;
        let sum = 0;
        for (let i = 0; i < pattern.n; i++) sum += pattern.x[i] * 3 + pattern.y[i] * 7;
        api.checksum = sum;
      }
    } catch (e) {
      status.textContent = "The server did not answer: " + e.message;
    } finally {
      state.inFlight = false;
      if (state.pending) { const next = state.pending; state.pending = null; send(next.body, next.startedAt); }
    }
  }
  // The hours, sessions and price that go with the design as it now stands (the server plans
  // it; only the newest answer is shown).
  let planAsked = 0;
  async function refreshPlan(body) {
    const cid = root.dataset.consultation;
    const out = document.getElementById("plan-figures");
    if (!cid || !out) return;
    const asked = ++planAsked;
    try {
      const res = await fetch(`/api/v1/consultations/${cid}/design-plan`, {
        method: "POST",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": root.dataset.csrf },
        body,
      });
      const json = await res.json();
      if (asked !== planAsked) return;
      if (!res.ok) { out.textContent = `Not planned: ${json.error.field ? json.error.field + ": " : ""}${json.error.message}`; return; }
      const price = json.total === null ? "no quote" : `${json.currency} ${json.total.toLocaleString()}`;
      out.textContent = `${json.sessions} sessions · ${json.total_hours.toFixed(2)} h · ${json.total_dots.toLocaleString()} dots · ${price}`;
      api.plan = json;
    } catch (e) {
      if (asked === planAsked) out.textContent = "The server did not answer: " + e.message;
    }
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
      state.selected = best;
      state.undo.push(JSON.stringify(state.request));
      state.redo = [];
      state.drag = { id: ev.pointerId };
      canvas.setPointerCapture(ev.pointerId);
      draw();
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
  canvas.addEventListener("pointermove", (ev) => {
    if (!state.drag || ev.pointerId !== state.drag.id) return;
    const rect = canvas.getBoundingClientRect();
    const px = ((ev.clientX - rect.left) * canvas.width) / rect.width;
    const py = ((ev.clientY - rect.top) * canvas.height) / rect.height;
    const startedAt = performance.now();
    if (state.drag.zone !== undefined) {
      const now = toMm(px, py);
      const [dx, dy] = [now[0] - state.drag.start[0], now[1] - state.drag.start[1]];
      const centre = state.drag.orig[state.drag.vertex];
      state.request.zones.zones[state.drag.zone].polygon = state.drag.orig.map((p) => {
        const w = Math.exp(-((Math.hypot(p[0] - centre[0], p[1] - centre[1]) / ZONE_FALLOFF_MM) ** 2));
        return [Math.round((p[0] + w * dx) * 100) / 100, Math.round((p[1] + w * dy) * 100) / 100];
      });
      draw();
      regenerate(startedAt);
      return;
    }
    state.anchors[state.selected] = toMm(px, py);
    setAnchors();
    draw();
    regenerate(startedAt);
  });
  const endDrag = () => { if (state.drag) { state.drag = null; regenerate(null); } };
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
