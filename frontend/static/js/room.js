// The seat's live room: the item and its timer, the floor, who is here, the agenda, and the
// record (room-record.js, loaded when there is a record to show or on the first action on it,
// which keeps the first load small). Participants ask for the floor, contribute, answer checks,
// dissent and commit from here; the server decides who may.

import { t, tn, tp } from "./i18n.js";
import {
  ITEM_STATUS, KIND_LABELS, REQUEST_LABELS, STATUS_LABELS, act, activeItem, announce, clockText, connectRoom,
  directory, duration, h, itemClock, onPress, ordinal, replace,
} from "./live.js";
import { itemNews, queueNews, timerMoments } from "./news.js";

const page = document.getElementById("room");
const $ = (id) => document.getElementById(id);
const cid = page.dataset.convening;
const api = `/api/convenings/${cid}`;
const room = connectRoom({
  conveningId: cid,
  status: $("connection"),
  serverNow: page.dataset.serverNow,
});
const announcer = $("announce");
const canAct = page.dataset.canTakePart === "yes";
const RECORD = ["contributions", "checks", "outcomes", "dissents", "parking", "commitments"];
let record = null;

/** The record's part of the page (room-record.js), loaded once. */
function recordUi(previous = {}) {
  record ||= import("./room-record.js").then((m) => m.attach(room, page, previous));
  return record;
}

/** A Dissent button for an agenda item (room-record.js handles its clicks). */
function dissentFrom(item, state) {
  const status = state.convening.status;
  if (!canAct || (status !== "live" && status !== "closed")) return "";
  return h("button", { type: "button", class: "small secondary outline", "data-dissent": "item",
    "data-target": item.id, "data-key": `dissent-item-${item.id}`,
    "data-about": t("the agenda item “{title}”", { title: item.title }),
    "aria-label": t("Dissent from the agenda item “{title}”", { title: item.title }) }, tp("button", "Dissent"));
}

function mySeat() {
  const seat = room.you ? room.you.seat_id : Number(page.dataset.seat) || null;
  return seat || null;
}

// Rendering -------------------------------------------------------------------------------

function renderPhase(state) {
  const status = state.convening.status;
  const badge = $("convening-status");
  badge.textContent = STATUS_LABELS[status] || status.replace(/_/g, " ");
  badge.className = `status status-${status}`;
  const phase = $("phase");
  phase.hidden = status === "live";
  if (status === "draft" || status === "scheduled") {
    phase.textContent = t("The convening has not started yet. Keep this page open: it becomes the live room when the convening opens.");
  } else if (status !== "live") {
    phase.textContent = t("The convening is {status}. Thank you for taking part.",
      { status: STATUS_LABELS[status] || status });
  }
}

function renderItem(state) {
  const item = activeItem(state);
  const timer = $("timer");
  timer.hidden = !item;
  if (!item) {
    replace($("item"), h("p", { class: "muted", text: t("No agenda item is open.") }));
    return;
  }
  const parts = [
    h("h3", { class: "item-title", text: item.title }),
    h("p", { class: "meta", text: `${KIND_LABELS[item.kind] || item.kind} · ` +
      t("{minutes} min", { minutes: Math.round(item.timebox_seconds / 60) }) }),
  ];
  if (item.description) parts.push(h("p", { class: "description", text: item.description }));
  if (item.questions.length) {
    parts.push(
      h("p", { class: "questions-label", id: "questions-label", text: t("Questions") }),
      h("ul", { class: "questions", "aria-labelledby": "questions-label" },
        item.questions.map((q) => h("li", { text: q }))),
    );
  }
  parts.push(dissentFrom(item, state));
  replace($("item"), parts);
}

