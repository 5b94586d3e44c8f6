// Staff ingest pages: the upload's own progress, and a batch's live progress. Both pages work
// without this script (the form posts normally; the batch page shows its state when loaded).
"use strict";

// Send the upload form with XMLHttpRequest to show how much has been sent.
document.querySelectorAll("form[data-upload]").forEach((form) => {
  const box = form.querySelector("[data-upload-progress]");
  const meter = box.querySelector("progress");
  const percent = box.querySelector("[data-upload-percent]");
  const failure = form.querySelector("[data-upload-error]");
  const button = form.querySelector("button[type=submit]");
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const request = new XMLHttpRequest();
    request.open("POST", form.action);
    request.upload.addEventListener("progress", (progress) => {
      if (!progress.lengthComputable) return;
      const value = Math.round((100 * progress.loaded) / progress.total);
      meter.value = value;
      percent.textContent = `${value}%`;
    });
    request.addEventListener("load", () => {
      if (request.responseURL && request.responseURL !== form.action) {
        window.location.assign(request.responseURL);  // the batch page
        return;
      }
      document.open();  // the form again, with its errors
      document.write(request.responseText);
      document.close();
    });
    request.addEventListener("error", () => {
      failure.hidden = false;
      button.disabled = false;
    });
    box.hidden = false;
    failure.hidden = true;
    button.disabled = true;
    request.send(new FormData(form));
  });
});

// A running batch: poll its progress; reload the page when its state changes (the files are
// listed once unpacked, their outcomes once the batch is finished).
document.querySelectorAll("[data-progress-url]").forEach((section) => {
  const url = section.dataset.progressUrl;
  const show = (name, value) => {
    const element = section.querySelector(`[data-progress-${name}]`);
    if (element) element.textContent = value;
  };
  const poll = async () => {
    try {
      const response = await fetch(url, { headers: { Accept: "application/json" } });
      if (response.ok) {
        const state = await response.json();
        section.querySelector("[data-progress-bar]").value = state.percent;
        ["percent", "done", "failed", "running", "total"].forEach((name) => show(name, state[name]));
        if (state.finished || state.status !== section.dataset.status) {
          window.location.reload();
          return;
        }
      }
    } catch (error) {
      // The server may be restarting: keep polling.
    }
    window.setTimeout(poll, 1500);
  };
  window.setTimeout(poll, 1000);
});
