// The deliberation record as the live pages show it: labels, the tally, the lists.
// (Acting on it is in record-send.js.)

import { t, tn, tp } from "./i18n.js";
import { h, problem } from "./live.js";

export const ANSWERS = {
  endorse: t("Endorse"),
  agree: t("Agree"),
  agree_with_reservations: t("Agree with reservations"),
  stand_aside: t("Stand aside"),
  disagree: t("Disagree"),
  block: t("Block"),
};
export const NEEDS_REASON = new Set(["agree_with_reservations", "stand_aside", "disagree", "block"]);
export const LEVELS = {
  consensus: t("Consensus"),
  consensus_with_reservations: t("Consensus with reservations"),
  no_consensus: t("No consensus"),
  majority_decision: t("Decision by majority"),
};
export const KINDS = {
  statement: t("Statement"), question: t("Question"), proposal: t("Proposal"),
  clarification: t("Clarification"),
};
export const LIGHTS = {
  green: t("Green: reported within the period"),
  yellow: t("Yellow: one period without a report"),
  red: t("Red: two periods without a report"),
};
export const PROGRESS = {
  on_track: t("on track"), at_risk: t("at risk"), off_track: t("off track"), done: t("done"),
};

/** Who made a record, as the server lets the room see it. */
export function who(by) {
  if (!by) return t("Anonymous");
  if (!by.name) return by.label;
  return [by.name, by.affiliation, by.group].filter(Boolean).join(", ");
}

/** An instant as hh:mm in the convening's zone. */
export function clock(iso, state) {
  if (!iso) return "";
  const zone = state.convening.time_zone || "UTC";
  return new Intl.DateTimeFormat("en-GB", { timeZone: zone, hour: "2-digit", minute: "2-digit" })
    .format(new Date(iso));
}

const short = (text) => (text.length > 90 ? `${text.slice(0, 88)}…` : text);
const find = (list, id) => (list || []).find((r) => r.id === id);
const newest = (list) => [...(list || [])].reverse();

/** A Dissent button: the page's click handler reads what it is against from its data. */
export function dissentButton(target, id, about) {
  return h("button", {
    type: "button", class: "small secondary outline", "data-dissent": target, "data-target": id,
    "data-key": `dissent-${target}-${id}`, "data-about": about, "aria-label": t("Dissent from {about}", { about }),
  }, tp("button", "Dissent"));
}

/** A table in a box that scrolls sideways on narrow screens: a named region that takes the
 * keyboard focus, so that the keyboard can scroll it too. */
export function scrolling(name, table) {
  return h("div", { class: "table-wrap", tabindex: "0", role: "region", "aria-label": name }, table);
}

// The tally -------------------------------------------------------------------------------

/** "2 answers: 1 agree, 1 agree with reservations". */
export function summary(tally) {
  if (!tally.answers) return t("no answers yet");
  const parts = Object.keys(ANSWERS).filter((a) => tally.overall[a])
    .map((a) => `${tally.overall[a]} ${ANSWERS[a].toLowerCase()}`);
  return tn("{count} answer: {parts}", "{count} answers: {parts}", tally.answers,
    { count: tally.answers, parts: parts.join(", ") });
}

/** The tally overall and by stakeholder group, as a table. */
export function tallyTable(tally) {
  const answers = Object.keys(ANSWERS);
  const row = (label, counts, cls, text = label) => h("tr", { class: cls, "data-group": label },
    h("th", { scope: "row", text }),
    answers.map((a) => h("td", { "data-answer": a, text: String(counts[a] || 0) })),
    h("td", { "data-answer": "total", text: String(answers.reduce((n, a) => n + (counts[a] || 0), 0)) }));
  return scrolling(t("Tally by stakeholder group"), h("table", { class: "tally" },
    h("caption", { text: t("Tally by stakeholder group ({summary})", { summary: summary(tally) }) }),
    h("thead", {}, h("tr", {}, h("th", { scope: "col", text: t("Group") }),
      answers.map((a) => h("th", { scope: "col", text: ANSWERS[a] })), h("th", { scope: "col", text: t("Total") }))),
    h("tbody", {}, tally.by_group.map((g) => row(g.group, g.counts))),
    h("tfoot", {}, row("Overall", tally.overall, "overall", t("Overall")))));
}

