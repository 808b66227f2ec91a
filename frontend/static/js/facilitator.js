// The facilitator's console: agenda and timers, the floor and its queue, tours de table,
// airtime, presence and attendance, and the record (console-record.js). Every button is an HTTP
// call; the page changes when the event comes back through the live connection.

import { t } from "./i18n.js";
import {
  ITEM_STATUS, KIND_LABELS, REQUEST_LABELS, STATUS_LABELS, act, activeItem, announce, clockText, connectRoom,
  directory, duration, enable, h, itemClock, onPress, replace,
} from "./live.js";
import { attachRecord } from "./console-record.js";
import { itemNews, queueNews, timerMoments } from "./news.js";

const page = document.getElementById("console");
const $ = (id) => document.getElementById(id);
const cid = page.dataset.convening;
const api = `/api/convenings/${cid}`;
const room = connectRoom({
  conveningId: cid,
  status: $("connection"),
  serverNow: page.dataset.serverNow,
});
const announcer = $("announce");
const record = attachRecord(room, api);
const SPEAKING_ROLES = new Set(["participant", "facilitator", "rapporteur", "convener"]);
const ATTENDANCE = {
  invited: t("Invited"), confirmed: t("Confirmed"), present: t("Present"), absent: t("Absent"),
  declined: t("Declined"),
};
const ROLES = {
  convener: t("convener"), facilitator: t("facilitator"), rapporteur: t("rapporteur"),
  participant: t("participant"), observer: t("observer"),
};
const TOUR_NOTES = {
  "had the turn": t("had the turn"), "to come": t("to come"), speaking: t("speaking"),
  "has spoken": t("has spoken"), passed: t("passed"),
};

/** The status region of the section a control sits in. */
function regionOf(control) {
  const section = control.closest("section");
  return section && section.querySelector("[data-status]");
}

function run(method, path, body, control) {
  return act(method, `${api}${path}`, body, regionOf(control));
}

/** A small button that calls the API; `key` keeps the focus on it across re-renders. */
function button(label, key, action, options = {}) {
  const element = h("button", {
    type: "button",
    class: `small ${options.variant || "secondary"}`,
    "data-key": key,
    "aria-label": options.name || null,
  }, label);
  if (options.disabled) enable(element, false);
  onPress(element, action);
  return element;
}

// The convening and the current item ------------------------------------------------------

function renderConvening(state) {
  const status = state.convening.status;
  const badge = $("convening-status");
  badge.textContent = STATUS_LABELS[status] || status;
  badge.className = `status status-${status}`;
  $("open-convening").hidden = status !== "scheduled";
  $("close-convening").hidden = status !== "live";
  const phase = $("phase");
  const notes = {
    draft: t("The convening is still in preparation: schedule it from the preparation console before opening it."),
    scheduled: t("The convening is scheduled. Open it to start the room."),
    closed: t("The convening is closed."),
    reported: t("The convening is closed and reported."),
  };
  phase.hidden = !notes[status];
  phase.textContent = notes[status] || "";
}

function renderItem(state) {
  const item = activeItem(state);
  const live = state.convening.status === "live";
  $("timer").hidden = !item;
  $("item-controls").hidden = !item;
  if (item) {
    replace($("item"),
      h("h3", { class: "item-title", text: item.title }),
      h("p", { class: "meta", text: `${KIND_LABELS[item.kind] || item.kind} · ` +
        t("{minutes} min", { minutes: Math.round(item.timebox_seconds / 60) }) }),
      item.questions.length ?
        h("ul", { class: "questions" }, item.questions.map((q) => h("li", { text: q }))) : "");
    $("pause-item").hidden = !item.run_started_at;
    $("resume-item").hidden = !!item.run_started_at;
  } else {
    replace($("item"), h("p", { class: "muted", text: t("No agenda item is open.") }));
  }
  const after = item ? state.agenda.filter((i) => i.position > item.position) : state.agenda;
  const next = after.find((i) => i.status === "pending");
  const start = $("start-next");
  start.hidden = !(live && next);
  if (next) {
    start.textContent = t("Start the next item: {title}", { title: next.title });
    start.dataset.item = next.id;
  }
}

// The floor ------------------------------------------------------------------------------

