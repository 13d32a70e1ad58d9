// Follicle landmarks: points on a client's photo, found by the face model or placed by hand.
//
// The photo is drawn upright on a canvas (the stored bytes have no EXIF; the page passes the
// orientation the store kept, and the canvas turns the image by it), so every point is in the
// upright photo's pixels, as the API and the renderer take them. Each point is a button over
// the canvas: drag it, or focus it and use the arrow keys (Shift: 10 px). "Find landmarks"
// asks POST /api/v1/photos/{id}/landmarks/detect; when it finds no face the status says why
// and the practitioner clicks on the photo to place the chosen landmark. "Save" sends the
// points to PUT /api/v1/photos/{id}/landmarks.
//
// For the end-to-end tests `window.follicleLandmarks` holds `points` (name → {x, y}),
// `ready` (the photo is drawn) and `source`.
"use strict";

(function () {
  const root = document.getElementById("landmarks");
  if (!root) return;
  const photoId = root.dataset.photo;
  const W = Number(root.dataset.width);
  const H = Number(root.dataset.height);
  const orientation = Number(root.dataset.orientation) || 1;
  const csrf = root.dataset.csrf;
  const stage = document.getElementById("stage");
  const canvas = document.getElementById("photo");
  const svg = document.getElementById("outline");
  const status = document.getElementById("status");
  const place = document.getElementById("place");
  const list = document.getElementById("points");
  const labels = {};
  for (const o of place.options) labels[o.value] = o.textContent;

  const state = { points: new Map(), outline: [], source: "manual", detected: false, ready: false };
  window.follicleLandmarks = state;

  function say(text) {
    status.textContent = text;
  }

  // Photo pixels per CSS pixel of the canvas as shown.
  function scale() {
    const r = canvas.getBoundingClientRect();
    return r.width > 0 ? r.width / W : 1;
  }

  function toPhoto(clientX, clientY) {
    const r = canvas.getBoundingClientRect();
    const s = scale();
    return {
      x: Math.min(W, Math.max(0, (clientX - r.left) / s)),
      y: Math.min(H, Math.max(0, (clientY - r.top) / s)),
    };
  }

  function label(name) {
    return labels[name] || name.replace(/_/g, " ");
  }

  function render() {
    const s = scale();
    for (const [name, p] of state.points) {
      let m = stage.querySelector(`[data-landmark="${name}"]`);
      if (!m) {
        m = document.createElement("button");
        m.type = "button";
        m.className = "landmark-marker";
        m.dataset.landmark = name;
        m.title = label(name);
        attach(m, name);
        stage.appendChild(m);
      }
      m.style.left = `${p.x * s}px`;
      m.style.top = `${p.y * s}px`;
      m.setAttribute("aria-label", `${label(name)} at ${Math.round(p.x)}, ${Math.round(p.y)}: drag, or use the arrow keys`);
    }
    for (const m of stage.querySelectorAll(".landmark-marker")) {
      if (!state.points.has(m.dataset.landmark)) m.remove();
    }
    svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
    svg.setAttribute("preserveAspectRatio", "none");
    svg.innerHTML = state.outline.length
      ? `<polygon points="${state.outline.map((p) => `${p[0]},${p[1]}`).join(" ")}" fill="none" stroke="#4fc3f7" stroke-width="${2 / s}" stroke-dasharray="${6 / s} ${4 / s}"/>`
      : "";
    list.innerHTML = "";
    for (const [name, p] of state.points) {
      const li = document.createElement("li");
      li.textContent = `${label(name)}: ${Math.round(p.x)}, ${Math.round(p.y)}`;
      list.appendChild(li);
    }
  }

  function moved() {
    state.source = state.detected ? "adjusted" : "manual";
  }

  function attach(marker, name) {
    marker.addEventListener("pointerdown", (e) => {
      e.preventDefault();
      marker.setPointerCapture(e.pointerId);
      marker.classList.add("dragging");
      const move = (ev) => {
        state.points.set(name, toPhoto(ev.clientX, ev.clientY));
        moved();
        render();
      };
      const up = (ev) => {
        move(ev);
        marker.classList.remove("dragging");
        marker.removeEventListener("pointermove", move);
        marker.removeEventListener("pointerup", up);
        marker.removeEventListener("pointercancel", up);
        say(`${label(name)} moved. Save to keep it.`);
      };
      marker.addEventListener("pointermove", move);
      marker.addEventListener("pointerup", up);
      marker.addEventListener("pointercancel", up);
    });
    marker.addEventListener("keydown", (e) => {
      const step = e.shiftKey ? 10 : 1;
      const d = { ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, -step], ArrowDown: [0, step] }[e.key];
      if (!d) return;
      e.preventDefault();
      const p = state.points.get(name);
      state.points.set(name, { x: Math.min(W, Math.max(0, p.x + d[0])), y: Math.min(H, Math.max(0, p.y + d[1])) });
      moved();
      render();
      marker.focus();
    });
  }

  // Clicking the photo places the chosen landmark there, then chooses the next one not placed.
  canvas.addEventListener("click", (e) => {
    const name = place.value;
    state.points.set(name, toPhoto(e.clientX, e.clientY));
    moved();
    render();
    say(`${label(name)} placed. Save to keep it.`);
    const next = [...place.options].find((o) => !state.points.has(o.value));
    if (next) place.value = next.value;
  });

  async function errorMessage(res) {
    try {
      const body = await res.json();
      return body.error.message;
    } catch (_) {
      return `the server answered ${res.status}`;
    }
  }

  document.getElementById("find").addEventListener("click", async () => {
    say("Looking for the face…");
    try {
      const res = await fetch(`/api/v1/photos/${photoId}/landmarks/detect`, {
        method: "POST",
        headers: { "X-CSRF-Token": csrf },
      });
      if (!res.ok) {
        const message = await errorMessage(res);
        say(`No landmarks found: ${message}. Choose a landmark below and click on the photo to place it.`);
        place.focus();
        return;
      }
      const found = await res.json();
      state.points = new Map(found.points.map((p) => [p.name, { x: p.x_px, y: p.y_px }]));
      state.outline = found.outline;
      state.detected = true;
      state.source = "detected";
      render();
      say(`Found ${found.points.length} landmarks and the face outline: drag any that are off, then Save.`);
    } catch (e) {
      say(`No landmarks found (${e.message}). Choose a landmark below and click on the photo to place it.`);
    }
  });

  document.getElementById("save").addEventListener("click", async () => {
    const body = {
      points: [...state.points].map(([name, p]) => ({ name, x_px: p.x, y_px: p.y })),
      outline: state.outline,
      source: state.source,
    };
    say("Saving…");
    const res = await fetch(`/api/v1/photos/${photoId}/landmarks`, {
      method: "PUT",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify(body),
    });
    if (!res.ok) {
      say(`Not saved: ${await errorMessage(res)}`);
      return;
    }
    say(`Saved ${body.points.length} landmarks.`);
  });

  // The photo, turned upright by its EXIF orientation (the standard transforms for 1–8).
  const image = new Image();
  image.onload = () => {
    canvas.width = W;
    canvas.height = H;
    const ctx = canvas.getContext("2d");
    const t = uprightTransform(orientation, W, H);
    if (t) ctx.setTransform(...t);
    ctx.drawImage(image, 0, 0);
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    state.ready = true;
    render();
  };
  image.onerror = () => say("The photo could not be loaded.");
  image.src = `/api/v1/photos/${photoId}`;

  if (root.dataset.saved) {
    const saved = JSON.parse(root.dataset.saved);
    state.points = new Map(saved.points.map((p) => [p.name, { x: p.x_px, y: p.y_px }]));
    state.outline = saved.outline;
    state.source = saved.source;
    state.detected = saved.source !== "manual";
  }
  window.addEventListener("resize", render);
})();
