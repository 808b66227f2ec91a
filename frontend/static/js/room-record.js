// The record in the seat's room: contributions on the item, open consensus checks with the
// live tally (and the participant's answer), outcomes, dissent, commitments, the parking lot.
// Loaded by room.js when there is a record to show or on the first action on it; the code that
// sends loads on the first action.

import { t } from "./i18n.js";
import { activeItem, announce, h, replace } from "./live.js";
import {
  ANSWERS, NEEDS_REASON, commitmentsWatcher, contributionItem, dissentButton, dissentItems, keyed,
  outcomeItems, parkingItems, reasons, recordNews, tallyTable,
} from "./record.js";

const acting = () => import("./record-send.js");

/** Show the record in the room; returns the handlers room.js passes the record's forms and
 * Dissent / Withdraw buttons to. `previous`: the state before the one that needed the record. */
export function attach(room, page, previous = {}) {
  const $ = (id) => document.getElementById(id);
  const api = `/api/convenings/${page.dataset.convening}`;
  const canAct = page.dataset.canTakePart === "yes";
  const me = () => (room.you && room.you.seat_id) || Number(page.dataset.seat) || null;
  const anonymous = () => room.state.convening.attribution === "anonymous";
  const showCommitments = commitmentsWatcher(api, $("commitments"));
  const memory = `convene.dissents.${page.dataset.convening}`;
  let mine = [];
  try {
    mine = JSON.parse(localStorage.getItem(memory) || "[]");
  } catch {
    mine = [];
  }

  /** Run `action(send module, form)` on a form's submit. */
  function handle(form, action) {
    if (!form) return;
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const m = await acting();
      m.busy(form, () => action(m, form));
    });
  }

  function list(id, items) {
    replace($(id), items);
    $(`${id}-empty`).hidden = items.length > 0;
  }

  function ownDissent(d) {
    return d.by && "seat_id" in d.by ? d.by.seat_id === me() : mine.includes(d.id);
  }

  function render(state, previous) {
    const item = activeItem(state);
    const status = state.convening.status;
    const dissent = canAct && (status === "live" || status === "closed");
    const said = item ? state.contributions.filter((c) => c.item_id === item.id) : [];
    list("contributions", said.map((c) => contributionItem(c, state, dissent)));
    const open = state.checks.filter((c) => c.status === "open");
    keyed($("checks"), open, checkCard, updateCheck);
    $("checks-empty").hidden = open.length > 0;
    list("outcomes", outcomeItems(state, dissent));
    list("dissents", dissentItems(state, (d) => canAct && ownDissent(d)));
    list("parking", parkingItems(state));
    showCommitments(state);
    announce($("record-announce"), recordNews(state, previous).join(" "));
  }

  // Consensus checks ----------------------------------------------------------------------

  function checkCard(check) {
    const card = h("article", { class: "check-card" },
      h("h3", { text: t("Proposal") }), h("p", { class: "proposal record-text" }),
      canAct ? dissentButton("proposal", check.id, t("the proposal “{text}”", { text: check.proposal.slice(0, 80) })) : "",
      h("div", { class: "tally-slot" }), h("div", { class: "reasons-slot" }));
    if (canAct) {
      card.append(answerForm(check.id), h("p", { class: "my-answer", role: "status" }));
      fetch(`${api}/checks/${check.id}/answer`, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then((r) => (r.ok ? r.json() : null)).then((a) => a && a.answer && showMine(card, a))
        .catch(() => {});
    }
    return card;
  }

  function updateCheck(card, check) {
    card.querySelector(".proposal").textContent = check.proposal;
    card.querySelector(".tally-slot").replaceChildren(tallyTable(check.tally));
    card.querySelector(".reasons-slot").replaceChildren(reasons(check));
  }

  function answerForm(id) {
    const form = h("form", { class: "answer-form" },
      h("fieldset", { "data-field": "answer" }, h("legend", { text: t("Your answer") }),
        Object.entries(ANSWERS).map(([value, label]) =>
          h("label", {}, h("input", { type: "radio", name: `answer-${id}`, value }), ` ${label}`))),
      h("label", { for: `reason-${id}`, class: "reason-label", text: t("Reason (optional)") }),
      h("textarea", { id: `reason-${id}`, name: "reason", rows: 2, "data-field": "reason",
        "aria-describedby": `reason-hint-${id}` }),
      h("small", { id: `reason-hint-${id}`, class: "muted",
        text: t("A reason is needed to agree with reservations, stand aside, disagree or block.") +
          (anonymous() ? ` ${t("Under the anonymous rule your answer is final: it cannot be changed.")}` : "") }),
      h("p", { class: "form-status", "data-status": true, role: "status", "aria-live": "polite" }),
      h("button", { type: "submit", text: t("Answer") }));
    form.addEventListener("change", () => {
      const chosen = form.querySelector("input:checked");
      const needed = chosen && NEEDS_REASON.has(chosen.value);
      form.querySelector(".reason-label").textContent = needed ?
        t("Reason (required to {answer})", { answer: ANSWERS[chosen.value].toLowerCase() }) : t("Reason (optional)");
      form.elements.reason.setAttribute("aria-required", String(!!needed));
    });
    handle(form, async (m) => {
      const chosen = form.querySelector("input:checked");
      if (!chosen) {
        m.tell(form, t("Choose an answer first."), true);
        return;
      }
      const answer = { answer: chosen.value, reason: form.elements.reason.value.trim() };
      if (await m.send("PUT", `${api}/checks/${id}/answer`, answer, form)) {
        m.tell(form, t("Your answer is recorded."));
        showMine(form.closest(".check-card"), answer);
      }
    });
    return form;
  }

  function showMine(card, answer) {
    if (!card) return;
    const form = card.querySelector(".answer-form");
    const radio = form.querySelector(`input[value="${answer.answer}"]`);
    if (radio) radio.checked = true;
    form.elements.reason.value = answer.reason || "";
    form.dispatchEvent(new Event("change"));
    const final = anonymous();
    form.hidden = final;
    form.querySelector("[type=submit]").textContent = t("Change my answer");
    card.querySelector(".my-answer").textContent = t("Your answer: {answer}.", { answer: ANSWERS[answer.answer] }) +
      (answer.reason ? " " + t("Your reason: “{reason}”", { reason: answer.reason }) : "") +
      ` ${final ? t("Under the anonymous rule an answer is final.") : t("You may change it while the check is open.")}`;
  }

  // Dissent ---------------------------------------------------------------------------

  async function click(button) {
    const m = await acting();
    if (button.dataset.dissent) {
      m.ask({
        title: t("Log dissent"),
        about: t("You dissent from {about}.", { about: button.dataset.about ||
          button.getAttribute("aria-label").replace(/^Dissent from /, "") }) +
          ` ${t("Your dissent stays on the record; you may withdraw it later.")}`,
        label: t("Your reason (required)"), field: "reason", ok: t("Log my dissent"),
        submit: async (reason, form) => {
          const body = { target: button.dataset.dissent, target_id: Number(button.dataset.target), reason };
          const made = await m.send("POST", `${api}/dissents`, body, form);
          if (made) {
            mine.push(made.id);
            try {
              localStorage.setItem(memory, JSON.stringify(mine));
            } catch {
              // Without storage, only attributed dissents show their Withdraw button.
            }
            render(room.state, room.state); // its event may have come first
          }
          return !!made;
        },
      });
    } else {
      m.ask({
        title: t("Withdraw your dissent"),
        about: t("The dissent stays on the record with its text, marked withdrawn."),
        label: t("Why you withdraw it (optional)"), field: "reason", ok: t("Withdraw"), required: false,
        submit: async (reason, form) =>
          !!(await m.send("POST", `${api}/dissents/${button.dataset.withdraw}/withdrawal`, { reason }, form)),
      });
    }
  }

  // Contributing and committing -----------------------------------------------------------

  const submits = {};
  submits["contribute-form"] = async (m, form) => {
    const item = activeItem(room.state);
    const body = { item_id: item ? item.id : 0, kind: form.elements.kind.value, text: form.elements.text.value };
    if (await m.send("POST", `${api}/contributions`, body, form)) {
      form.elements.text.value = "";
      m.tell(form, t("Your point is on the record."));
      form.elements.text.focus();
    }
  };

  submits["commitment-form"] = async (m, form) => {
    const item = activeItem(room.state);
    const body = { item_id: item ? item.id : null };
    for (const name of ["what", "owner", "due_date", "indicator", "resources"]) {
      body[name] = form.elements[name].value;
    }
    if (await m.send("POST", `${api}/commitments`, body, form)) {
      form.reset();
      m.tell(form, t("Your commitment is recorded."));
    }
  };

  let first = true;
  room.onState((state, before) => {
    render(state, first ? previous : before);
    first = false;
  });
  return {
    click,
    async submit(form) {
      const m = await acting();
      m.busy(form, () => submits[form.id](m, form));
    },
  };
}
