// Progress of the documents of a bulk award: polls the JSON endpoint every second until every document is
// done (ready or failed), updating the <progress> bar, the status text and the list of failed documents.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  const section = document.querySelector("[data-progress-url]");
  if (!section) return;
  const bar = document.getElementById("bulk-progress-bar");
  const text = document.getElementById("bulk-progress-text");
  const failuresBox = document.getElementById("bulk-failures");
  const failureList = document.getElementById("bulk-failure-list");
  const retryTemplate = document.getElementById("retry-form-template");
  const url = section.dataset.progressUrl;
  const INTERVAL = 1000;
  const MAX_ERRORS = 30;
  let errors = 0;

  const format = (template, values) =>
    template.replace(/\{(\w+)\}/g, (match, key) => (key in values ? String(values[key]) : match));

  const renderFailures = (failures) => {
    if (!failuresBox || !failureList) return;
    failuresBox.hidden = failures.length === 0;
    failureList.replaceChildren(
      ...failures.map((failure) => {
        const item = document.createElement("li");
        item.dataset.document = failure.id;
        const link = document.createElement("a");
        link.href = failure.award_url;
        link.textContent = failure.learner;
        const error = document.createElement("span");
        error.className = "error";
        error.textContent = failure.error;
        item.append(link, ` — ${failure.document}: `, error, " ");
        if (retryTemplate) {
          const form = retryTemplate.content.firstElementChild.cloneNode(true);
          form.action = failure.retry_url;
          item.append(form);
        }
        return item;
      }),
    );
  };

  const render = (data) => {
    if (bar) {
      bar.value = data.percent;
      bar.textContent = `${data.percent} %`;
    }
    if (text) {
      let message = format(section.dataset.labelProgress || "{done} / {total}", data);
      if (data.complete) message += ` ${section.dataset.labelComplete || ""}`;
      text.textContent = message.trim();
    }
    renderFailures(data.failures || []);
  };

  const poll = async () => {
    try {
      const response = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      const data = await response.json();
      errors = 0;
      render(data);
      if (data.complete || data.percent >= 100) return;
    } catch (_err) {
      errors += 1;
      if (text && section.dataset.labelError) text.textContent = section.dataset.labelError;
      if (errors >= MAX_ERRORS) return;
    }
    window.setTimeout(poll, INTERVAL);
  };

  if (section.dataset.complete !== "1") window.setTimeout(poll, INTERVAL);
});