/** The reasons given with the answers of a check. */
export function reasons(check) {
  if (!check.reasons.length) return "";
  return h("details", { class: "reasons" }, h("summary", { text: t("Reasons given ({count})", { count: check.reasons.length }) }),
    h("ul", {}, check.reasons.map((r) => h("li", {},
      h("strong", { text: ANSWERS[r.answer] || r.answer }), ` (${who(r.by)}): `, r.reason))));
}

/** Update a container's children by record id: new records get an element from `create`,
 * every element is passed to `update`, gone ones leave. Elements (and what is typed in
 * their forms) survive updates. */
export function keyed(container, records, create, update) {
  const had = new Map([...container.children].map((el) => [el.dataset.id, el]));
  const keep = records.map((record) => {
    const el = had.get(String(record.id)) || create(record);
    el.dataset.id = String(record.id);
    update(el, record);
    return el;
  });
  for (const el of had.values()) if (!keep.includes(el)) el.remove();
  keep.forEach((el, i) => {
    if (container.children[i] !== el) container.insertBefore(el, container.children[i] || null);
  });
}

// The lists -------------------------------------------------------------------------------

const TARGETS = {
  proposal: t("a proposal"), outcome: t("an outcome"), item: t("an agenda item"),
  contribution: t("a contribution"),
};

/** What a dissent is against, in words. */
export function targetText(d, state) {
  const record = {
    proposal: find(state.checks, d.target_id),
    outcome: find(state.outcomes, d.target_id),
    item: find(state.agenda, d.target_id),
    contribution: find(state.contributions, d.target_id),
  }[d.target];
  if (!record) return TARGETS[d.target] || d.target;
  if (d.target === "proposal") return t("the proposal “{text}”", { text: short(record.proposal) });
  if (d.target === "outcome") return t("the outcome “{text}”", { text: short(record.statement) });
  if (d.target === "item") return t("the agenda item “{title}”", { title: record.title });
  return t("the {kind} by {who}: “{text}”",
    { kind: (KINDS[record.kind] || record.kind).toLowerCase(), who: who(record.by), text: short(record.text) });
}

/** A contribution; `dissent` adds the Dissent button. */
export function contributionItem(c, state, dissent = false) {
  return h("li", { class: `contribution kind-${c.kind}` },
    h("span", { class: "tag", text: KINDS[c.kind] || c.kind }), " ",
    h("strong", { text: who(c.by) }), c.captured ? h("span", { class: "muted", text: ` (${t("captured")})` }) : "",
    h("span", { class: "muted", text: ` · ${clock(c.at, state)}` }),
    h("p", { class: "record-text", text: c.text }),
    dissent ? dissentButton("contribution", c.id, t("the {kind} by {who}",
      { kind: (KINDS[c.kind] || c.kind).toLowerCase(), who: who(c.by) })) : "");
}

export function outcomeItems(state, dissent = false) {
  return newest(state.outcomes).map((o) => {
    const item = find(state.agenda, o.item_id);
    return h("li", { class: "outcome" },
      h("span", { class: `level level-${o.level}`, text: LEVELS[o.level] || o.level }), " ",
      h("strong", { class: "record-text", text: o.statement }),
      h("p", { class: "muted", text: `${item ? `${item.title} · ` : ""}${summary(o.tally)} · ${clock(o.recorded_at, state)}` }),
      dissent ? dissentButton("outcome", o.id, t("the outcome “{text}”", { text: short(o.statement) })) : "");
  });
}

/** Every dissent, newest first; withdrawn ones keep their text and say so. `withdraw(d)` tells
 * whether to offer the Withdraw button. */
export function dissentItems(state, withdraw = () => false) {
  return newest(state.dissents).map((d) => h("li", { class: d.withdrawn ? "dissent withdrawn" : "dissent", "data-id": d.id },
    d.withdrawn ? h("span", { class: "tag", text: tp("one dissent", "Withdrawn") }) : "",
    h("strong", { text: who(d.by) }), " ", t("dissents from {target}", { target: targetText(d, state) }),
    h("span", { class: "muted", text: ` · ${clock(d.at, state)}` }),
    h("p", { class: "record-text", text: d.reason }),
    d.withdrawn ? h("p", { class: "muted", text: d.withdrawn.reason ?
      t("Withdrawn at {time}: {reason}", { time: clock(d.withdrawn.at, state), reason: d.withdrawn.reason }) :
      t("Withdrawn at {time}.", { time: clock(d.withdrawn.at, state) }) }) : "",
    !d.withdrawn && withdraw(d) ? h("button", { type: "button", class: "small secondary outline",
      "data-withdraw": d.id, "data-key": `withdraw-${d.id}`, "aria-label": t("Withdraw your dissent") },
    t("Withdraw")) : ""));
}