function renderFloor(state) {
  const floor = state.floor;
  const names = directory(state);
  const me = mySeat();
  const open = state.convening.status === "live" && floor.item_id !== null;
  const speaker = floor.speaker;
  const line = $("speaker");
  if (speaker) {
    const group = names.group(speaker.seat_id);
    const how = speaker.kind === "hand" || speaker.kind === "called" ? "" :
      ` (${REQUEST_LABELS[speaker.kind].toLowerCase()})`;
    line.replaceChildren(
      h("strong", { text: speaker.seat_id === me ? t("You") : names.name(speaker.seat_id) }),
      group ? ` (${group})` : "",
      " ",
      speaker.seat_id === me ? t("have the floor") : t("has the floor"),
      how,
      h("span", { class: "speaking-for", id: "speaking-for" }),
    );
  } else {
    const status = state.convening.status;
    if (open) line.textContent = t("Nobody has the floor.");
    else if (status === "live") line.textContent = t("The floor opens with the next agenda item.");
    else if (status === "draft" || status === "scheduled") line.textContent = t("The floor opens when the convening starts.");
    else line.textContent = t("The floor is closed.");
  }

  replace($("queue"), floor.queue.map((entry, index) => h(
    "li", { class: entry.seat_id === me ? "mine" : null },
    h("span", { class: "visually-hidden", text: `${ordinal(index + 1)}: ` }),
    h("strong", { text: names.name(entry.seat_id) }),
    entry.seat_id === me ? ` (${t("you")})` : "",
    names.group(entry.seat_id) ? h("span", { class: "muted", text: ` · ${names.group(entry.seat_id)}` }) : "",
    entry.kind !== "hand" ? h("span", { class: `tag tag-${entry.kind}`, text: REQUEST_LABELS[entry.kind] }) : "",
  )));
  $("queue-empty").hidden = floor.queue.length > 0;

  const position = $("my-position");
  const place = floor.queue.findIndex((entry) => entry.seat_id === me);
  if (speaker && speaker.seat_id === me) position.textContent = t("You have the floor.");
  else if (place >= 0) position.textContent = t("You are {place} in the queue.", { place: ordinal(place + 1) });
  else position.textContent = "";
  position.hidden = !position.textContent;

  renderTour(state, names, me);
  if ($("floor-actions")) renderActions(state, open, me);
}

function renderTour(state, names, me) {
  const tour = state.floor.tour;
  $("tour").hidden = !tour;
  if (!tour) return;
  const speaking = state.floor.speaker && state.floor.speaker.kind === "tour" ?
    state.floor.speaker.seat_id : null;
  replace($("tour-list"), tour.seat_ids.map((seatId) => {
    let note = "to-come";
    if (seatId === speaking) note = "speaking";
    else if (tour.spoken.includes(seatId)) note = "has-spoken";
    else if (tour.passed.includes(seatId)) note = "passed";
    return h("li", { class: `tour-${note}` },
      h("strong", { text: names.name(seatId) }), seatId === me ? ` (${t("you")})` : "",
      h("span", { class: "muted", text: ` · ${TOUR_NOTES[note]}` }));
  }));
}

const TOUR_NOTES = {
  "to-come": t("to come"),
  speaking: t("speaking"),
  "has-spoken": t("has spoken"),
  passed: t("passed"),
};

const ROLES = {
  convener: t("convener"),
  facilitator: t("facilitator"),
  rapporteur: t("rapporteur"),
  participant: t("participant"),
  observer: t("observer"),
};

const LABELS = {
  hand: [t("Raise my hand"), t("Lower my hand")],
  point_of_order: [t("Point of order"), t("Withdraw my point of order")],
  direct_reply: [t("Direct reply"), t("Withdraw my direct reply")],
};

function renderActions(state, open, me) {
  const floor = state.floor;
  $("floor-actions").hidden = !open;
  const waiting = new Set(floor.queue.filter((e) => e.seat_id === me).map((e) => e.kind));
  for (const button of $("floor-actions").querySelectorAll("[data-kind]")) {
    const kind = button.dataset.kind;
    button.dataset.waiting = waiting.has(kind) ? "yes" : "";
    button.textContent = LABELS[kind][waiting.has(kind) ? 1 : 0];
  }
  const someoneElse = floor.speaker && floor.speaker.seat_id !== me;
  $("direct-reply").hidden = !(someoneElse || waiting.has("direct_reply"));
  const tour = floor.tour;
  const inTour = tour && tour.seat_ids.includes(me) && !tour.spoken.includes(me) &&
    !tour.passed.includes(me);
  const speakingInTour = floor.speaker && floor.speaker.seat_id === me && floor.speaker.kind === "tour";
  $("pass-turn").hidden = !(inTour && (speakingInTour || tour.seat_ids.indexOf(me) >= tour.next_index));
}

function renderPresence(state, present) {
  const names = directory(state);
  const me = mySeat();
  const here = new Set(present);
  const groups = [...(state.groups || []).map((g) => g.id), null];
  const blocks = [];
  for (const groupId of groups) {
    const seats = state.seats.filter((s) => s.group_id === groupId && here.has(s.id));
    if (!seats.length) continue;
    blocks.push(h("li", {},
      h("strong", { text: names.groupName(groupId) }),
      h("span", { class: "muted", text: ` (${seats.length})` }),
      h("ul", {}, seats.map((s) => h("li", {},
        s.name, s.id === me ? ` (${t("you")})` : "",
        s.role !== "participant" ? h("span", { class: "tag", text: ROLES[s.role] || s.role }) : "")))));
  }
  const total = state.seats.filter((s) => here.has(s.id)).length;
  replace($("presence-list"),
    h("p", { class: "muted", text: tn("{count} seat connected.", "{count} seats connected.", total, { count: total }) }),
    blocks.length ? h("ul", { class: "presence-groups" }, blocks) : "");
}

