// Follicle studio: small progressive enhancements. Every page works without this script.
"use strict";

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
  document.querySelectorAll("form[data-steps]").forEach(initSteps);
  document.querySelectorAll("[data-compare]").forEach(initCompare);
});