function renderFloor(state) {
  const floor = state.floor;
  const names = directory(state);
  const open = state.convening.status === "live" && floor.item_id !== null;
  const speaker = floor.speaker;
  if (speaker) {
    const group = names.group(speaker.seat_id);
    $("speaker").replaceChildren(
      h("strong", { text: names.name(speaker.seat_id) }),
      group ? ` (${group})` : "",
      " ",
      t("has the floor"),
      speaker.kind !== "hand" && speaker.kind !== "called" ?
        ` (${REQUEST_LABELS[speaker.kind].toLowerCase()})` : "",
      h("span", { class: "speaking-for", "data-since": speaker.called_at }),
    );
  } else {
    $("speaker").textContent = open ? t("Nobody has the floor.") : t("The floor opens with an agenda item.");
  }
  enable($("call-next"), open && (floor.queue.length > 0 || !!floor.tour || !!speaker));
  enable($("end-turn"), open && !!speaker);

  const hands = floor.queue.filter((e) => e.kind === "hand").map((e) => e.id);
  const move = (entry, by) => {
    const order = [...hands];
    const at = order.indexOf(entry.id);
    [order[at], order[at + by]] = [order[at + by], order[at]];
    return order;
  };
  replace($("queue-body"), floor.queue.map((entry, index) => {
    const name = names.name(entry.seat_id);
    const group = names.group(entry.seat_id);
    const at = hands.indexOf(entry.id);
    const actions = [];
    if (entry.kind === "hand") {
      actions.push(
        button(t("Up"), `up-${entry.id}`, (b) => run("PUT", "/floor/queue", { entry_ids: move(entry, -1) }, b),
          { name: t("Move {name} up", { name }), disabled: at === 0 }),
        button(t("Down"), `down-${entry.id}`, (b) => run("PUT", "/floor/queue", { entry_ids: move(entry, 1) }, b),
          { name: t("Move {name} down", { name }), disabled: at === hands.length - 1 }),
      );
    }
    actions.push(button(t("Call"), `call-${entry.id}`,
      (b) => run("POST", "/floor/call", { seat_id: entry.seat_id }, b),
      { name: t("Call {name}", { name }), variant: "" }));
    return h("tr", {},
      h("td", { text: String(index + 1) }),
      h("th", { scope: "row" }, name, group ? h("span", { class: "muted", text: ` · ${group}` }) : ""),
      h("td", {}, entry.kind === "hand" ? REQUEST_LABELS.hand :
        h("span", { class: `tag tag-${entry.kind}`, text: REQUEST_LABELS[entry.kind] })),
      h("td", { "data-since": entry.raised_at }),
      h("td", { class: "actions" }, actions));
  }));
  $("queue-empty").hidden = floor.queue.length > 0;
  $("queue-wrap").hidden = floor.queue.length === 0;
  renderTour(state, names);
}

/** The seats one may call, and the queue order: only when they changed, not to undo a choice. */
function renderChoices(state, previous) {
  if (previous.convening !== state.convening) $("queue-order").value = state.convening.queue_order;
  if (previous.seats === state.seats && previous.groups === state.groups) return;
  const names = directory(state);
  const select = $("call-seat");
  const chosen = select.value;
  replace(select, state.seats.filter((s) => SPEAKING_ROLES.has(s.role)).map((s) => h("option", {
    value: s.id,
    selected: String(s.id) === chosen,
  }, names.group(s.id) ? `${s.name} (${names.group(s.id)})` : s.name)));
}

function renderTour(state, names) {
  const tour = state.floor.tour;
  const open = state.convening.status === "live" && state.floor.item_id !== null;
  $("tour-form").hidden = !!tour;
  $("tour-running").hidden = !tour;
  enable($("tour-form").querySelector("[type=submit]"), open);
  if (!tour) return;
  const speaking = state.floor.speaker && state.floor.speaker.kind === "tour" ?
    state.floor.speaker.seat_id : null;
  replace($("tour-list"), tour.seat_ids.map((seatId, index) => {
    let note = index < tour.next_index ? "had the turn" : "to come";
    if (seatId === speaking) note = "speaking";
    else if (tour.spoken.includes(seatId)) note = "has spoken";
    else if (tour.passed.includes(seatId)) note = "passed";
    const name = names.name(seatId);
    const canPass = note === "speaking" || note === "to come";
    return h("li", { class: `tour-${note.replace(/\s/g, "-")}` },
      h("strong", { text: name }), h("span", { class: "muted", text: ` · ${TOUR_NOTES[note]} ` }),
      canPass ? button(t("Pass"), `pass-${seatId}`,
        (b) => run("POST", "/floor/tour/pass-for", { seat_id: seatId }, b),
        { name: t("Pass for {name}", { name }) }) : "");
  }));
}

// The agenda -----------------------------------------------------------------------------

