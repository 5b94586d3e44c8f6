/* The PDF view: pdf.js (from npm, served by the portal) opens the searchable PDF with HTTP
   range requests, so page 1 is drawn after fetching the file's end (its cross-reference table)
   and page 1's objects, not the whole file. One page at a time, zoom and page jump. */
const root = document.getElementById("pdf-view");
const messages = JSON.parse(document.getElementById("pdf-messages").textContent);
const canvas = document.getElementById("pdf-canvas");
const status = document.getElementById("pdf-status");
const input = document.getElementById("pdf-page-input");
const total = document.getElementById("pdf-total");
const state = { document: null, page: Math.max(1, Number(root.dataset.page) || 1), scale: 0,
                rendering: null, pending: null };

function format(template, values) {
  return template.replace(/\{(\w+)\}/g, (_, name) => String(values[name]));
}

async function open() {
  const pdfjs = await import(root.dataset.pdfjs);
  pdfjs.GlobalWorkerOptions.workerSrc = root.dataset.worker;
  const task = pdfjs.getDocument({
    url: root.dataset.document,
    disableAutoFetch: true,     // fetch only the ranges a drawn page needs ...
    disableStream: true,        // ... which also needs the whole-file stream turned off
    rangeChunkSize: 65536,
    isEvalSupported: false,     // CSP: no eval
    withCredentials: true,
  });
  state.document = await task.promise;
  input.max = String(state.document.numPages);
  total.textContent = "/ " + state.document.numPages;
  state.page = Math.min(state.page, state.document.numPages);
  await draw(state.page);
}

async function draw(number) {
  if (state.rendering) {
    state.pending = number;
    return;
  }
  state.page = number;
  const page = await state.document.getPage(number);
  const base = page.getViewport({ scale: 1 });
  if (!state.scale) {   // the whole page in view, as large as that allows
    const stage = canvas.parentElement;
    state.scale = Math.min(2, (stage.clientWidth - 16) / base.width,
                           Math.max(0.5, (stage.clientHeight - 16) / base.height));
  }
  const ratio = window.devicePixelRatio || 1;
  const viewport = page.getViewport({ scale: state.scale * ratio });
  canvas.width = Math.floor(viewport.width);
  canvas.height = Math.floor(viewport.height);
  canvas.style.width = Math.floor(viewport.width / ratio) + "px";
  canvas.style.height = Math.floor(viewport.height / ratio) + "px";
  state.rendering = page.render({ canvasContext: canvas.getContext("2d"), viewport });
  try {
    await state.rendering.promise;
  } finally {
    state.rendering = null;
  }
  input.value = String(number);
  status.textContent = "";
  canvas.setAttribute("aria-label", format(messages.pageOf,
    { n: number, total: state.document.numPages }));
  root.dataset.rendered = String(number);
  if (state.pending !== null) {
    const next = state.pending;
    state.pending = null;
    await draw(next);
  }
}

function go(number) {
  if (!state.document) { return; }
  const target = Math.min(Math.max(1, number), state.document.numPages);
  if (target !== state.page || !state.rendering) { draw(target); }
}

function zoom(factor) {
  state.scale = Math.min(6, Math.max(0.25, state.scale * factor));
  draw(state.page);
}

root.addEventListener("click", (event) => {
  const button = event.target.closest("[data-action]");
  if (!button) { return; }
  const actions = {
    prev: () => go(state.page - 1), next: () => go(state.page + 1),
    "zoom-in": () => zoom(1.25), "zoom-out": () => zoom(0.8),
  };
  actions[button.dataset.action]?.();
});

document.getElementById("pdf-jump").addEventListener("submit", (event) => {
  event.preventDefault();
  go(Number(input.value));
});

document.addEventListener("keydown", (event) => {
  if (/^(INPUT|TEXTAREA)$/.test(event.target.tagName) || event.ctrlKey || event.metaKey) { return; }
  const keys = { ArrowLeft: -1, PageUp: -1, ArrowRight: 1, PageDown: 1 };
  if (event.key in keys) {
    event.preventDefault();
    go(state.page + keys[event.key]);
  } else if (event.key === "+" || event.key === "=") {
    zoom(1.25);
  } else if (event.key === "-") {
    zoom(0.8);
  }
});

open().catch((error) => {
  status.textContent = messages.failed;
  root.dataset.failed = String(error && error.name);
});
