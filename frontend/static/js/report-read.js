// The reader's side of the report-back page: the read receipt, a position on each outcome,
// a response to a section, and "Your answers" with the convener's replies. Replies arrive
// by asking again now and then (and whenever the page comes back into view): a reader's
// link does not open the live room.

import { t } from "./i18n.js";
import { act, announce } from "./live.js";
import { dataJson, syncAnswers } from "./report-common.js";
import { onSubmit, send, tell } from "./record-send.js";

const $ = (id) => document.getElementById(id);
const page = $("report-page");
const api = `/api/convenings/${page.dataset.convening}/report`;
const version = Number(page.dataset.latest);
const options = { zone: page.dataset.zone, positions: dataJson(page, "positionLabels") };
const EVERY = 30000; // ms between two looks for replies while the page is in view

function showMine(mine) {
  const list = $("my-answers-list");
  if (!list) return;
  const news = syncAnswers(list, mine.answers, options);
  $("my-answers-empty").hidden = mine.answers.length > 0;
  if (news.some((n) => n.kind === "reply")) announce($("announce"), t("The convener replied to your answer."));
  const acknowledged = mine.acknowledged_version !== null && mine.acknowledged_version >= version;
  if (acknowledged && $("acknowledge-form")) {
    $("acknowledged-version").textContent = mine.acknowledged_version;
    $("acknowledged").hidden = false;
    $("acknowledge-form").hidden = true;
  }
}

async function refresh() {
  const mine = await act("GET", `${api}/mine`);
  if (mine) showMine(mine);
}

// The read receipt -------------------------------------------------------------------------

onSubmit($("acknowledge-form"), async (form) => {
  const mine = await send("POST", `${api}/acknowledgement`, { version }, form);
  if (!mine) return;
  showMine(mine);
  const done = $("acknowledged");
  done.setAttribute("tabindex", "-1");
  done.focus(); // the button is gone: the focus goes to what replaced it
});

// Answers ----------------------------------------------------------------------------------

async function sendAnswer(form, body) {
  const answer = await send("POST", `${api}/answers`, { version, ...body }, form);
  if (!answer) return;
  form.reset();
  tell(form, t("Answer sent. It is listed under “Your answers”."));
  await refresh();
}

for (const form of document.querySelectorAll("form.outcome-form")) {
  onSubmit(form, async () => {
    const chosen = form.querySelector("input[name=position]:checked");
    await sendAnswer(form, {
      outcome_id: Number(form.dataset.outcome),
      position: chosen ? chosen.value : null,
      text: form.elements.text.value,
    });
  });
}

onSubmit($("section-form"), async (form) => {
  await sendAnswer(form, { section: form.elements.section.value, text: form.elements.text.value });
});

// Replies ----------------------------------------------------------------------------------

setInterval(() => {
  if (document.visibilityState === "visible") refresh();
}, EVERY);
document.addEventListener("visibilitychange", () => {
  if (document.visibilityState === "visible") refresh();
});
