// The diary's drag (issue 14): an appointment that may move (booked or confirmed) is dragged
// with the pointer to a free slot of the week or day view and dropped there; the move is sent
// to PUT /api/v1/appointments/{id}/time with the slot's start and practitioner (or room, in the
// view by room), and the diary reloads. A refusal (too soon after the last session, a double booking, outside the hours)
// is shown above the diary, word for word. Without this script, an appointment is moved with
// the form on its page.
(() => {
  const table = document.getElementById("diary");
  if (!table) return;
  const message = document.getElementById("diary-message");
  let drag = null;

  const say = (text, bad) => {
    message.textContent = text;
    message.className = bad ? "error" : "ok";
  };

  const slotAt = (x, y) => {
    const el = document.elementFromPoint(x, y);
    return el && el.closest ? el.closest("td.slot") : null;
  };

  table.addEventListener("pointerdown", (e) => {
    const cell = e.target.closest("td.appt.movable");
    if (!cell || e.button !== 0 || e.target.closest("a")) return;
    e.preventDefault();
    drag = { cell, id: cell.dataset.id, over: null, x: e.clientX, y: e.clientY, moved: false };
    cell.setPointerCapture(e.pointerId);
    cell.classList.add("dragging");
  });

  table.addEventListener("pointermove", (e) => {
    if (!drag) return;
    if (Math.abs(e.clientX - drag.x) + Math.abs(e.clientY - drag.y) > 4) drag.moved = true;
    const slot = slotAt(e.clientX, e.clientY);
    if (slot === drag.over) return;
    if (drag.over) drag.over.classList.remove("drop");
    drag.over = slot;
    if (slot) slot.classList.add("drop");
  });

  const end = async (e, cancelled) => {
    if (!drag) return;
    const { cell, id, over, moved } = drag;
    drag = null;
    cell.classList.remove("dragging");
    if (over) over.classList.remove("drop");
    if (cancelled || !moved || !over) return;
    say("Moving…", false);
    try {
      const res = await fetch(`/api/v1/appointments/${id}/time`, {
        method: "PUT",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": table.dataset.csrf },
        // A practitioner's column keeps the room, a room's column keeps the practitioner.
        body: JSON.stringify({
          starts_at: over.dataset.startsAt,
          ...(over.dataset.practitioner ? { practitioner_id: over.dataset.practitioner } : {}),
          ...(over.dataset.room ? { room: over.dataset.room } : {}),
        }),
      });
      if (res.ok) {
        const url = new URL(window.location.href);
        url.searchParams.set("moved", "1");
        window.location.assign(url.toString());
        return;
      }
      const body = await res.json().catch(() => ({}));
      const error = body.error || {};
      const field = error.field ? `${error.field}: ` : "";
      say(`Not moved. ${field}${error.message || res.statusText}`, true);
    } catch (err) {
      say(`Not moved: ${err}`, true);
    }
  };
  table.addEventListener("pointerup", (e) => end(e, false));
  table.addEventListener("pointercancel", (e) => end(e, true));
})();
