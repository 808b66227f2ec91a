// What the report-back pages share: times in the convening's zone, and an answer with its
// replies, built exactly as the server renders it (templates/report/_macros.html).

import { lang, t } from "./i18n.js";
import { h } from "./live.js";

export const POSITION_WORDS = { agree: t("Agrees"), concern: t("Has a concern"), disagree: t("Disagrees") };

const LOCALES = { en: "en-GB", fr: "fr-FR", es: "es-ES" };

/** An instant in the convening's zone, in the page's language, as the server writes it
 * (app/pages.py local_time): "Monday 2 March 2030, 09:00", "2 March 2030", "2 de marzo de 2030". */
export function localTime(iso, zone, pattern = "long") {
  if (!iso) return "";
  const parts = {};
  const format = new Intl.DateTimeFormat(LOCALES[lang] || "en-GB", {
    timeZone: zone || "UTC", weekday: "long", day: "numeric", month: "long", year: "numeric",
    hour: "2-digit", minute: "2-digit", hourCycle: "h23",
  });
  for (const part of format.formatToParts(new Date(iso))) parts[part.type] = part.value;
  const date = lang === "es" ? `${parts.day} de ${parts.month} de ${parts.year}` :
    `${parts.day} ${parts.month} ${parts.year}`;
  return pattern === "date" ? date : `${parts.weekday} ${date}, ${parts.hour}:${parts.minute}`;
}

/** JSON kept in a data attribute of the page (labels, group names). */
export function dataJson(element, name) {
  try {
    return JSON.parse(element.dataset[name] || "{}");
  } catch {
    return {};
  }
}

function replyItem(reply, zone) {
  return h("li", { class: "reply" },
    h("strong", { text: t("The convener replied") }), " ",
    h("span", { class: "muted", text: `· ${localTime(reply.created_at, zone)}` }),
    h("p", { class: "record-text", text: reply.text }));
}

/** Fill an answer's list of replies (hidden while there is none). */
export function showReplies(list, answer, zone) {
  list.replaceChildren(...answer.replies.map((r) => replyItem(r, zone)));
  list.hidden = answer.replies.length === 0;
}

function head(answer, { forConvener, positions, groupNames }) {
  const position = answer.position || "";
  const parts = [];
  if (forConvener) {
    const group = answer.group_id === null ? "" : groupNames[String(answer.group_id)] || "";
    parts.push(h("strong", { class: "answer-who", text: answer.reader }));
    if (group) parts.push(" ", h("span", { class: "muted", text: `(${group})` }));
    parts.push(" ");
    if (answer.outcome_id !== null) {
      parts.push(t("on the outcome “{outcome}”:", { outcome: answer.outcome || "" }), " ",
        h("strong", { class: `position position-${position}`, text: POSITION_WORDS[position] }));
    } else {
      parts.push(t("on the section “{section}”", { section: answer.section }));
    }
  } else if (answer.outcome_id !== null) {
    parts.push(t("Your position on the outcome “{outcome}”:", { outcome: answer.outcome || "" }), " ",
      h("strong", { class: `position position-${position}`, text: positions[position] || position }));
  } else {
    parts.push(t("Your response to the section “{section}”", { section: answer.section }));
  }
  return parts;
}

/** One answer as a list item; `forConvener` adds who sent it and a reply form. */
export function answerItem(answer, options) {
  const { zone, forConvener = false } = options;
  const replies = h("ul", { class: "replies" });
  showReplies(replies, answer, zone);
  const li = h("li", { class: "answer", "data-id": answer.id },
    h("p", { class: "answer-head" }, head(answer, options), " ",
      h("span", { class: "muted", text: "· " + t("version {number}", { number: answer.version }) +
        ` · ${localTime(answer.created_at, zone)}` })),
    answer.text ? h("p", { class: "record-text", text: answer.text }) : "",
    replies);
  if (forConvener) {
    const id = `reply-${answer.id}`;
    li.append(h("form", { class: "reply-form", "data-answer": answer.id },
      h("label", { for: id, text: t("Reply to {name}", { name: answer.reader }) }),
      h("textarea", { id, name: "text", rows: 2, "data-field": "text" }),
      h("p", { class: "form-status", "data-status": true, role: "status", "aria-live": "polite" }),
      h("button", { type: "submit", class: "small" }, t("Send the reply"),
        h("span", { class: "visually-hidden", text: " " + t("to {name}", { name: answer.reader }) }))));
  }
  return li;
}

/** Bring a list of answers (newest first) up to date without touching the ones already
 * shown beyond their replies, so a reply being typed under one is never lost. What is new. */
export function syncAnswers(list, answers, options) {
  const shown = new Map([...list.children].map((li) => [li.dataset.id, li]));
  const added = [];
  let before = list.firstElementChild;
  for (const answer of [...answers].reverse()) {
    let li = shown.get(String(answer.id));
    if (li) {
      const replies = li.querySelector(".replies");
      const count = replies.children.length;
      if (count !== answer.replies.length) showReplies(replies, answer, options.zone);
      if (answer.replies.length > count) added.push({ kind: "reply", answer });
    } else {
      li = answerItem(answer, options);
      list.insertBefore(li, before);
      added.push({ kind: "answer", answer });
    }
    before = li.nextElementSibling;
  }
  return added;
}
