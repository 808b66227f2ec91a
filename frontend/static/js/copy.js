// "Copy link" buttons: <button type="button" data-copy="input-id">.
// Puts the input's value on the clipboard; where the clipboard is not available (an insecure
// origin, a refused permission) selects the text so it can be copied by hand.

import { t } from "./i18n.js";

function region(button) {
  const id = button.dataset.copyStatus;
  return (id && document.getElementById(id)) || document.getElementById("flash");
}

function tell(button, message) {
  const target = region(button);
  if (target) target.textContent = message;
}

async function copy(button) {
  const input = document.getElementById(button.dataset.copy);
  if (!input) return;
  try {
    if (!navigator.clipboard || !window.isSecureContext) throw new Error("no clipboard");
    await navigator.clipboard.writeText(input.value);
    tell(button, t("Link copied to the clipboard."));
  } catch {
    input.focus();
    input.select();
    tell(button, t("The link is selected: press Ctrl+C (or ⌘C) to copy it."));
  }
}

document.addEventListener("click", (event) => {
  const button = event.target instanceof Element && event.target.closest("button[data-copy]");
  if (button) copy(button);
});

// A read-only link selects itself when focused, ready to copy by hand.
document.addEventListener("focusin", (event) => {
  const input = event.target;
  if (input instanceof HTMLInputElement && "selectOnFocus" in input.dataset) input.select();
});
