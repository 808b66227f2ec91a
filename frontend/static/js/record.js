// The deliberation record as the live pages show it: labels, the tally, the lists.
// (Acting on it is in record-send.js.)

import { h, problem } from "./live.js";

export const ANSWERS = {
  endorse: "Endorse",
  agree: "Agree",
  agree_with_reservations: "Agree with reservations",
  stand_aside: "Stand aside",
  disagree: "Disagree",
  block: "Block",
};
export const NEEDS_REASON = new Set(["agree_with_reservations", "stand_aside", "disagree", "block"]);
export const LEVELS = {
  consensus: "Consensus",
  consensus_with_reservations: "Consensus with reservations",
  no_consensus: "No consensus",
  majority_decision: "Decision by majority",
};
export const KINDS = {
  statement: "Statement", question: "Question", proposal: "Proposal", clarification: "Clarification",
};
export const LIGHTS = {
  green: "Green: reported within the period",
  yellow: "Yellow: one period without a report",
  red: "Red: two periods without a report",
};

/** Who made a record, as the server lets the room see it. */
export function who(by) {
  if (!by) return "Anonymous";
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
    "data-key": `dissent-${target}-${id}`, "aria-label": `Dissent from ${about}`,
  }, "Dissent");
}

// The tally -------------------------------------------------------------------------------

/** "2 answers: 1 agree, 1 agree with reservations". */
export function summary(tally) {
  if (!tally.answers) return "no answers yet";
  const parts = Object.keys(ANSWERS).filter((a) => tally.overall[a])
    .map((a) => `${tally.overall[a]} ${ANSWERS[a].toLowerCase()}`);
  return `${tally.answers} answer${tally.answers === 1 ? "" : "s"}: ${parts.join(", ")}`;
}

/** The tally overall and by stakeholder group, as a table. */
export function tallyTable(tally) {
  const answers = Object.keys(ANSWERS);
  const row = (label, counts, cls) => h("tr", { class: cls, "data-group": label },
    h("th", { scope: "row", text: label }),
    answers.map((a) => h("td", { "data-answer": a, text: String(counts[a] || 0) })),
    h("td", { "data-answer": "total", text: String(answers.reduce((n, a) => n + (counts[a] || 0), 0)) }));
  return h("div", { class: "table-wrap" }, h("table", { class: "tally" },
    h("caption", { text: `Tally by stakeholder group (${summary(tally)})` }),
    h("thead", {}, h("tr", {}, h("th", { scope: "col", text: "Group" }),
      answers.map((a) => h("th", { scope: "col", text: ANSWERS[a] })), h("th", { scope: "col", text: "Total" }))),
    h("tbody", {}, tally.by_group.map((g) => row(g.group, g.counts))),
    h("tfoot", {}, row("Overall", tally.overall, "overall"))));
}

