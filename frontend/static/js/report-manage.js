// The convener's publishing and reach view: readers (add, send, reissue, revoke), replies
// to answers, and the live part: when a report.* event arrives on the websocket, the reach,
// the answers and the readers are asked for again and shown without a reload.

import { t, tn } from "./i18n.js";
import { act, announce, connectRoom, h, onPress, replace, say } from "./live.js";
import { dataJson, localTime, syncAnswers } from "./report-common.js";
import { onSubmit, send, tell } from "./record-send.js";

const $ = (id) => document.getElementById(id);
const page = $("manage");
const cid = page.dataset.convening;
const api = `/api/convenings/${cid}/report`;
const zone = page.dataset.zone;
const groupNames = dataJson(page, "groupNames");
const labels = {
  source: dataJson(page, "sourceLabels"),
  state: dataJson(page, "stateLabels"),
  delivery: dataJson(page, "deliveryLabels"),
};
const answerOptions = { zone, forConvener: true, groupNames };
const COLUMNS = ["readers", "read", "acknowledged", "answered"];
const NEWS = {
  "report.read": t("A reader opened the report-back."),
  "report.acknowledged": t("A reader acknowledged the report-back."),
  "report.answered": t("A reader answered."),
};

// Showing ------------------------------------------------------------------------------

const muted = (text) => h("span", { class: "muted", text });
const hidden = (text) => h("span", { class: "visually-hidden", text });

function actionButton(reader, action, label, extra, style = "small secondary") {
  return h("button", {
    type: "button", class: style, "data-reader-action": action, "data-reader": reader.id,
    "data-name": reader.name, "data-key": `${action}-${reader.id}`,
  }, label, hidden(extra));
}

/** One reader's row, as the page renders it. */
function readerRow(r) {
  const group = r.group_id === null ? t("No group") : groupNames[String(r.group_id)] || t("No group");
  const link = h("td", { class: "link-cell" },
    h("span", { class: `state state-${r.state}`, text: labels.state[r.state] || r.state }));
  if (r.link) {
    const id = `reader-link-${r.id}`;
    link.append(h("div", { class: "link-copy" },
      h("input", { id, class: "link", value: r.link, readonly: true, "data-select-on-focus": true,
        "aria-label": t("Link of {name}", { name: r.name }) }),
      h("button", { type: "button", class: "small secondary", "data-copy": id,
        "data-copy-status": "readers-status" }, t("Copy"), hidden(" " + t("the link of {name}", { name: r.name })))));
  }
  const delivery = h("td");
  if (r.delivery) {
    delivery.append(h("span", { class: `state state-${r.delivery}`, text: labels.delivery[r.delivery] || r.delivery }));
    if (r.delivery_error) delivery.append(h("br"), h("small", { class: "error-text", text: t("Last error: {error}", { error: r.delivery_error }) }));
  } else delivery.append(muted(t("Not sent")));
  const active = r.state === "active";
  return h("tr", { "data-id": r.id },
    h("th", { scope: "row" }, r.name, h("br"), h("small", { class: "muted", text: r.email || t("no email address") }),
      h("br"), h("small", { text: `${group} · ${labels.source[r.source] || r.source}` })),
    link,
    delivery,
    h("td", { "data-col": "read" }, r.first_read_at ? localTime(r.first_read_at, zone, "date") : muted(t("Not yet"))),
    h("td", { "data-col": "acknowledged" }, r.acknowledged_at ?
      t("Version {number}, {date}", { number: r.acknowledged_version, date: localTime(r.acknowledged_at, zone, "date") }) :
      muted(t("Not yet"))),
    h("td", { "data-col": "answers", text: String(r.answers) }),
    h("td", { class: "actions" },
      r.email && active ? actionButton(r, "send", t("Resend"), " " + t("the link to {name}", { name: r.name })) : "",
      actionButton(r, "reissue", active ? t("New link") : t("Reissue"), " " + t("for {name}", { name: r.name })),
      active ? actionButton(r, "revoke", t("Revoke"), " " + t("the link of {name}", { name: r.name }),
        "small secondary outline") : ""));
}

function showReaders(list) {
  replace($("readers-rows"), list.map(readerRow));
  $("readers-caption").textContent = tn("{count} reader", "{count} readers", list.length, { count: list.length });
}

function reachCells(row) {
  return COLUMNS.map((col) => h("td", { "data-col": col, text: String(row[col]) }));
}

function showReach(reach) {
  replace($("reach-rows"), reach.groups.map((row) => h("tr", { "data-group": row.group_id ?? "" },
    h("th", { scope: "row", text: row.group }), reachCells(row))));
  replace($("reach-total"), h("tr", {}, h("th", { scope: "row", text: t("All readers") }), reachCells(reach.total)));
}