function renderAgenda(state) {
  const live = state.convening.status === "live";
  replace($("agenda-body"), state.agenda.map((item, index) => {
    const actions = [];
    if (item.status === "active") {
      actions.push(item.run_started_at ?
        button(t("Pause"), `pause-${item.id}`, (b) => run("POST", `/agenda/${item.id}/pause`, undefined, b),
          { name: t("Pause {title}", { title: item.title }) }) :
        button(t("Resume"), `resume-${item.id}`, (b) => run("POST", `/agenda/${item.id}/resume`, undefined, b),
          { name: t("Resume {title}", { title: item.title }) }),
      button(t("Complete"), `complete-${item.id}`,
        (b) => run("POST", `/agenda/${item.id}/complete`, undefined, b),
        { name: t("Complete {title}", { title: item.title }), variant: "" }));
    } else {
      const done = item.status === "done";
      actions.push(button(done ? t("Reopen") : t("Start"), `start-${item.id}`,
        (b) => run("POST", `/agenda/${item.id}/start`, undefined, b),
        { name: done ? t("Reopen {title}", { title: item.title }) : t("Start {title}", { title: item.title }),
          disabled: !live,
          variant: item.status === "done" ? "secondary outline" : "" }));
    }
    return h("tr", { class: `item-${item.status}`, "aria-current": item.status === "active" ? "step" : null },
      h("td", { text: String(index + 1) }),
      h("th", { scope: "row" }, item.title,
        h("span", { class: "muted", text: ` · ${KIND_LABELS[item.kind] || item.kind}` })),
      h("td", { "data-item-clock": item.id }),
      h("td", {}, h("span", { class: `state state-${item.status}`, text: ITEM_STATUS[item.status] })),
      h("td", { class: "actions" }, actions));
  }));
}

// Airtime, presence, attendance ----------------------------------------------------------

function renderAirtime(state, now) {
  const names = directory(state);
  const floor = state.floor;
  const seatTime = new Map(Object.entries(floor.airtime.seats).map(([k, v]) => [Number(k), v]));
  const groupTime = new Map(Object.entries(floor.airtime.groups));
  if (floor.speaker && floor.speaker.called_at) { // the turn in progress counts as it runs
    const running = Math.max(0, (now - Date.parse(floor.speaker.called_at)) / 1000);
    const seat = names.seat(floor.speaker.seat_id);
    const key = seat && seat.group_id !== null ? String(seat.group_id) : "none";
    seatTime.set(floor.speaker.seat_id, (seatTime.get(floor.speaker.seat_id) || 0) + running);
    groupTime.set(key, (groupTime.get(key) || 0) + running);
  }
  const total = [...seatTime.values()].reduce((a, b) => a + b, 0);
  const row = (label, seconds) => h("tr", {},
    h("th", { scope: "row", text: label }),
    h("td", { text: duration(seconds) }),
    h("td", {}, h("meter", { min: 0, max: total || 1, value: seconds,
      "aria-label": `${label}: ${total ? Math.round((100 * seconds) / total) : 0}%` }),
    ` ${total ? Math.round((100 * seconds) / total) : 0}%`));
  const groups = state.groups.map((g) => row(g.name, groupTime.get(String(g.id)) || 0));
  if (groupTime.has("none") || state.seats.some((s) => s.group_id === null && SPEAKING_ROLES.has(s.role))) {
    groups.push(row(t("No group"), groupTime.get("none") || 0));
  }
  $("airtime-groups").replaceChildren(...groups);
  $("airtime-seats").replaceChildren(...state.seats
    .filter((s) => SPEAKING_ROLES.has(s.role) || seatTime.has(s.id))
    .map((s) => row(s.name, seatTime.get(s.id) || 0)));
}

const MARKS = { present: t("present"), absent: t("absent") };

function renderAttendance(state, present) {
  const names = directory(state);
  const here = new Set(present);
  const summary = [...state.groups.map((g) => g.id), null].map((groupId) => {
    const seats = state.seats.filter((s) => s.group_id === groupId);
    if (!seats.length) return null;
    const connected = seats.filter((s) => here.has(s.id));
    return h("li", {}, h("strong", { text: names.groupName(groupId) }),
      ": ", t("{count} of {total} connected", { count: connected.length, total: seats.length }),
      connected.length ? h("span", { class: "muted", text: ` (${connected.map((s) => s.name).join(", ")})` }) : "");
  }).filter(Boolean);
  replace($("presence-summary"), summary);
  replace($("attendance-body"), state.seats.map((s) => {
    const group = names.group(s.id);
    const mark = (to, label) => button(label, `${to}-${s.id}`,
      (b) => run("PUT", `/seats/${s.id}/attendance`, { attendance: to }, b),
      { name: t("Mark {name} {attendance}", { name: s.name, attendance: MARKS[to] }), disabled: s.attendance === to });
    return h("tr", {},
      h("th", { scope: "row" }, s.name,
        h("span", { class: "muted", text: ` · ${group || t("no group")} · ${ROLES[s.role] || s.role}` })),
      h("td", {}, here.has(s.id) ?
        h("span", { class: "state state-active", text: t("Connected") }) : h("span", { class: "muted", text: t("No") })),
      h("td", { text: ATTENDANCE[s.attendance] || s.attendance }),
      h("td", { class: "actions" }, mark("present", t("Present")), mark("absent", t("Absent"))));
  }));
}

