// Live ECTS totals in the curriculum editor: shows what the totals become with the course being typed.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  const totals = document.getElementById("totals");
  const output = document.querySelector("[data-projection]");
  const ects = document.querySelector("input[name='ects']");
  const mandatory = document.querySelector("input[name='mandatory']");
  if (!totals || !output || !ects) return;

  const num = (value) => {
    const parsed = parseFloat(String(value).replace(",", "."));
    return Number.isFinite(parsed) ? parsed : 0;
  };
  const base = num(totals.dataset.mandatory);
  const electiveRequired = num(totals.dataset.electiveRequired);
  const target = num(totals.dataset.target);
  // When editing, the course's current ECTS is already in the mandatory total.
  const editingEcts = totals.dataset.editingMandatory === "1" ? num(totals.dataset.editingEcts) : 0;

  const update = () => {
    const added = mandatory && mandatory.checked ? num(ects.value) : 0;
    const total = Math.round((base - editingEcts + added + electiveRequired) * 10) / 10;
    const diff = Math.round((target - total) * 10) / 10;
    // The sentences come translated from the template (data-label-*), with {total}, {target} and {diff} filled in.
    let label = output.dataset.labelMatch;
    if (diff > 0) label = output.dataset.labelMissing;
    if (diff < 0) label = output.dataset.labelExcess;
    const values = { total, target, diff: Math.abs(diff) };
    output.textContent = label.replace(/\{(\w+)\}/g, (match, key) => (key in values ? String(values[key]) : match));
    output.classList.toggle("ok", diff === 0);
  };
  ects.addEventListener("input", update);
  if (mandatory) mandatory.addEventListener("change", update);
  update();
});