/** The reasons given with the answers of a check. */
export function reasons(check) {
  if (!check.reasons.length) return "";
  return h("details", { class: "reasons" }, h("summary", { text: `Reasons given (${check.reasons.length})` }),
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

/** What a dissent is against, in words. */
export function targetText(d, state) {
  const record = {
    proposal: find(state.checks, d.target_id),
    outcome: find(state.outcomes, d.target_id),
    item: find(state.agenda, d.target_id),
    contribution: find(state.contributions, d.target_id),
  }[d.target];
  if (!record) return `a ${d.target}`;
  if (d.target === "proposal") return `the proposal “${short(record.proposal)}”`;
  if (d.target === "outcome") return `the outcome “${short(record.statement)}”`;
  if (d.target === "item") return `the agenda item “${record.title}”`;
  return `the ${record.kind} by ${who(record.by)}: “${short(record.text)}”`;
}

/** A contribution; `dissent` adds the Dissent button. */
export function contributionItem(c, state, dissent = false) {
  return h("li", { class: `contribution kind-${c.kind}` },
    h("span", { class: "tag", text: KINDS[c.kind] || c.kind }), " ",
    h("strong", { text: who(c.by) }), c.captured ? h("span", { class: "muted", text: " (captured)" }) : "",
    h("span", { class: "muted", text: ` · ${clock(c.at, state)}` }),
    h("p", { class: "record-text", text: c.text }),
    dissent ? dissentButton("contribution", c.id, `the ${c.kind} by ${who(c.by)}`) : "");
}

export function outcomeItems(state, dissent = false) {
  return newest(state.outcomes).map((o) => {
    const item = find(state.agenda, o.item_id);
    return h("li", { class: "outcome" },
      h("span", { class: `level level-${o.level}`, text: LEVELS[o.level] || o.level }), " ",
      h("strong", { class: "record-text", text: o.statement }),
      h("p", { class: "muted", text: `${item ? `${item.title} · ` : ""}${summary(o.tally)} · ${clock(o.recorded_at, state)}` }),
      dissent ? dissentButton("outcome", o.id, `the outcome “${short(o.statement)}”`) : "");
  });
}

/** Every dissent, newest first; withdrawn ones keep their text and say so. `withdraw(d)` tells
 * whether to offer the Withdraw button. */
export function dissentItems(state, withdraw = () => false) {
  return newest(state.dissents).map((d) => h("li", { class: d.withdrawn ? "dissent withdrawn" : "dissent", "data-id": d.id },
    d.withdrawn ? h("span", { class: "tag", text: "Withdrawn" }) : "",
    h("strong", { text: who(d.by) }), ` dissents from ${targetText(d, state)}`,
    h("span", { class: "muted", text: ` · ${clock(d.at, state)}` }),
    h("p", { class: "record-text", text: d.reason }),
    d.withdrawn ? h("p", { class: "muted", text: `Withdrawn at ${clock(d.withdrawn.at, state)}` +
      (d.withdrawn.reason ? `: ${d.withdrawn.reason}` : ".") }) : "",
    !d.withdrawn && withdraw(d) ? h("button", { type: "button", class: "small secondary outline",
      "data-withdraw": d.id, "data-key": `withdraw-${d.id}`, "aria-label": "Withdraw your dissent" },
    "Withdraw") : ""));
}

/** The parking lot; `resolve(p)` may add a control to an open issue. */
export function parkingItems(state, resolve = () => "") {
  return (state.parking || []).map((p) => h("li", { class: `parked parked-${p.status}` },
    h("span", { class: `state state-${p.status === "open" ? "pending" : "done"}`,
      text: p.status === "open" ? "Open" : "Resolved" }), " ",
    h("span", { class: "record-text", text: p.text }),
    p.raised_by ? h("span", { class: "muted", text: ` · raised by ${who(p.raised_by)}` }) : "",
    p.status === "resolved" ? h("p", { class: "muted", text: `Resolution: ${p.resolution}` }) : resolve(p)));
}

/** The commitments with their traffic lights, from GET .../commitments. */
export function commitmentsTable(rows, state) {
  if (!rows.length) return h("p", { class: "muted", text: "No commitments yet." });
  return h("div", { class: "table-wrap" }, h("table", { class: "commitments" },
    h("thead", {}, h("tr", {}, ["Light", "Commitment", "By", "Owner", "Due", "Indicator", "Last report"]
      .map((t) => h("th", { scope: "col", text: t })))),
    h("tbody", {}, rows.map(({ commitment: c, light }) => h("tr", { "data-id": c.id },
      h("td", {}, light_(light)),
      h("th", { scope: "row", text: c.what }),
      h("td", { text: c.organization }),
      h("td", { text: c.owner || "" }),
      h("td", { text: c.due_date }),
      h("td", { text: c.indicator }),
      h("td", { text: c.last_report ? `${c.last_report.status.replace(/_/g, " ")}: ${c.last_report.text}` : "None yet" }),
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
    if (!dissents.has(d.id)) said.push("A new dissent was logged.");
    else if (d.withdrawn && !dissents.get(d.id).withdrawn) said.push("A dissent was withdrawn.");
  }
  const checks = before("checks");
  for (const c of state.checks) if (!checks.has(c.id)) said.push(`A consensus check is open: ${short(c.proposal)}`);
  const outcomes = before("outcomes");
  for (const o of state.outcomes) if (!outcomes.has(o.id)) said.push(`Outcome recorded: ${LEVELS[o.level]}.`);
  const parked = before("parking");
  for (const p of state.parking) if (!parked.has(p.id)) said.push("An issue was parked.");
  const made = before("commitments");
  for (const c of state.commitments) if (!made.has(c.id)) said.push("A commitment was made.");
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
