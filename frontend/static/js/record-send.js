// Acting on the record: send a form to the JSON API (422 messages next to the fields marked
// data-field="name", anything else in the form's [data-status]), and the <dialog id="ask">
// that asks for a reason. The room loads this on its first action.

import { t } from "./i18n.js";
import { h, problem } from "./live.js";

const $ = (id) => document.getElementById(id);
let errors = 0;

/** A message in the form's status region. */
export function tell(form, text, error = false) {
  const region = form.querySelector("[data-status]");
  if (!region) return;
  region.classList.remove("is-error", "is-ok");
  if (text) region.classList.add(error ? "is-error" : "is-ok");
  region.textContent = text;
}

function clear(form) {
  for (const small of form.querySelectorAll(".field-error")) small.remove();
  for (const el of form.querySelectorAll("[aria-invalid]")) {
    el.removeAttribute("aria-invalid");
    if (el.dataset.describedby) el.setAttribute("aria-describedby", el.dataset.describedby);
    else el.removeAttribute("aria-describedby");
  }
  tell(form, "");
}

function markField(form, item) {
  const loc = Array.isArray(item.loc) ? item.loc : [];
  const place = form.querySelector(`[data-field="${loc[loc.length - 1]}"]`);
  if (!place) return null;
  const control = place.matches("input, select, textarea") ? place :
    place.querySelector("input, select, textarea");
  errors += 1;
  const small = h("small", { class: "field-error", id: `record-error-${errors}`,
    text: problem(422, { detail: [item] }) });
  place.after(small);
  if (control) {
    control.dataset.describedby ??= control.getAttribute("aria-describedby") || "";
    control.setAttribute("aria-invalid", "true");
    control.setAttribute("aria-describedby", `${control.dataset.describedby} ${small.id}`.trim());
  }
  return control || place;
}

/** Show a message next to a form's field (as a 422 would) and focus it. */
export function fieldError(form, field, msg) {
  clear(form);
  const control = markField(form, { loc: ["body", field], msg });
  if (control) control.focus();
  else tell(form, msg, true);
}

/** Call the JSON API for a form: the answer, or null after showing what went wrong. */
export async function send(method, path, body, form) {
  clear(form);
  let response;
  try {
    response = await fetch(path, {
      method, credentials: "same-origin", body: body === undefined ? undefined : JSON.stringify(body),
      headers: { Accept: "application/json", "Content-Type": "application/json" },
    });
  } catch {
    tell(form, t("Could not reach the server. Check the connection and try again."), true);
    return null;
  }
  let payload = null;
  try {
    payload = await response.json();
  } catch {
    payload = null;
  }
  if (response.ok) return payload || {};
  const detail = payload && payload.detail;
  if (Array.isArray(detail) && detail.length) {
    const marked = detail.map((item) => markField(form, item));
    const rest = detail.filter((_, i) => !marked[i]);
    if (rest.length) tell(form, problem(response.status, { detail: rest }), true);
    const first = marked.find(Boolean);
    if (first) first.focus();
  } else {
    tell(form, problem(response.status, payload), true);
  }
  return null;
}

/** Run `action(form, submitter)` on submit, one at a time. */
export function onSubmit(form, action) {
  if (!form) return;
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    busy(form, () => action(form, event.submitter));
  });
}

/** Run an action while the form says it is busy; ignored while it already is. */
export async function busy(form, action) {
  if (form.getAttribute("aria-busy")) return;
  form.setAttribute("aria-busy", "true");
  try {
    await action();
  } finally {
    form.removeAttribute("aria-busy");
  }
}

// The dialog that asks for a reason --------------------------------------------------------

let asked = null;

/** Ask for a text; `submit(text, form)` returns true when done (else the dialog stays open,
 * showing the server's message). The focus goes back to the opener afterwards. */
export function ask({ title, about = "", label, field, ok, required = true, submit }) {
  const dialog = $("ask");
  const form = dialog.querySelector("form");
  if (!dialog.dataset.ready) setUp(dialog, form);
  clear(form);
  $("ask-title").textContent = title;
  $("ask-about").textContent = about;
  $("ask-label").textContent = label;
  const text = $("ask-text");
  text.value = "";
  text.dataset.field = field;
  text.setAttribute("aria-required", String(required));
  $("ask-ok").textContent = ok;
  const opener = document.activeElement;
  asked = { submit, opener, key: opener && opener.dataset ? opener.dataset.key : "" };
  dialog.showModal();
  text.focus();
}

function setUp(dialog, form) {
  dialog.dataset.ready = "yes";
  onSubmit(form, async () => {
    if (asked && await asked.submit($("ask-text").value.trim(), form)) dialog.close();
  });
  $("ask-cancel").addEventListener("click", () => dialog.close());
  dialog.addEventListener("close", () => {
    const back = asked && (asked.opener && asked.opener.isConnected ? asked.opener :
      asked.key && document.querySelector(`[data-key="${CSS.escape(asked.key)}"]`));
    asked = null;
    if (back) back.focus();
  });
}