function renderAgenda(state) {
  replace($("agenda-list"), state.agenda.length ? state.agenda.map((item) => h(
    "li", { class: `item-${item.status}`, "aria-current": item.status === "active" ? "step" : null },
    h("h3", { text: item.title }),
    h("p", { class: "meta" },
      `${KIND_LABELS[item.kind] || item.kind} · ` +
        t("{minutes} min", { minutes: Math.round(item.timebox_seconds / 60) }) + " ",
      h("span", { class: `state state-${item.status}`, text: ITEM_STATUS[item.status] }), " ",
      dissentFrom(item, state)),
  )) : h("li", { text: t("The agenda has not been set yet.") }));
}

const moments = timerMoments();

function tick() {
  const state = room.state;
  if (!state) return;
  const now = room.now();
  const item = activeItem(state);
  const timer = $("timer");
  if (item) {
    const clock = itemClock(item, now);
    const text = clockText(clock);
    timer.textContent = clock.running ? text : t("Paused · {time}", { time: text });
    timer.classList.toggle("over", clock.over);
    timer.classList.toggle("paused", !clock.running);
    const moment = moments(item, clock);
    if (moment) announce(announcer, moment);
  } else {
    moments(null);
  }
  const speaker = state.floor.speaker;
  const since = $("speaking-for");
  if (speaker && since && speaker.called_at) {
    since.textContent = ` · ${duration((now - Date.parse(speaker.called_at)) / 1000)}`;
  }
}

// What changed, in words ---------------------------------------------------------------------

function news(state, previous) {
  if (!previous.floor) return [];
  const said = [];
  const names = directory(state);
  const me = mySeat();
  if (previous.convening && previous.convening.status !== state.convening.status) {
    const status = state.convening.status;
    said.push(t("The convening is now {status}.", { status: STATUS_LABELS[status] || status }));
  }
  said.push(...itemNews(state, previous));
  const speaker = state.floor.speaker;
  const was = previous.floor.speaker;
  if (speaker && (!was || was.id !== speaker.id)) {
    said.push(speaker.seat_id === me ? t("You have the floor.") :
      t("{name} has the floor.", { name: names.name(speaker.seat_id) }));
  } else if (!speaker && was) {
    said.push(t("Nobody has the floor."));
  }
  if (state.floor.tour && !previous.floor.tour) said.push(t("A tour de table has started."));
  said.push(...queueNews(state, previous, me));
  const place = state.floor.queue.findIndex((e) => e.seat_id === me);
  const placeBefore = previous.floor.queue.findIndex((e) => e.seat_id === me);
  if (place >= 0 && place !== placeBefore) said.push(t("You are {place} in the queue.", { place: ordinal(place + 1) }));
  return said;
}

room.onState((state, previous) => {
  if (!record && RECORD.some((part) => (state[part] || []).length)) recordUi(previous);
  const live = state.convening.status === "live";
  if ($("contribute-form")) $("contribute-form").hidden = !(live && activeItem(state));
  if ($("commitment-form")) $("commitment-form").hidden = !live;
  renderPhase(state);
  renderItem(state);
  renderFloor(state);
  renderAgenda(state);
  renderPresence(state, room.presence);
  tick();
  announce(announcer, news(state, previous).join(" "));
});
room.onPresence((present) => {
  if (room.state) renderPresence(room.state, present);
});
room.onMode((mode) => {
  if (mode === "denied") announce(announcer, t("You no longer have access to this room."));
});
setInterval(tick, 1000);

// Asking for the floor -------------------------------------------------------------------

const actionStatus = $("action-status");
for (const button of document.querySelectorAll("#floor-actions [data-kind]")) {
  onPress(button, async () => {
    const kind = button.dataset.kind;
    if (button.dataset.waiting) await act("DELETE", `${api}/floor/hand?kind=${kind}`, undefined, actionStatus);
    else await act("POST", `${api}/floor/hand`, { kind }, actionStatus);
  });
}
onPress($("pass-turn"), () => act("POST", `${api}/floor/tour/pass`, undefined, actionStatus));

// Acting on the record (the code that does it loads on first use) ----------------------------

for (const form of document.querySelectorAll("form.record-form")) {
  form.addEventListener("focusin", () => recordUi(), { once: true });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    recordUi().then((ui) => ui.submit(form));
  });
}
document.addEventListener("click", (event) => {
  const button = event.target instanceof Element && event.target.closest("[data-dissent], [data-withdraw]");
  if (button && canAct) recordUi().then((ui) => ui.click(button));
});
