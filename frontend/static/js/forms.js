// Forms that write through the JSON API.
//
// <form data-api="/api/..." data-method="PATCH"> is sent with fetch as JSON built from its
// fields (numbers for type=number, arrays for textarea[data-lines], booleans for checkboxes,
// datetime-local fields converted to ISO 8601 with the offset of the IANA zone named by
// data-zone-field). Options on the form:
//   data-body='{"json": "literal"}'   fields merged over this fixed body
//   data-multipart                    send the fields as multipart FormData (file upload)
//   data-redirect="/path/{id}"        go there on success ({key} taken from the response)
//   data-success="Saved."             message shown after success (survives the reload)
//   data-confirm="Remove this seat?"  ask first
// Options on a field: data-empty="omit|null|string" (what an empty value becomes),
// data-type="int" (for selects), data-lines (one array item per line).
// Errors: FastAPI's 422 list goes next to the named field; anything else, and CSV row
// errors, go into the form's live region ([data-status]), else its section's, else #flash.
// After a reload, the success message shows in the section's region (or #flash).

import { t } from "./i18n.js";

const FLASH_KEY = "convene.flash";

class FieldError extends Error {
  constructor(field, message) {
    super(message);
    this.field = field;
  }
}

// Time zones -----------------------------------------------------------------------------

function zoneOffsetMinutes(zone, instant) {
  const parts = new Intl.DateTimeFormat("en-US", {
    timeZone: zone,
    hourCycle: "h23",
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
  }).formatToParts(new Date(instant));
  const part = (type) => Number(parts.find((p) => p.type === type).value);
  const wall = Date.UTC(
    part("year"), part("month") - 1, part("day"), part("hour"), part("minute"), part("second"),
  );
  return Math.round((wall - instant) / 60000);
}

function formatOffset(minutes) {
  const sign = minutes < 0 ? "-" : "+";
  const abs = Math.abs(minutes);
  const hh = String(Math.floor(abs / 60)).padStart(2, "0");
  const mm = String(abs % 60).padStart(2, "0");
  return `${sign}${hh}:${mm}`;
}

/** "2030-03-02T09:00" read as wall-clock time in `zone` → "2030-03-02T09:00:00+03:00". */
export function zonedIso(local, zone) {
  const match = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})/.exec(local);
  if (!match) throw new RangeError("not a date and time");
  const [, y, mo, d, h, mi] = match.map(Number);
  const wall = Date.UTC(y, mo - 1, d, h, mi);
  let offset = zoneOffsetMinutes(zone, wall);
  const second = zoneOffsetMinutes(zone, wall - offset * 60000);
  if (second !== offset) offset = second; // near a daylight-saving change
  return `${match[0]}:00${formatOffset(offset)}`;
}

