// JointCred — small progressive enhancements. No inline scripts anywhere (Content-Security-Policy).
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  // Forms that ask for confirmation before a destructive action.
  document.querySelectorAll("form.js-confirm").forEach((form) => {
    form.addEventListener("submit", (event) => {
      if (!window.confirm(form.dataset.confirm || "Are you sure?")) event.preventDefault();
    });
  });
  // Selects that submit their form on change (language switcher).
  document.querySelectorAll("select.js-autosubmit").forEach((select) => {
    select.addEventListener("change", () => select.form.submit());
  });
  // Copy buttons.
  document.querySelectorAll("button.js-copy").forEach((button) => {
    button.addEventListener("click", async () => {
      const target = document.getElementById(button.dataset.copyTarget);
      if (!target) return;
      try {
        await navigator.clipboard.writeText(target.value || target.textContent);
        button.textContent = button.dataset.copied || "Copied";
      } catch (_err) {
        target.select();
      }
    });
  });
});
