// The seat's live room: the item and its timer, the floor, who is here, the agenda, and the
// record (room-record.js, loaded when there is a record to show or on the first action on it,
// which keeps the first load small). Participants ask for the floor, contribute, answer checks,
// dissent and commit from here; the server decides who may.

import {
  ITEM_STATUS, KIND_LABELS, REQUEST_LABELS, act, activeItem, announce, clockText, connectRoom,
  directory, duration, h, itemClock, onPress, ordinal, replace,
} from "./live.js";

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
    "aria-label": `Dissent from the agenda item “${item.title}”` }, "Dissent");
}

function mySeat() {
  const seat = room.you ? room.you.seat_id : Number(page.dataset.seat) || null;
  return seat || null;
}

// Rendering -------------------------------------------------------------------------------

function renderPhase(state) {
  const status = state.convening.status;
  const badge = $("convening-status");
  badge.textContent = status.replace(/_/g, " ");
  badge.className = `status status-${status}`;
  const phase = $("phase");
  phase.hidden = status === "live";
  if (status === "draft" || status === "scheduled") {
    phase.textContent = "The convening has not started yet. Keep this page open: it becomes the " +
      "live room when the convening opens.";
  } else if (status !== "live") {
    phase.textContent = `The convening is ${status}. Thank you for taking part.`;
  }
}

function renderItem(state) {
  const item = activeItem(state);
  const timer = $("timer");
  timer.hidden = !item;
  if (!item) {
    replace($("item"), h("p", { class: "muted", text: "No agenda item is open." }));
    return;
  }
  const parts = [
    h("h3", { class: "item-title", text: item.title }),
    h("p", { class: "meta", text: `${KIND_LABELS[item.kind] || item.kind} · ` +
      `${Math.round(item.timebox_seconds / 60)} min` }),
  ];
  if (item.description) parts.push(h("p", { class: "description", text: item.description }));
  if (item.questions.length) {
    parts.push(
      h("p", { class: "questions-label", id: "questions-label", text: "Questions" }),
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
      h("strong", { text: speaker.seat_id === me ? "You" : names.name(speaker.seat_id) }),
      group ? ` (${group})` : "",
      speaker.seat_id === me ? " have the floor" : " has the floor",
      how,
      h("span", { class: "speaking-for", id: "speaking-for" }),
    );
  } else {
    const status = state.convening.status;
    if (open) line.textContent = "Nobody has the floor.";
    else if (status === "live") line.textContent = "The floor opens with the next agenda item.";
    else if (status === "draft" || status === "scheduled") line.textContent = "The floor opens when the convening starts.";
    else line.textContent = "The floor is closed.";
  }

  replace($("queue"), floor.queue.map((entry, index) => h(
    "li", { class: entry.seat_id === me ? "mine" : null },
    h("span", { class: "visually-hidden", text: `${ordinal(index + 1)}: ` }),
    h("strong", { text: names.name(entry.seat_id) }),
    entry.seat_id === me ? " (you)" : "",
    names.group(entry.seat_id) ? h("span", { class: "muted", text: ` · ${names.group(entry.seat_id)}` }) : "",
    entry.kind !== "hand" ? h("span", { class: `tag tag-${entry.kind}`, text: REQUEST_LABELS[entry.kind] }) : "",
  )));
  $("queue-empty").hidden = floor.queue.length > 0;

  const position = $("my-position");
  const place = floor.queue.findIndex((entry) => entry.seat_id === me);
  if (speaker && speaker.seat_id === me) position.textContent = "You have the floor.";
  else if (place >= 0) position.textContent = `You are ${ordinal(place + 1)} in the queue.`;
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
    let note = "to come";
    if (seatId === speaking) note = "speaking";
    else if (tour.spoken.includes(seatId)) note = "has spoken";
    else if (tour.passed.includes(seatId)) note = "passed";
    return h("li", { class: `tour-${note.replace(/\s/g, "-")}` },
      h("strong", { text: names.name(seatId) }), seatId === me ? " (you)" : "",
      h("span", { class: "muted", text: ` · ${note}` }));
  }));
}

const LABELS = {
  hand: ["Raise my hand", "Lower my hand"],
  point_of_order: ["Point of order", "Withdraw my point of order"],
  direct_reply: ["Direct reply", "Withdraw my direct reply"],
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
        s.name, s.id === me ? " (you)" : "",
        s.role !== "participant" ? h("span", { class: "tag", text: s.role }) : "")))));
  }
  const total = state.seats.filter((s) => here.has(s.id)).length;
  replace($("presence-list"),
    h("p", { class: "muted", text: total === 1 ? "1 seat connected." : `${total} seats connected.` }),
    blocks.length ? h("ul", { class: "presence-groups" }, blocks) : "");
}

function renderAgenda(state) {
  replace($("agenda-list"), state.agenda.length ? state.agenda.map((item) => h(
    "li", { class: `item-${item.status}`, "aria-current": item.status === "active" ? "step" : null },
    h("h3", { text: item.title }),
    h("p", { class: "meta" },
      `${KIND_LABELS[item.kind] || item.kind} · ${Math.round(item.timebox_seconds / 60)} min `,
      h("span", { class: `state state-${item.status}`, text: ITEM_STATUS[item.status] }), " ",
      dissentFrom(item, state)),
  )) : h("li", { text: "The agenda has not been set yet." }));
}

const overAnnounced = new Set();

function tick() {
  const state = room.state;
  if (!state) return;
  const now = room.now();
  const item = activeItem(state);
  const timer = $("timer");
  if (item) {
    const clock = itemClock(item, now);
    const text = clockText(clock);
    timer.textContent = clock.running ? text : `Paused · ${text}`;
    timer.classList.toggle("over", clock.over);
    timer.classList.toggle("paused", !clock.running);
    if (clock.over && !overAnnounced.has(item.id)) {
      overAnnounced.add(item.id);
      announce(announcer, "The time for this item is up.");
    }
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
    said.push(`The convening is now ${state.convening.status}.`);
  }
  const item = activeItem(state);
  const before = previous.agenda ? activeItem(previous) : null;
  if (item && (!before || before.id !== item.id)) said.push(`Now on the floor: ${item.title}.`);
  else if (item && before && !!item.run_started_at !== !!before.run_started_at) {
    said.push(item.run_started_at ? "The timer is running again." : "The timer is paused.");
  }
  const speaker = state.floor.speaker;
  const was = previous.floor.speaker;
  if (speaker && (!was || was.id !== speaker.id)) {
    said.push(speaker.seat_id === me ? "You have the floor." : `${names.name(speaker.seat_id)} has the floor.`);
  } else if (!speaker && was) {
    said.push("Nobody has the floor.");
  }
  if (state.floor.tour && !previous.floor.tour) said.push("A tour de table has started.");
  const place = state.floor.queue.findIndex((e) => e.seat_id === me);
  const placeBefore = previous.floor.queue.findIndex((e) => e.seat_id === me);
  if (place >= 0 && place !== placeBefore) said.push(`You are ${ordinal(place + 1)} in the queue.`);
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
  if (mode === "denied") announce(announcer, "You no longer have access to this room.");
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
