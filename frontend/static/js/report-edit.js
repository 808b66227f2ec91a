// The rapporteur's editor: save the Markdown, preview it (the server's sanitized HTML),
// regenerate it from the record, and (for the convener) publish it as the next version.

import { t } from "./i18n.js";
import { onSubmit, send, tell } from "./record-send.js";
import { localTime } from "./report-common.js";

const $ = (id) => document.getElementById(id);
const editor = $("editor");
const api = `/api/convenings/${editor.dataset.convening}/report`;
const zone = editor.dataset.zone;
const form = $("draft-form");
const text = $("draft-markdown");
const state = $("draft-state");
let saved = { markdown: text.value, stored: !!editor.dataset.saved, edited: !!editor.dataset.edited,
  updatedAt: editor.dataset.updatedAt };

function dirty() {
  return text.value !== saved.markdown || !saved.stored;
}

function showState() {
  if (text.value !== saved.markdown) state.textContent = t("Unsaved changes.");
  else if (!saved.stored) state.textContent = t("Not saved yet: this draft was generated from the record just now.");
  else {
    const when = localTime(saved.updatedAt, zone);
    state.textContent = saved.edited ? t("Saved {when}, edited by hand.", { when }) :
      t("Saved {when}, as generated from the record.", { when });
  }
}

/** Take what the API answered for the draft: the text (when asked), the preview, the state. */
function took(draft, replaceText) {
  if (replaceText) text.value = draft.markdown;
  saved = { markdown: draft.markdown, stored: draft.saved, edited: draft.edited, updatedAt: draft.updated_at };
  const preview = $("draft-preview");
  preview.innerHTML = draft.html; // sanitized by the server (nh3)
  for (const table of preview.querySelectorAll("table")) {
    // As the server renders it: a wide table scrolls in its own box (from the keyboard too).
    const box = document.createElement("div");
    box.className = "table-scroll";
    box.tabIndex = 0;
    table.replaceWith(box);
    box.append(table);
  }
  showState();
}

async function save() {
  const draft = await send("PUT", `${api}/draft`, { markdown: text.value }, form);
  if (draft) took(draft, false);
  return draft;
}

text.addEventListener("input", showState);

onSubmit(form, async () => {
  if (await save()) tell(form, t("Saved. The preview shows the saved draft."));
});

$("preview-button").addEventListener("click", async () => {
  if (form.getAttribute("aria-busy")) return;
  form.setAttribute("aria-busy", "true");
  try {
    if (!(await save())) return;
    tell(form, t("Saved. Here is the preview."));
    $("preview-section").scrollIntoView({ block: "start" });
    $("preview-heading").focus({ preventScroll: true });
  } finally {
    form.removeAttribute("aria-busy");
  }
});

$("regenerate-button").addEventListener("click", async () => {
  if (form.getAttribute("aria-busy")) return;
  const warning = t("Regenerate the draft from the record? This replaces the whole draft: every edit made to it is lost.");
  if (!window.confirm(warning)) return;
  form.setAttribute("aria-busy", "true");
  try {
    const draft = await send("POST", `${api}/draft/generate`, undefined, form);
    if (!draft) return;
    took(draft, true);
    tell(form, t("The draft was regenerated from the record."));
  } finally {
    form.removeAttribute("aria-busy");
  }
});

onSubmit($("publish-form"), async (publish) => {
  const number = editor.dataset.next;
  const question = t("Publish this draft as version {number}? A published version never changes, and readers are sent their links.", { number });
  if (!window.confirm(question)) return;
  if (dirty() && !(await save())) {
    tell(publish, t("The draft could not be saved: see the message above."), true);
    return;
  }
  const version = await send("POST", `${api}/versions`, undefined, publish);
  if (!version) return;
  tell(publish, t("Version {number} is published.", { number: version.number }));
  window.location.assign(`/convenings/${editor.dataset.convening}/report/manage`);
});
