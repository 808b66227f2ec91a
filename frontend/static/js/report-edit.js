// The rapporteur's editor: save the Markdown, preview it (the server's sanitized HTML),
// regenerate it from the record, and (for the convener) publish it as the next version.

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
  if (text.value !== saved.markdown) state.textContent = "Unsaved changes.";
  else if (!saved.stored) state.textContent = "Not saved yet: this draft was generated from the record just now.";
  else {
    const how = saved.edited ? "edited by hand" : "as generated from the record";
    state.textContent = `Saved ${localTime(saved.updatedAt, zone)}, ${how}.`;
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
  if (await save()) tell(form, "Saved. The preview shows the saved draft.");
});

$("preview-button").addEventListener("click", async () => {
  if (form.getAttribute("aria-busy")) return;
  form.setAttribute("aria-busy", "true");
  try {
    if (!(await save())) return;
    tell(form, "Saved. Here is the preview.");
    $("preview-section").scrollIntoView({ block: "start" });
    $("preview-heading").focus({ preventScroll: true });
  } finally {
    form.removeAttribute("aria-busy");
  }
});

$("regenerate-button").addEventListener("click", async () => {
  if (form.getAttribute("aria-busy")) return;
  const warning = "Regenerate the draft from the record? This replaces the whole draft: every edit made to it is lost.";
  if (!window.confirm(warning)) return;
  form.setAttribute("aria-busy", "true");
  try {
    const draft = await send("POST", `${api}/draft/generate`, undefined, form);
    if (!draft) return;
    took(draft, true);
    tell(form, "The draft was regenerated from the record.");
  } finally {
    form.removeAttribute("aria-busy");
  }
});

onSubmit($("publish-form"), async (publish) => {
  const number = editor.dataset.next;
  const question = `Publish this draft as version ${number}? A published version never changes, and readers are sent their links.`;
  if (!window.confirm(question)) return;
  if (dirty() && !(await save())) {
    tell(publish, "The draft could not be saved: see the message above.", true);
    return;
  }
  const version = await send("POST", `${api}/versions`, undefined, publish);
  if (!version) return;
  tell(publish, `Version ${version.number} is published.`);
  window.location.assign(`/convenings/${editor.dataset.convening}/report/manage`);
});