/** The parking lot; `resolve(p)` may add a control to an open issue. */
export function parkingItems(state, resolve = () => "") {
  return (state.parking || []).map((p) => h("li", { class: `parked parked-${p.status}` },
    h("span", { class: `state state-${p.status === "open" ? "pending" : "done"}`,
      text: p.status === "open" ? tp("one issue", "Open") : tp("one issue", "Resolved") }), " ",
    h("span", { class: "record-text", text: p.text }),
    p.raised_by ? h("span", { class: "muted", text: " · " + t("raised by {who}", { who: who(p.raised_by) }) }) : "",
    p.status === "resolved" ? h("p", { class: "muted", text: t("Resolution: {text}", { text: p.resolution }) }) : resolve(p)));
}

/** The commitments with their traffic lights, from GET .../commitments. */
export function commitmentsTable(rows, state) {
  if (!rows.length) return h("p", { class: "muted", text: t("No commitments yet.") });
  const columns = [t("Light"), t("Commitment"), t("By"), t("Owner"), t("Due"), t("Indicator"), t("Last report")];
  return scrolling(t("Commitments"), h("table", { class: "commitments" },
    h("thead", {}, h("tr", {}, columns.map((text) => h("th", { scope: "col", text })))),
    h("tbody", {}, rows.map(({ commitment: c, light }) => h("tr", { "data-id": c.id },
      h("td", {}, light_(light)),
      h("th", { scope: "row", text: c.what }),
      h("td", { text: c.organization }),
      h("td", { text: c.owner || "" }),
      h("td", { text: c.due_date }),
      h("td", { text: c.indicator }),
      h("td", { text: c.last_report ? `${PROGRESS[c.last_report.status] || c.last_report.status.replace(/_/g, " ")}: ${c.last_report.text}` : t("None yet") }),
    )))));
  function light_(light) {
    return h("span", { class: `light light-${light}`, text: LIGHTS[light] || light });
  }
}

/** What changed in the record, in words, for the page's polite live region. */
export function recordNews(state, previous) {
  if (!previous.dissents) return [];
  const said = [];
  const before = (part) => new Map((previous[part] || []).map((r) => [r.id, r]));
  const dissents = before("dissents");
  for (const d of state.dissents) {
    if (!dissents.has(d.id)) said.push(t("A new dissent was logged."));
    else if (d.withdrawn && !dissents.get(d.id).withdrawn) said.push(t("A dissent was withdrawn."));
  }
  const checks = before("checks");
  for (const c of state.checks) if (!checks.has(c.id)) said.push(t("A consensus check is open: {text}", { text: short(c.proposal) }));
  const outcomes = before("outcomes");
  for (const o of state.outcomes) if (!outcomes.has(o.id)) said.push(t("Outcome recorded: {level}.", { level: LEVELS[o.level] }));
  const parked = before("parking");
  for (const p of state.parking) if (!parked.has(p.id)) said.push(t("An issue was parked."));
  const made = before("commitments");
  for (const c of state.commitments) if (!made.has(c.id)) said.push(t("A commitment was made."));
  return said;
}

/** Keep a commitments table current: fetch the list (with its lights) when the record's
 * commitments change. */
export function commitmentsWatcher(api, container) {
  let shown = null;
  return async (state) => {
    if (shown === state.commitments) return;
    shown = state.commitments;
    if (!shown.length) {
      container.replaceChildren(commitmentsTable([], state));
      return;
    }
    try {
      const response = await fetch(`${api}/commitments`, { credentials: "same-origin", headers: { Accept: "application/json" } });
      if (!response.ok) throw new Error(String(response.status));
      if (shown === state.commitments) container.replaceChildren(commitmentsTable(await response.json(), state));
    } catch {
      shown = null; // fetched again with the next change
    }
  };
}