// Time passing ---------------------------------------------------------------------------

const moments = timerMoments();

function tick() {
  const state = room.state;
  if (!state) return;
  const now = room.now();
  const item = activeItem(state);
  if (item) {
    const clock = itemClock(item, now);
    const timer = $("timer");
    timer.textContent = clock.running ? clockText(clock) : t("Paused · {time}", { time: clockText(clock) });
    timer.classList.toggle("over", clock.over);
    timer.classList.toggle("paused", !clock.running);
    const moment = moments(item, clock);
    if (moment) announce(announcer, moment);
  } else {
    moments(null);
  }
  for (const cell of document.querySelectorAll("[data-item-clock]")) {
    const found = state.agenda.find((i) => String(i.id) === cell.dataset.itemClock);
    if (!found) continue;
    const clock = itemClock(found, now);
    cell.textContent = t("{elapsed} of {timebox}", { elapsed: duration(clock.elapsed), timebox: duration(found.timebox_seconds) });
    cell.classList.toggle("over", clock.over);
  }
  for (const since of document.querySelectorAll("[data-since]")) {
    const start = Date.parse(since.dataset.since);
    if (!Number.isNaN(start)) since.textContent = ` ${duration((now - start) / 1000)}`;
  }
  renderAirtime(state, now);
}

function news(state, previous) {
  if (!previous.floor) return [];
  const names = directory(state);
  const said = queueNews(state, previous);
  const speaker = state.floor.speaker;
  const was = previous.floor.speaker;
  if (speaker && (!was || was.id !== speaker.id)) {
    said.push(t("{name} has the floor.", { name: names.name(speaker.seat_id) }));
  }
  said.push(...itemNews(state, previous));
  return said;
}

room.onState((state, previous) => {
  renderConvening(state);
  renderItem(state);
  renderFloor(state);
  renderChoices(state, previous);
  renderAgenda(state);
  renderAttendance(state, room.presence);
  const recorded = record.render(state, previous);
  tick();
  announce(announcer, [...news(state, previous), ...recorded].join(" "));
});
room.onPresence((present) => {
  if (room.state) renderAttendance(room.state, present);
});
setInterval(tick, 1000);

// Controls that stay on the page ---------------------------------------------------------

function current() {
  return room.state && activeItem(room.state);
}

onPress($("open-convening"), (b) => act("POST", `${api}/open`, undefined, regionOf(b)));
onPress($("close-convening"), (b) =>
  window.confirm(b.dataset.confirm) ? act("POST", `${api}/close`, undefined, regionOf(b)) : null);
onPress($("pause-item"), (b) => current() && run("POST", `/agenda/${current().id}/pause`, undefined, b));
onPress($("resume-item"), (b) => current() && run("POST", `/agenda/${current().id}/resume`, undefined, b));
onPress($("complete-item"), (b) => current() && run("POST", `/agenda/${current().id}/complete`, undefined, b));
onPress($("start-next"), (b) => run("POST", `/agenda/${b.dataset.item}/start`, undefined, b));
onPress($("call-next"), (b) => run("POST", "/floor/next", undefined, b));
onPress($("end-turn"), (b) => run("POST", "/floor/end-turn", undefined, b));
onPress($("end-tour"), (b) => run("DELETE", "/floor/tour", undefined, b));

function onSubmit(form, action) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const submit = form.querySelector("[type=submit]");
    if (submit.getAttribute("aria-disabled") === "true" || submit.getAttribute("aria-busy")) return;
    submit.setAttribute("aria-busy", "true");
    try {
      await action(new FormData(form), submit);
    } finally {
      submit.removeAttribute("aria-busy");
    }
  });
}

onSubmit($("call-form"), (data, b) => run("POST", "/floor/call", { seat_id: Number(data.get("seat_id")) }, b));
onSubmit($("order-form"), (data, b) => run("PUT", "/floor/order", { queue_order: data.get("queue_order") }, b));
onSubmit($("tour-form"), (data, b) => run("POST", "/floor/tour", { order: data.get("order") }, b));
