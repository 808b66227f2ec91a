// What changed on the floor, in words, for the live pages' polite live regions (#announce,
// role=status): requests joining or leaving the queue, the item opened or paused, and the
// timer's moments. The timer itself is shown, never read out: only its start (with the item),
// the last minute and the overrun are announced.

import { t, tn } from "./i18n.js";
import { activeItem, directory } from "./live.js";

const RAISED = {
  hand: t("{name} raised a hand."),
  point_of_order: t("{name} raised a point of order."),
  direct_reply: t("{name} asks for a direct reply."),
};
const WITHDRAWN = {
  hand: t("{name} lowered a hand."),
  point_of_order: t("{name} withdrew a point of order."),
  direct_reply: t("{name} withdrew a direct reply."),
};

/** "1 minute", "15 minutes". */
export function minutes(seconds) {
  const n = Math.max(1, Math.round(seconds / 60));
  return tn("{count} minute", "{count} minutes", n, { count: n });
}

/** Requests that joined or left the queue, except the seat `me` (told its place instead) and
 * those that left it to speak (the new speaker is announced) or because the item ended. */
export function queueNews(state, previous, me = null) {
  if (!previous.floor) return [];
  const names = directory(state);
  const before = new Map(previous.floor.queue.map((entry) => [entry.id, entry]));
  const now = new Map(state.floor.queue.map((entry) => [entry.id, entry]));
  const speaker = state.floor.speaker;
  const said = [];
  for (const entry of state.floor.queue) {
    if (before.has(entry.id) || entry.seat_id === me) continue;
    const name = names.name(entry.seat_id);
    said.push((RAISED[entry.kind] || t("{name} asks for the floor.")).replace("{name}", () => name));
  }
  if (previous.floor.item_id !== state.floor.item_id) return said;
  for (const entry of before.values()) {
    if (now.has(entry.id) || entry.seat_id === me || (speaker && speaker.id === entry.id)) continue;
    const name = names.name(entry.seat_id);
    said.push((WITHDRAWN[entry.kind] || t("{name} left the queue.")).replace("{name}", () => name));
  }
  return said;
}

/** The item opened (with its time), or its timer paused or running again. */
export function itemNews(state, previous) {
  if (!previous.agenda) return [];
  const item = activeItem(state);
  const before = activeItem(previous);
  if (item && (!before || before.id !== item.id)) {
    return [t("Now on the floor: {title}, {time}.",
      { title: item.title, time: minutes(item.timebox_seconds) })];
  }
  if (!item && before) return [t("The item “{title}” is completed.", { title: before.title })];
  if (item && !!item.run_started_at !== !!before.run_started_at) {
    return [item.run_started_at ? t("The timer is running again.") : t("The timer is paused.")];
  }
  return [];
}

/** A watcher of the open item's clock: call it on every tick with the item (or null) and its
 * clock; it returns what to announce when the last minute starts or the time runs out, and ""
 * otherwise (and on the first tick it sees of an item: a page opened late says nothing). */
export function timerMoments() {
  let last = null;
  return (item, clock) => {
    const phase = !item ? null : clock.over ? "over" : clock.left <= 60 ? "last-minute" : "running";
    const before = item && last && last.id === item.id ? last.phase : null;
    last = item ? { id: item.id, phase } : null;
    if (!before || before === phase) return "";
    if (phase === "last-minute" && before === "running") return t("One minute left on this item.");
    if (phase === "over") return t("Time is up for this item: it is running over.");
    return "";
  };
}
