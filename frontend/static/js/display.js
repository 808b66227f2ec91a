// The room display for a projector: the item, a big timer, who speaks and the next three.

import { t, tn } from "./i18n.js";
import {
  KIND_LABELS, REQUEST_LABELS, activeItem, announce, clockText, connectRoom, directory, h,
  itemClock, replace,
} from "./live.js";
import { itemNews, queueNews, timerMoments } from "./news.js";

const page = document.getElementById("display");
const $ = (id) => document.getElementById(id);
const room = connectRoom({
  conveningId: page.dataset.convening,
  status: $("connection"),
  serverNow: page.dataset.serverNow,
});

function render(state, previous) {
  const names = directory(state);
  const item = activeItem(state);
  const status = state.convening.status;
  if (item) {
    $("item-kind").textContent = KIND_LABELS[item.kind] || item.kind;
    $("item-title").textContent = item.title;
    replace($("item-questions"), item.questions.map((q) => h("li", { text: q })));
  } else {
    $("item-kind").textContent = "";
    $("item-title").textContent = status === "live" ? t("No agenda item is open") :
      status === "draft" || status === "scheduled" ? t("The convening will start soon") :
        t("The convening is closed");
    replace($("item-questions"));
  }
  $("timer").hidden = !item;

  const speaker = state.floor.speaker;
  $("speaker").textContent = speaker ? names.name(speaker.seat_id) : t("Nobody");
  const group = speaker ? names.group(speaker.seat_id) : "";
  const how = speaker && !["hand", "called"].includes(speaker.kind) ? REQUEST_LABELS[speaker.kind] : "";
  $("speaker-group").textContent = [group, how].filter(Boolean).join(" · ");
  const next = state.floor.queue.slice(0, 3);
  replace($("next"), next.map((entry) => h("li", {},
    h("span", { class: "display-next-name", text: names.name(entry.seat_id) }),
    names.group(entry.seat_id) ? h("span", { class: "display-group", text: ` ${names.group(entry.seat_id)}` }) : "",
    entry.kind !== "hand" ? h("span", { class: "tag", text: REQUEST_LABELS[entry.kind] }) : "")));
  $("next-empty").hidden = next.length > 0;
  const more = state.floor.queue.length - next.length;
  if (more > 0) $("next").append(h("li", { class: "display-more", text: tn("and {count} more", "and {count} more", more, { count: more }) }));
  const said = queueNews(state, previous);
  if (previous.floor && speaker && (!previous.floor.speaker || previous.floor.speaker.id !== speaker.id)) {
    said.push(t("{name} has the floor.", { name: names.name(speaker.seat_id) }));
  }
  said.push(...itemNews(state, previous));
  announce($("announce"), said.join(" "));
  tick();
}

const moments = timerMoments();

function tick() {
  const item = room.state && activeItem(room.state);
  if (!item) {
    moments(null);
    return;
  }
  const clock = itemClock(item, room.now());
  const timer = $("timer");
  timer.textContent = clock.running ? clockText(clock) : t("Paused · {time}", { time: clockText(clock) });
  timer.classList.toggle("over", clock.over);
  timer.classList.toggle("paused", !clock.running);
  const moment = moments(item, clock);
  if (moment) announce($("announce"), moment);
}

room.onState(render);
setInterval(tick, 1000);

// A projector should not fall asleep mid-session; where the browser allows it, keep it awake.
async function stayAwake() {
  try {
    if (navigator.wakeLock && document.visibilityState === "visible") {
      await navigator.wakeLock.request("screen");
    }
  } catch {
    // Not allowed here (no permission, battery saver): the display works anyway.
  }
}
document.addEventListener("visibilitychange", stayAwake);
stayAwake();
