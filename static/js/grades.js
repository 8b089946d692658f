// Grade grid: keyboard movement between cells like a spreadsheet, and a warning before leaving unsaved grades.
// Enter moves down (Shift+Enter up) instead of submitting the form; the arrow keys move between cells (left
// and right only from the start or end of what is typed, so editing inside a cell still works).
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  const grid = document.querySelector("table.js-grade-grid");
  if (!grid) return;
  const cells = Array.from(grid.querySelectorAll("input[data-row][data-col]"));
  if (!cells.length) return;

  // The inputs of each column, top to bottom (exempted learners have no inputs, so rows are skipped).
  const columns = new Map();
  cells.forEach((cell) => {
    const key = cell.dataset.col;
    if (!columns.has(key)) columns.set(key, []);
    columns.get(key).push(cell);
  });

  const focus = (cell) => {
    if (!cell) return false;
    cell.focus();
    cell.select();
    return true;
  };
  const vertical = (cell, step) => {
    const column = columns.get(cell.dataset.col);
    return focus(column[column.indexOf(cell) + step]);
  };
  const horizontal = (cell, step) => focus(cells[cells.indexOf(cell) + step]);
  const atStart = (cell) => cell.selectionStart === 0 && (cell.selectionEnd === 0 || cell.selectionEnd === cell.value.length);
  const atEnd = (cell) => cell.selectionEnd === cell.value.length && (cell.selectionStart === cell.value.length || cell.selectionStart === 0);

  grid.addEventListener("keydown", (event) => {
    const cell = event.target;
    if (!(cell instanceof HTMLInputElement) || cell.dataset.row === undefined) return;
    if (event.altKey || event.ctrlKey || event.metaKey) return;
    let handled = false;
    switch (event.key) {
      case "Enter":
        vertical(cell, event.shiftKey ? -1 : 1);
        handled = true; // never submit the whole grid by pressing Enter in a cell
        break;
      case "ArrowDown":
        handled = vertical(cell, 1);
        break;
      case "ArrowUp":
        handled = vertical(cell, -1);
        break;
      case "ArrowLeft":
        handled = atStart(cell) && horizontal(cell, -1);
        break;
      case "ArrowRight":
        handled = atEnd(cell) && horizontal(cell, 1);
        break;
      default:
        break;
    }
    if (handled) event.preventDefault();
  });

  // Mark changed cells, and warn before leaving the page with grades typed but not saved.
  let dirty = false;
  grid.addEventListener("input", (event) => {
    const cell = event.target;
    if (!(cell instanceof HTMLInputElement)) return;
    cell.classList.toggle("changed", cell.value !== cell.defaultValue);
    dirty = cells.some((c) => c.value !== c.defaultValue);
  });
  const form = grid.closest("form");
  if (form) form.addEventListener("submit", () => { dirty = false; });
  window.addEventListener("beforeunload", (event) => {
    if (!dirty) return;
    event.preventDefault();
    event.returnValue = "";
  });
});