function knownZone(zone) {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

// Serializing ----------------------------------------------------------------------------

const SKIPPED_TYPES = new Set(["submit", "button", "reset", "image", "file"]);

function emptyRule(el) {
  if (el.dataset.empty) return el.dataset.empty;
  if (["number", "datetime-local", "date", "email"].includes(el.type)) return "omit";
  if (el.dataset.type === "int") return "omit";
  return "string";
}

function zoneFor(el, form) {
  const name = el.dataset.zoneField;
  const field = name ? form.elements.namedItem(name) : null;
  return (field && field.value.trim()) || el.dataset.zone || "UTC";
}

function fieldValue(el, form) {
  if (el.type === "checkbox") return { value: el.checked };
  if (el.type === "radio") return el.checked ? { value: el.value } : null;
  if (el.tagName === "TEXTAREA" && "lines" in el.dataset) {
    const lines = el.value.split("\n").map((line) => line.trim()).filter(Boolean);
    return { value: lines };
  }
  const raw = el.value;
  if (raw.trim() === "") {
    const rule = emptyRule(el);
    if (rule === "omit") return null;
    if (rule === "null") return { value: null };
    return { value: raw };
  }
  if (el.type === "number") return { value: Number(raw) };
  if (el.dataset.type === "int") return { value: Number.parseInt(raw, 10) };
  if (el.type === "datetime-local") {
    const zone = zoneFor(el, form);
    if (!knownZone(zone)) {
      throw new FieldError(el.dataset.zoneField || el.name, t("unknown time zone: {zone}", { zone }));
    }
    return { value: zonedIso(raw, zone) };
  }
  return { value: raw };
}

/** The JSON body a form sends. */
export function serialize(form) {
  const body = form.dataset.body ? JSON.parse(form.dataset.body) : {};
  for (const el of form.elements) {
    if (!el.name || el.disabled || SKIPPED_TYPES.has(el.type) || "skip" in el.dataset) continue;
    if (!["INPUT", "SELECT", "TEXTAREA"].includes(el.tagName)) continue;
    const field = fieldValue(el, form);
    if (field) body[el.name] = field.value;
  }
  return body;
}

// Showing results ------------------------------------------------------------------------

function statusRegion(form) {
  const own = form && form.querySelector("[data-status]");
  if (own) return own;
  const section = form && form.closest("section");
  const shared = section && section.querySelector(":scope > [data-status]");
  return shared || document.getElementById("flash");
}

function say(region, message, kind = "info") {
  if (!region) return;
  region.replaceChildren();
  region.classList.remove("is-error", "is-ok");
  region.classList.add(kind === "error" ? "is-error" : "is-ok");
  if (typeof message === "string") region.textContent = message;
  else region.append(message);
}

function clearErrors(form) {
  for (const small of form.querySelectorAll(".field-error")) small.remove();
  for (const el of form.querySelectorAll("[aria-invalid]")) {
    el.removeAttribute("aria-invalid");
    const ids = (el.getAttribute("aria-describedby") || "")
      .split(" ")
      .filter((id) => id && !id.startsWith("error-"));
    if (ids.length) el.setAttribute("aria-describedby", ids.join(" "));
    else el.removeAttribute("aria-describedby");
  }
  const region = form.querySelector("[data-status]");
  if (region) {
    region.replaceChildren();
    region.classList.remove("is-error", "is-ok");
  }
}

let errorCount = 0;

function markField(form, name, message) {
  let el = form.elements.namedItem(name);
  if (el && !(el instanceof Element)) el = el[0]; // several fields share the name
  if (!el || el.type === "hidden") return null;
  const small = document.createElement("small");
  errorCount += 1;
  small.id = `error-${errorCount}`;
  small.className = "field-error";
  small.textContent = message;
  const anchor = el.closest("label") && el.type === "checkbox" ? el.closest("label") : el;
  anchor.after(small);
  el.setAttribute("aria-invalid", "true");
  const described = el.getAttribute("aria-describedby");
  el.setAttribute("aria-describedby", described ? `${described} ${small.id}` : small.id);
  return el;
}

// Pydantic prefixes messages from custom validators; people need only the reason.
function plain(message) {
  return String(message).replace(/^(Value|Assertion) error, /, "");
}

function fieldOf(item) {
  const loc = Array.isArray(item.loc) ? item.loc : [];
  const last = loc[loc.length - 1];
  return typeof last === "string" && last !== "body" ? last : null;
}

function rowErrors(items) {
  const wrap = document.createElement("div");
  const lead = document.createElement("p");
  lead.textContent = t("Nothing was imported. Fix these rows and try again:");
  const list = document.createElement("ul");
  list.className = "row-errors";
  for (const item of items) {
    const li = document.createElement("li");
    const where = item.line > 0 ? t("Line {line}", { line: item.line }) : t("The file");
    const field = item.field ? ` (${item.field})` : "";
    li.textContent = `${where}${field}: ${plain(item.msg)}`;
    list.append(li);
  }
  wrap.append(lead, list);
  return wrap;
}

function showFailure(form, status, payload) {
  const region = statusRegion(form);
  const detail = payload && payload.detail;
  if (Array.isArray(detail) && detail.some((item) => item && "line" in item)) {
    say(region, rowErrors(detail), "error");
    return;
  }
  if (Array.isArray(detail)) {
    const general = [];
    let first = null;
    for (const item of detail) {
      const name = fieldOf(item);
      const message = plain(item.msg);
      const el = name ? markField(form, name, message) : null;
      if (el) first = first || el;
      else general.push(name ? `${name}: ${message}` : message);
    }
    if (general.length) say(region, general.join(" "), "error");
    else say(region, t("Please correct the highlighted fields."), "error");
    if (first) first.focus();
    return;
  }
  if (typeof detail === "string") {
    const hint = status === 401 && !("signIn" in form.dataset) ? ` ${t("Sign in again to continue.")}` : "";
    const sentence = `${detail.charAt(0).toUpperCase()}${detail.slice(1)}`;
    const stop = /[.!?]$/.test(sentence) ? "" : ".";
    say(region, `${sentence}${stop}${hint}`, "error");
    return;
  }
  say(region, t("Something went wrong (HTTP {status}). Please try again.", { status }), "error");
}

function fillTemplate(template, data) {
  return template.replace(/\{(\w+)\}/g, (_, key) =>
    encodeURIComponent(data && data[key] !== undefined ? data[key] : ""),
  );
}

function store(flash) {
  try {
    sessionStorage.setItem(FLASH_KEY, JSON.stringify(flash));
  } catch {
    // Storage can be unavailable (private modes); the message is only a courtesy.
  }
}

function remember(message, form) {
  // After a reload the message shows in the status region of the section the form was in.
  const section = form.closest("section[id]");
  const target = section && section.querySelector(":scope > [data-status][id]");
  store({ message, target: target ? target.id : "" });
}

function succeed(form, data) {
  const message = form.dataset.success;
  if (form.dataset.redirect) {
    if (message) store({ message, target: "" });
    window.location.assign(fillTemplate(form.dataset.redirect, data));
    return;
  }
  if ("stay" in form.dataset) {
    say(statusRegion(form), message || t("Saved."));
    form.dispatchEvent(new CustomEvent("api:success", { detail: data, bubbles: true }));
    return;
  }
  if (message) remember(message, form);
  window.location.reload();
}

// Sending --------------------------------------------------------------------------------

async function send(form, submitter) {
  clearErrors(form);
  let body;
  try {
    body = "multipart" in form.dataset ? new FormData(form) : JSON.stringify(serialize(form));
  } catch (error) {
    if (error instanceof FieldError && markField(form, error.field, error.message)) return;
    say(statusRegion(form), error.message, "error");
    return;
  }
  const headers = { Accept: "application/json" };
  if (typeof body === "string") headers["Content-Type"] = "application/json";
  const buttons = submitter ? [submitter] : [...form.querySelectorAll("[type=submit]")];
  for (const button of buttons) {
    button.disabled = true;
    button.setAttribute("aria-busy", "true");
  }
  let response;
  try {
    response = await fetch(form.dataset.api, {
      method: (form.dataset.method || "POST").toUpperCase(),
      credentials: "same-origin",
      headers,
      body,
    });
  } catch {
    say(statusRegion(form), t("Could not reach the server. Check the connection and try again."), "error");
    return;
  } finally {
    for (const button of buttons) {
      button.disabled = false;
      button.removeAttribute("aria-busy");
    }
  }
  let payload = null;
  if (response.status !== 204) {
    try {
      payload = await response.json();
    } catch {
      payload = null;
    }
  }
  if (response.ok) succeed(form, payload);
  else showFailure(form, response.status, payload);
}

function onSubmit(event) {
  const form = event.target;
  if (!(form instanceof HTMLFormElement) || !form.dataset.api) return;
  event.preventDefault();
  if (form.dataset.confirm && !window.confirm(form.dataset.confirm)) return;
  send(form, event.submitter);
}

function showFlash() {
  let flash;
  try {
    const stored = sessionStorage.getItem(FLASH_KEY);
    if (!stored) return;
    sessionStorage.removeItem(FLASH_KEY);
    flash = JSON.parse(stored);
  } catch {
    return;
  }
  const region =
    (flash.target && document.getElementById(flash.target)) || document.getElementById("flash");
  // Set after the page has settled so screen readers announce it.
  if (region && flash.message) setTimeout(() => say(region, flash.message), 50);
}

function guessZones() {
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  for (const input of document.querySelectorAll("input[data-guess-zone]")) {
    if (!input.value && zone) input.value = zone;
  }
}

document.addEventListener("submit", onSubmit);
showFlash();
guessZones();
