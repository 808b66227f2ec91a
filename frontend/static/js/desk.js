// The rapporteur's desk: capture the points made on the current item, for their seats, from
// the keyboard (seat with type-ahead, kind, text; Enter captures, Shift+Enter is a new line),
// and park issues from the same text box. Shortcuts are listed on the page.

import { t } from "./i18n.js";
import { STATUS_LABELS, activeItem, announce, connectRoom, directory, h, replace } from "./live.js";
import { contributionItem, parkingItems, recordNews } from "./record.js";
import { busy, fieldError, send, tell } from "./record-send.js";

const $ = (id) => document.getElementById(id);
const page = $("desk");
const api = `/api/convenings/${page.dataset.convening}`;
const room = connectRoom({
  conveningId: page.dataset.convening,
  status: $("connection"),
  serverNow: page.dataset.serverNow,
});
const form = $("capture-form");
const seatInput = $("capture-seat");
const text = $("capture-text");
const kind = $("capture-kind");
const SPEAKING = new Set(["participant", "facilitator", "rapporteur", "convener"]);
const KIND_KEYS = { Digit1: "statement", Digit2: "question", Digit3: "proposal", Digit4: "clarification" };
const pending = new Map(); // points captured here, shown until their event arrives

/** The seats that speak, each with the label the seat picker offers. */
function seats(state) {
  const names = directory(state);
  return state.seats.filter((s) => SPEAKING.has(s.role)).map((s) => ({
    ...s, group: names.group(s.id), label: names.group(s.id) ? `${s.name} (${names.group(s.id)})` : s.name,
  }));
}

/** The seat a typed text names: the exact label or name, else the one seat whose name has a
 * word starting with it, else the one seat whose label contains it. */
function match(typed) {
  const q = typed.trim().toLowerCase();
  if (!q || !room.state) return { seat: null, many: [] };
  const all = seats(room.state);
  const exact = all.find((s) => s.label.toLowerCase() === q || s.name.toLowerCase() === q);
  if (exact) return { seat: exact, many: [] };
  const words = all.filter((s) => s.name.toLowerCase().split(/\s+/).some((w) => w.startsWith(q)) ||
    s.name.toLowerCase().startsWith(q));
  const found = words.length ? words : all.filter((s) => s.label.toLowerCase().includes(q));
  return found.length === 1 ? { seat: found[0], many: [] } : { seat: null, many: found };
}

function showMatch() {
  const typed = seatInput.value.trim();
  const { seat, many } = match(typed);
  $("seat-match").textContent = !typed ? "" : seat ? t("Seat: {seat}", { seat: seat.label }) :
    many.length ? t("Several seats match: {names}. Type more.", { names: many.map((s) => s.name).join(", ") }) :
      t("No seat matches “{typed}”.", { typed });
}

function render(state, previous) {
  const badge = $("convening-status");
  badge.textContent = STATUS_LABELS[state.convening.status] || state.convening.status;
  badge.className = `status status-${state.convening.status}`;
  const item = activeItem(state);
  $("desk-item").textContent = item ? t("Now: {title}", { title: item.title }) : t("No agenda item is open.");
  if (previous.seats !== state.seats || previous.groups !== state.groups) {
    replace($("seat-list"), seats(state).map((s) => h("option", { value: s.label })));
    showMatch();
  }
  for (const id of pending.keys()) if (state.contributions.some((c) => c.id === id)) pending.delete(id);
  const said = item ? [...state.contributions, ...pending.values()].filter((c) => c.item_id === item.id) : [];
  replace($("captured"), said.reverse().map((c) => contributionItem(c, state)));
  $("captured-empty").hidden = said.length > 0;
  const parked = parkingItems(state);
  replace($("parking"), parked);
  $("parking-empty").hidden = parked.length > 0;
  announce($("announce"), recordNews(state, previous).join(" "));
}

room.onState(render);

/** The seat for the point, or null after saying why not (`optional`: empty is no seat). */
function chosenSeat(optional = false) {
  if (optional && !seatInput.value.trim()) return { id: null };
  const { seat, many } = match(seatInput.value);
  if (!seat) {
    fieldError(form, "seat_id", many.length ? t("Several seats match: type more of the name.") :
      t("Choose a seat: type part of a name, or pick one from the list."));
  }
  return seat;
}

async function capture() {
  const item = room.state && activeItem(room.state);
  if (!item) {
    tell(form, t("No agenda item is open: points are captured on the current item."), true);
    return;
  }
  const seat = chosenSeat();
  if (!seat) return;
  const body = { seat_id: seat.id, item_id: item.id, kind: kind.value, text: text.value };
  const made = await send("POST", `${api}/contributions/captured`, body, form);
  if (!made) return;
  pending.set(made.id, {
    id: made.id, item_id: item.id, kind: body.kind, text: body.text.trim(), captured: true,
    by: { name: seat.name, affiliation: seat.affiliation, group: seat.group }, at: new Date().toISOString(),
  });
  text.value = "";
  tell(form, t("Captured for {name}.", { name: seat.name }));
  text.focus();
  render(room.state, room.state);
}

async function park() {
  const seat = chosenSeat(true);
  if (!seat) return;
  const item = room.state && activeItem(room.state);
  const body = { text: text.value, item_id: item ? item.id : null, seat_id: seat.id };
  if (await send("POST", `${api}/parking`, body, form)) {
    text.value = "";
    tell(form, t("Parked as an issue."));
    text.focus();
  }
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  busy(form, capture);
});
$("park-text").addEventListener("click", () => busy(form, park));
seatInput.addEventListener("input", showMatch);
text.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && !event.shiftKey && !event.isComposing && !event.altKey &&
    !event.ctrlKey && !event.metaKey) {
    event.preventDefault();
    form.requestSubmit();
  }
});
document.addEventListener("keydown", (event) => {
  if (!event.altKey || event.ctrlKey || event.metaKey) return;
  const focus = { KeyS: seatInput, KeyK: kind, KeyT: text }[event.code];
  if (focus) focus.focus();
  else if (KIND_KEYS[event.code]) {
    kind.value = KIND_KEYS[event.code];
    announce($("announce"), `Kind: ${kind.selectedOptions[0].text}.`);
  }
  else if (event.code === "KeyP") busy(form, park);
  else return;
  event.preventDefault();
});