function showAnswers(answers) {
  syncAnswers($("answers-list"), answers, answerOptions);
  $("answers-empty").hidden = answers.length > 0;
}

// Asking again -------------------------------------------------------------------------

let timer = 0;
let running = null;

async function refresh() {
  const [readers, reach, answers] = await Promise.all([
    act("GET", `${api}/readers`), act("GET", `${api}/reach`), act("GET", `${api}/answers`),
  ]);
  if (readers) showReaders(readers);
  if (reach) showReach(reach);
  if (answers) showAnswers(answers);
}

/** Ask again soon: a burst of events costs one round of requests. */
function refreshSoon() {
  clearTimeout(timer);
  timer = setTimeout(async () => {
    if (running) await running;
    running = refresh();
    await running;
    running = null;
  }, 150);
}

let known = Number(page.dataset.seq); // the last event the server had when it rendered the page
const room = connectRoom({ conveningId: cid, status: $("connection"), serverNow: page.dataset.serverNow });
room.onState((state, previous, events) => {
  const ours = events.filter((e) => e.kind.startsWith("report."));
  // A snapshot newer than the page (events missed before the socket opened) counts too.
  if (ours.length || (!events.length && room.seq > known)) refreshSoon();
  known = Math.max(known, room.seq || 0);
  const news = [...new Set(ours.map((e) => NEWS[e.kind]).filter(Boolean))];
  if (news.length) announce($("announce"), news.join(" "));
});

// Readers ------------------------------------------------------------------------------

const status = $("readers-status");

onPress($("send-all"), async () => {
  const done = await act("POST", `${api}/readers/send`, {}, status);
  if (!done) return;
  say(status, done.queued ?
    tn("{count} email was queued.", "{count} emails were queued.", done.queued, { count: done.queued }) :
    t("Everyone with an email address has already been sent the latest version."));
  refreshSoon();
});

onPress($("add-absent"), async () => {
  const done = await act("POST", `${api}/readers/absent-seats`, undefined, status);
  if (!done) return;
  say(status, done.added ?
    tn("{count} absent seat is now a reader.", "{count} absent seats are now readers.", done.added, { count: done.added }) :
    t("Every absent seat is already a reader."));
  refreshSoon();
});

const ACTIONS = {
  send: { method: "POST", path: () => `${api}/readers/send`, body: (id) => ({ reader_ids: [id] }),
    done: (name) => t("The link to {name} was queued.", { name }) },
  reissue: { method: "POST", path: (id) => `${api}/readers/${id}/link`,
    confirm: (name) => t("Give {name} a new link? The current one stops working.", { name }),
    done: (name) => t("{name} has a new link.", { name }) },
  revoke: { method: "DELETE", path: (id) => `${api}/readers/${id}/link`,
    confirm: (name) => t("Revoke the link of {name}? It stops working at once; their answers stay.", { name }),
    done: (name) => t("The link of {name} was revoked.", { name }) },
};

document.addEventListener("click", async (event) => {
  const button = event.target instanceof Element && event.target.closest("button[data-reader-action]");
  if (!button || button.getAttribute("aria-busy")) return;
  const action = ACTIONS[button.dataset.readerAction];
  const id = Number(button.dataset.reader);
  const name = button.dataset.name;
  if (action.confirm && !window.confirm(action.confirm(name))) return;
  button.setAttribute("aria-busy", "true");
  try {
    const done = await act(action.method, action.path(id), action.body ? action.body(id) : undefined, status);
    if (done) say(status, action.done(name));
  } finally {
    button.removeAttribute("aria-busy");
  }
  refreshSoon();
});

onSubmit($("add-reader-form"), async (form) => {
  const group = form.elements.group_id.value;
  const body = { name: form.elements.name.value.trim(), email: form.elements.email.value.trim(),
    group_id: group ? Number(group) : null };
  const reader = await send("POST", `${api}/readers`, body, form);
  if (!reader) return;
  form.reset();
  tell(form, t("{name} was added. Send their link with “Resend”, or copy it from the table.", { name: reader.name }));
  refreshSoon();
});

// Replies ------------------------------------------------------------------------------

document.addEventListener("submit", async (event) => {
  const form = event.target;
  if (!(form instanceof HTMLFormElement) || !form.classList.contains("reply-form")) return;
  event.preventDefault();
  if (form.getAttribute("aria-busy")) return;
  form.setAttribute("aria-busy", "true");
  try {
    const reply = await send("POST", `${api}/answers/${form.dataset.answer}/replies`,
      { text: form.elements.text.value }, form);
    if (!reply) return;
    form.elements.text.value = "";
    tell(form, t("Reply sent. The reader sees it under their answer."));
  } finally {
    form.removeAttribute("aria-busy");
  }
  refreshSoon();
});
