// Administration pages: small conveniences; every page works without them.
"use strict";

// A "select all" box for the item checkboxes named by data-select-all.
document.querySelectorAll("[data-select-all]").forEach((box) => {
  const name = box.dataset.selectAll;
  const boxes = () => document.querySelectorAll(`input[type=checkbox][name="${name}"]`);
  box.hidden = false;
  box.addEventListener("change", () => boxes().forEach((each) => { each.checked = box.checked; }));
});

// Buttons with data-confirm ask before they send their form.
document.querySelectorAll("button[data-confirm]").forEach((button) => {
  button.addEventListener("click", (event) => {
    if (!window.confirm(button.dataset.confirm)) {
      event.preventDefault();
    }
  });
});
