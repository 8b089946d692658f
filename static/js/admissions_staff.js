// JointCred — review queue: a "select all on this page" checkbox. No inline scripts (Content-Security-Policy).
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("input.js-select-all").forEach((all) => {
    const boxes = () => all.form
      ? all.form.querySelectorAll(`input[type="checkbox"][name="${all.dataset.target}"]`)
      : [];
    all.addEventListener("change", () => boxes().forEach((box) => { box.checked = all.checked; }));
  });
});
