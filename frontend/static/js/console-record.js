// The record in the facilitator's console: table a consensus check on the current item, watch
// its tally by group, close it (or record a decision by majority); outcomes, every dissent, the
// item's contributions, the parking lot, and commitments made on behalf of a seat.

import { t } from "./i18n.js";
import { activeItem, directory, enable, h, replace } from "./live.js";
import {
  commitmentsWatcher, contributionItem, dissentItems, keyed, outcomeItems, parkingItems,
  reasons, recordNews, tallyTable,
} from "./record.js";
import { ask, onSubmit, send, tell } from "./record-send.js";

const $ = (id) => document.getElementById(id);
const SPEAKING = new Set(["participant", "facilitator", "rapporteur", "convener"]);

/** Seat options for a select (keeping its choice), with an optional first option. */
export function seatOptions(select, state, roles, first) {
  const names = directory(state);
  const chosen = select.value;
  replace(select, first ? h("option", { value: "", text: first }) : "",
    state.seats.filter((s) => roles.has(s.role)).map((s) => h("option", {
      value: s.id, selected: String(s.id) === chosen,
    }, names.group(s.id) ? `${s.name} (${names.group(s.id)})` : s.name)));
}

export function attachRecord(room, api) {
  const showCommitments = commitmentsWatcher(api, $("commitments"));
  let filled = "";

  function render(state, previous) {
    const item = activeItem(state);
    const live = state.convening.status === "live";
    const said = item ? state.contributions.filter((c) => c.item_id === item.id) : [];
    replace($("contributions"), said.map((c) => {
      const li = contributionItem(c, state);
      if (c.kind === "proposal" && live) {
        li.append(h("button", { type: "button", class: "small secondary", "data-key": `put-${c.id}`,
          "data-put": c.id, "aria-label": t("Put to the room: {text}", { text: c.text }) }, t("Put to the room")));
      }
      return li;
    }));
    $("contributions-empty").hidden = said.length > 0;

    const from = $("table-from");
    const chosen = from.value;
    replace(from, h("option", { value: "", text: t("None: write the proposal below") }),
      said.filter((c) => c.kind === "proposal").map((c) => h("option", {
        value: c.id, selected: String(c.id) === chosen,
      }, `${c.by ? c.by.label : t("Anonymous")}: ${c.text.slice(0, 80)}`)));
    enable($("table-form").querySelector("[type=submit]"), live && !!item);
    $("table-note").hidden = live && !!item;

    const open = state.checks.filter((c) => c.status === "open");
    keyed($("checks"), open, checkCard, updateCheck);
    $("checks-empty").hidden = open.length > 0;

    for (const [id, items] of [
      ["outcomes", outcomeItems(state)],
      ["dissents", dissentItems(state)],
      ["parking", parkingItems(state, (p) => (live ? h("button", {
        type: "button", class: "small secondary", "data-key": `resolve-${p.id}`, "data-resolve": p.id,
        "data-about": p.text, "aria-label": t("Resolve: {text}", { text: p.text }),
      }, t("Resolve")) : ""))],
    ]) {
      replace($(id), items);
      $(`${id}-empty`).hidden = items.length > 0;
    }
    if (previous.seats !== state.seats || previous.groups !== state.groups) {
      seatOptions($("park-seat"), state, SPEAKING, t("Nobody in particular"));
      seatOptions($("commitment-seat"), state, SPEAKING);
    }
    $("commitment-form").hidden = !live;
    showCommitments(state);
    return recordNews(state, previous);
  }

  function checkCard(check) {
    const id = check.id;
    const form = h("form", { class: "close-form" },
      h("label", { for: `statement-${id}`, text: t("Outcome wording (optional: the proposal by default)") }),
      h("textarea", { id: `statement-${id}`, name: "statement", rows: 2, "data-field": "statement" }),
      h("p", { class: "form-status", "data-status": true, role: "status", "aria-live": "polite" }),
      h("div", { class: "button-row" },
        h("button", { type: "submit", text: t("Close and record the outcome") }),
        h("button", { type: "submit", class: "secondary", "data-majority": "yes",
          text: t("Record a decision by majority") })));
    onSubmit(form, async (_, submitter) => {
      const statement = form.elements.statement.value.trim() || null;
      const body = { statement, by_majority: !!(submitter && submitter.dataset.majority) };
      await send("POST", `${api}/checks/${id}/close`, body, form);
    });
    return h("article", { class: "check-card" },
      h("h3", { text: t("Open proposal") }), h("p", { class: "proposal record-text" }),
      h("div", { class: "tally-slot" }), h("div", { class: "reasons-slot" }), form);
  }

  function updateCheck(card, check) {
    card.querySelector(".proposal").textContent = check.proposal;
    card.querySelector(".tally-slot").replaceChildren(tallyTable(check.tally));
    card.querySelector(".reasons-slot").replaceChildren(reasons(check));
  }

  // Controls ----------------------------------------------------------------------------

  $("table-from").addEventListener("change", () => {
    const text = $("table-proposal");
    const picked = room.state.contributions.find((c) => String(c.id) === $("table-from").value);
    if (picked && (!text.value.trim() || text.value === filled)) text.value = filled = picked.text;
  });

  onSubmit($("table-form"), async (form) => {
    const item = activeItem(room.state);
    if (!item) return;
    const from = form.elements.contribution_id.value;
    const body = { item_id: item.id, proposal: form.elements.proposal.value,
      contribution_id: from ? Number(from) : null };
    if (await send("POST", `${api}/checks`, body, form)) {
      form.reset();
      form.elements.contribution_id.value = "";
      filled = "";
      tell(form, t("The check is open: the room can answer now."));
    }
  });

  onSubmit($("park-form"), async (form) => {
    const item = activeItem(room.state);
    const seat = form.elements.seat_id.value;
    const body = { text: form.elements.text.value, item_id: item ? item.id : null,
      seat_id: seat ? Number(seat) : null };
    if (await send("POST", `${api}/parking`, body, form)) {
      form.elements.text.value = "";
      tell(form, t("Parked."));
    }
  });

  onSubmit($("commitment-form"), async (form) => {
    const item = activeItem(room.state);
    const body = { seat_id: Number(form.elements.seat_id.value) || null, item_id: item ? item.id : null };
    for (const name of ["what", "owner", "due_date", "indicator", "resources"]) {
      body[name] = form.elements[name].value;
    }
    if (await send("POST", `${api}/commitments`, body, form)) {
      for (const name of ["what", "owner", "due_date", "indicator", "resources"]) form.elements[name].value = "";
      tell(form, t("The commitment is recorded."));
    }
  });

  document.addEventListener("click", (event) => {
    const button = event.target instanceof Element && event.target.closest("[data-put], [data-resolve]");
    if (!button) return;
    if (button.dataset.put) {
      $("table-from").value = button.dataset.put;
      $("table-from").dispatchEvent(new Event("change"));
      $("table-proposal").focus();
      return;
    }
    ask({
      title: t("Resolve a parked issue"),
      about: button.dataset.about || button.getAttribute("aria-label").replace(/^Resolve: /, ""),
      label: t("How it was resolved"), field: "resolution", ok: t("Resolve"),
      submit: async (resolution, form) =>
        !!(await send("POST", `${api}/parking/${button.dataset.resolve}/resolution`, { resolution }, form)),
    });
  });

  return { render };
}
