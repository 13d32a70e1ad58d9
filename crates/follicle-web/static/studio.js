// Follicle studio: small progressive enhancements. Every page works without this script.
"use strict";

// The standard transforms that turn a stored photo upright by its EXIF orientation (2–8), for
// a W × H upright canvas (`ctx.setTransform(...t)`); undefined when it is upright already. The
// photo view and the landmarks page draw photos with it.
function uprightTransform(orientation, W, H) {
  return {
    2: [-1, 0, 0, 1, W, 0],
    3: [-1, 0, 0, -1, W, H],
    4: [1, 0, 0, -1, 0, H],
    5: [0, 1, 1, 0, 0, 0],
    6: [0, 1, -1, 0, W, 0],
    7: [0, -1, -1, 0, W, H],
    8: [0, -1, 1, 0, 0, H],
  }[orientation];
}

// The consultation wizard: one step at a time, with a step list; without script all show.
function initSteps(form) {
  const steps = Array.from(form.querySelectorAll("fieldset.step"));
  const list = form.querySelector(".steps");
  if (!steps.length || !list) return;
  form.classList.add("js-steps");
  list.hidden = false;
  // A step with an error opens first.
  let current = Math.max(0, steps.findIndex((s) => s.querySelector("[aria-invalid=true]")));
  const buttons = steps.map((step, i) => {
    const li = document.createElement("li");
    const b = document.createElement("button");
    b.type = "button";
    b.textContent = `${i + 1}. ${step.dataset.title}`;
    b.addEventListener("click", () => show(i));
    li.appendChild(b);
    list.appendChild(li);
    return b;
  });
  function show(i) {
    current = i;
    steps.forEach((s, j) => (s.hidden = j !== i));
    buttons.forEach((b, j) => { if (j === i) b.setAttribute("aria-current", "step"); else b.removeAttribute("aria-current"); });
  }
  steps.forEach((step, i) => {
    if (i < steps.length - 1) {
      const next = document.createElement("button");
      next.type = "button";
      next.className = "secondary";
      next.textContent = "Next: " + steps[i + 1].dataset.title;
      next.addEventListener("click", () => { show(i + 1); steps[i + 1].querySelector("input,select,textarea")?.focus(); });
      step.appendChild(next);
    }
  });
  // Submitting shows every step again, so the browser sends them all (they are sent anyway).
  show(current);
}

// Repeated rows (scars, past treatments): the server always shows one blank row; "Add
// another" copies it with the next index, blank, so any number can be given without a reload.
function initRepeat(group) {
  const kind = group.dataset.repeat;
  const add = document.createElement("button");
  add.type = "button";
  add.className = "secondary";
  add.id = `add-${kind}`;
  add.textContent = kind === "scar" ? "Add another scar" : "Add another treatment";
  add.addEventListener("click", () => {
    const rows = group.querySelectorAll(".repeat-row");
    const last = rows[rows.length - 1];
    const from = Number(last.dataset.index);
    const to = from + 1;
    const copy = last.cloneNode(true);
    copy.dataset.index = String(to);
    const rename = (v) => v.replace(`${kind}${from}_`, `${kind}${to}_`);
    copy.querySelectorAll("[id],[name],[for],[aria-describedby]").forEach((el) => {
      for (const a of ["id", "name", "for", "aria-describedby"]) if (el.hasAttribute(a)) el.setAttribute(a, rename(el.getAttribute(a)));
    });
    copy.querySelectorAll(".field-error").forEach((e) => e.remove());
    copy.querySelectorAll("[aria-invalid]").forEach((e) => { e.removeAttribute("aria-invalid"); e.removeAttribute("aria-describedby"); });
    copy.querySelectorAll("input").forEach((i) => { i.value = ""; });
    copy.querySelectorAll("select").forEach((s) => { s.selectedIndex = 0; });
    const legend = copy.querySelector("legend");
    if (legend) legend.textContent = legend.textContent.replace(/\d+$/, String(to + 1));
    last.after(copy);
    copy.querySelector("select,input")?.focus();
  });
  group.after(add);
}

// Fields that only apply to some answers (a stage for staged scales, a SALT share for
// alopecia) hide when they do not; the server ignores them then in any case.
function initWhen(el) {
  const control = document.getElementById(el.dataset.when);
  if (!control) return;
  const values = el.dataset.values.split(" ");
  const sync = () => { el.hidden = !values.includes(control.value); };
  control.addEventListener("change", sync);
  sync();
}

// Before/after: the slider uncovers the later photo.
function initCompare(box) {
  const after = box.querySelector(".after");
  const range = box.querySelector("input[type=range]");
  const base = box.querySelector("img");
  const sync = () => {
    after.style.width = range.value + "%";
    after.querySelector("img").style.width = base.clientWidth + "px";
  };
  range.addEventListener("input", sync);
  window.addEventListener("resize", sync);
  base.addEventListener("load", sync);
  sync();
}

document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("[data-repeat]").forEach(initRepeat);
  document.querySelectorAll("[data-when]").forEach(initWhen);
  document.querySelectorAll("form[data-steps]").forEach(initSteps);
  document.querySelectorAll("[data-compare]").forEach(initCompare);
});

// The print page's button (no inline handlers: the Content-Security-Policy allows scripts from
// this server only).
document.addEventListener("DOMContentLoaded", () => {
  for (const b of document.querySelectorAll("[data-print]")) b.addEventListener("click", () => window.print());
});
