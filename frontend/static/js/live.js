// The live room client: a websocket that pushes the room, long polling when it cannot.
//
//   const room = connectRoom({ conveningId, status: element });
//   room.onState((state, previous, events) => render(state));
//   room.onPresence((seatIds) => ...);
//
// The room starts from a snapshot (or resumes after the last applied sequence number); each
// event replaces the state parts it carries and upserts, by id, the records in data.upsert
// (as app/live/state.py apply_event). Numbers must follow each other: on a gap the client
// reconnects from the last applied one. When the websocket cannot be opened twice in a row,
// the client long-polls GET .../events and retries the websocket now and then.
// Force polling with ?transport=poll in the page URL or window.conveneTransport = "poll".

import { lang, t } from "./i18n.js";

const OPEN_TIMEOUT = 8000; // ms for a websocket to say its first word
const SILENCE = 50000; // ms without a message (the server pings every 20 s) before giving up
const MAX_BACKOFF = 10000;
const PROBE_EVERY = 60000; // ms between websocket attempts while polling
const POLL_WAIT = 25; // seconds the server may hold a poll
const POLL_TIMEOUT = 40000;
const NO_ACCESS = new Set([4403, 4404]);

const LABELS = {
  connecting: t("Connecting…"),
  connected: t("Connected"),
  polling: t("Connected (polling)"),
  reconnecting: t("Reconnecting…"),
  offline: t("Offline: waiting for the network"),
  denied: t("You no longer have access to this room."),
};

/** A delay for attempt n: doubling from 0.5 s, capped, with jitter (half to full). */
function backoff(attempt) {
  const ceiling = Math.min(MAX_BACKOFF, 500 * 2 ** Math.max(0, attempt - 1));
  return ceiling / 2 + (Math.random() * ceiling) / 2;
}

/** Milliseconds to add to Date.now() to get the server's clock (from the page's render time). */
function clockOffset(serverNow) {
  const server = Date.parse(serverNow || "");
  if (Number.isNaN(server)) return 0;
  const nav = performance.getEntriesByType("navigation")[0];
  const received = performance.timeOrigin + (nav ? nav.responseStart : 0);
  const offset = server - received;
  return Math.abs(offset) > 1500 ? offset : 0; // smaller differences are network noise
}

/** Apply an event to a state in place: the parts it carries replace the old ones, and the
 * records it upserts replace those with the same id in their list (or join it, in id order). */
export function applyTo(state, event) {
  const data = event.data || {};
  Object.assign(state, data.state || {});
  for (const [part, records] of Object.entries(data.upsert || {})) {
    const byId = new Map((state[part] || []).map((record) => [record.id, record]));
    for (const record of records) byId.set(record.id, record);
    state[part] = [...byId.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }
  return state;
}

/** Connect to a convening's live room. */
export function connectRoom({ conveningId, status, serverNow, transport }) {
  const base = `/api/convenings/${conveningId}`;
  const forced = transport || new URLSearchParams(location.search).get("transport") ||
    window.conveneTransport;
  const stateListeners = [];
  const presenceListeners = [];
  const modeListeners = [];
  const offset = clockOffset(serverNow);
  const room = {
    state: null,
    seq: null,
    presence: [],
    you: null,
    mode: "connecting",
    /** Now, on the server's clock (ms). */
    now: () => Date.now() + offset,
    onState(callback) {
      stateListeners.push(callback);
      if (room.state) callback(room.state, {}, []);
      return room;
    },
    onPresence(callback) {
      presenceListeners.push(callback);
      callback(room.presence);
      return room;
    },
    onMode(callback) {
      modeListeners.push(callback);
      return room;
    },
    close: stop,
  };

  let socket = null;
  let failures = 0; // websocket attempts in a row that never said a word
  let attempt = 0; // reconnection attempts since the last good connection
  let retryTimer = 0;
  let retryAction = null;
  let probeTimer = 0;
  let silenceTimer = 0;
  let polling = false;
  let pollAbort = null;
  let stopped = false;
  let batch = null;
  let lastHeard = 0;

  // State --------------------------------------------------------------------------------

  function flush() {
    const { previous, events } = batch;
    batch = null;
    for (const callback of stateListeners) callback(room.state, previous, events);
  }

  function changed(previous, event) {
    if (!batch) {
      batch = { previous, events: [] };
      queueMicrotask(flush);
    }
    if (event) batch.events.push(event);
  }

  function applySnapshot(message) {
    const previous = room.state ? { ...room.state } : {};
    room.state = { ...message.state };
    room.seq = message.seq;
    if (message.you) room.you = message.you;
    if (Array.isArray(message.presence)) setPresence(message.presence);
    changed(previous, null);
  }

  /** Apply one event; false when it does not follow the last applied one (a gap). */
  function applyEvent(event) {
    if (room.state === null) return false;
    if (event.seq <= room.seq) return true; // already applied
    if (event.seq !== room.seq + 1) return false;
    const previous = { ...room.state };
    applyTo(room.state, event);
    room.seq = event.seq;
    changed(previous, event);
    return true;
  }

  function setPresence(seats) {
    room.presence = seats;
    for (const callback of presenceListeners) callback(seats);
  }

  function setMode(mode) {
    if (room.mode === "denied") return;
    room.mode = mode;
    if (status) {
      status.dataset.state = mode;
      status.textContent = LABELS[mode];
    }
    for (const callback of modeListeners) callback(mode);
  }

  /** Handle one message; false when the connection must start again from room.seq. */
  function handle(message) {
    switch (message.type) {
      case "snapshot":
        applySnapshot(message);
        return true;
      case "resume":
        if (message.you) room.you = message.you;
        if (Array.isArray(message.presence)) setPresence(message.presence);
        return room.state !== null && message.seq <= room.seq;
      case "event":
        return applyEvent(message);
      case "presence":
        setPresence(message.seats || []);
        return true;
      case "resync":
        room.seq = null;
        return false;
      default: // ping, and anything newer than this client
        return true;
    }
  }

  // Retrying ------------------------------------------------------------------------------

  function later(action, delay) {
    clearTimeout(retryTimer);
    retryAction = action;
    retryTimer = setTimeout(() => {
      retryAction = null;
      action();
    }, delay);
  }

  function deny() {
    setMode("denied");
    stop();
  }

  function stop() {
    stopped = true;
    clearTimeout(retryTimer);
    clearTimeout(probeTimer);
    clearTimeout(silenceTimer);
    polling = false;
    if (pollAbort) pollAbort.abort();
    if (socket) socket.close(1000);
    socket = null;
  }

  // Websocket ----------------------------------------------------------------------------

  function socketUrl() {
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    const since = room.seq === null ? "" : `?since=${room.seq}`;
    return `${scheme}//${location.host}${base}/live${since}`;
  }

  function watchSilence(ws) {
    clearTimeout(silenceTimer);
    silenceTimer = setTimeout(() => ws.close(4000, "silent"), SILENCE);
  }

  /** Open the websocket; a probe is an attempt made while polling keeps the page current. */
  function openSocket(probe = false) {
    if (stopped || socket) return;
    let ws;
    try {
      ws = new WebSocket(socketUrl());
    } catch {
      socketFailed(probe);
      return;
    }
    socket = ws;
    let greeted = false;
    const openTimer = setTimeout(() => ws.close(), OPEN_TIMEOUT);
    ws.addEventListener("message", (message) => {
      if (socket !== ws) return;
      let data;
      try {
        data = JSON.parse(message.data);
      } catch {
        return;
      }
      if (!greeted) {
        greeted = true;
        clearTimeout(openTimer);
        failures = 0;
        attempt = 0;
        if (probe) stopPolling();
        setMode("connected");
      }
      lastHeard = Date.now();
      watchSilence(ws);
      if (!handle(data)) ws.close(4000, "gap"); // start again from the last applied number
    });
    ws.addEventListener("close", (event) => {
      clearTimeout(openTimer);
      if (socket !== ws) return;
      socket = null;
      clearTimeout(silenceTimer);
      if (stopped) return;
      if (NO_ACCESS.has(event.code)) {
        deny();
        return;
      }
      if (!greeted) {
        socketFailed(probe);
        return;
      }
      attempt += 1;
      setMode(navigator.onLine === false ? "offline" : "reconnecting");
      // A gap or a drop for being slow: come back at once; otherwise back off.
      const soon = event.code === 4000 || event.code === 4008;
      later(() => openSocket(), soon && attempt < 3 ? 0 : backoff(attempt));
    });
  }

  function socketFailed(probe) {
    if (probe) {
      scheduleProbe();
      return;
    }
    failures += 1;
    attempt += 1;
    if (failures >= 2) {
      startPolling();
      return;
    }
    setMode(navigator.onLine === false ? "offline" : "reconnecting");
    later(() => openSocket(), backoff(attempt));
  }

  function scheduleProbe(delay = PROBE_EVERY * (0.75 + Math.random() / 2)) {
    clearTimeout(probeTimer);
    if (forced === "poll" || stopped) return;
    probeTimer = setTimeout(() => {
      if (polling && !socket) openSocket(true);
    }, delay);
  }

  // Long polling --------------------------------------------------------------------------

  function startPolling() {
    if (polling || stopped) return;
    polling = true;
    attempt = 0;
    setMode("polling");
    scheduleProbe();
    poll();
  }

  function stopPolling() {
    polling = false;
    clearTimeout(probeTimer);
    if (retryAction === poll) clearTimeout(retryTimer);
    if (pollAbort) pollAbort.abort();
  }

  async function poll() {
    if (!polling || stopped) return;
    const controller = new AbortController();
    pollAbort = controller;
    const timeout = setTimeout(() => controller.abort(), POLL_TIMEOUT);
    const query = room.seq === null ? "wait=0" : `since=${room.seq}&wait=${POLL_WAIT}`;
    let body;
    try {
      const response = await fetch(`${base}/events?${query}`, {
        credentials: "same-origin",
        cache: "no-store",
        headers: { Accept: "application/json" },
        signal: controller.signal,
      });
      if (response.status === 403 || response.status === 404) {
        deny();
        return;
      }
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      body = await response.json();
    } catch {
      if (!polling || stopped || pollAbort !== controller) return;
      attempt += 1;
      setMode(navigator.onLine === false ? "offline" : "reconnecting");
      later(poll, backoff(attempt));
      return;
    } finally {
      clearTimeout(timeout);
    }
    if (!polling || stopped || pollAbort !== controller) return;
    // Polls failed before and work again: the server was away rather than the websocket
    // blocked (a restart), so try the websocket again now instead of in a minute.
    if (attempt > 0) scheduleProbe(Math.random() * 1000);
    attempt = 0;
    setMode("polling");
    if (body.snapshot) handle(body.snapshot);
    for (const event of body.events || []) {
      if (!applyEvent(event)) break; // the next poll asks again from room.seq
    }
    setPresence(body.presence || []);
    poll();
  }

  // Start --------------------------------------------------------------------------------

  window.addEventListener("offline", () => {
    if (!stopped && room.mode !== "connected" && room.mode !== "polling") setMode("offline");
  });
  window.addEventListener("online", () => {
    if (stopped || !retryAction) return;
    clearTimeout(retryTimer);
    const action = retryAction;
    retryAction = null;
    action();
  });
  window.addEventListener("pagehide", () => {
    const ws = socket;
    socket = null; // leaving (maybe into the back-forward cache): no reconnecting from here
    clearTimeout(retryTimer);
    clearTimeout(silenceTimer);
    if (ws) ws.close(1000);
  });
  window.addEventListener("pageshow", (event) => {
    if (event.persisted && !stopped && !socket && !polling) openSocket(); // back from the cache
  });
  document.addEventListener("visibilitychange", () => {
    // A phone that slept may hold a dead socket that never reported closing.
    if (document.visibilityState === "visible" && socket && socket.readyState === 1 &&
      Date.now() - lastHeard > SILENCE / 2) socket.close(4000, "stale");
  });

  if (!("WebSocket" in window) || forced === "poll") startPolling();
  else openSocket();
  return room;
}

// Actions --------------------------------------------------------------------------------

function sentence(text) {
  const value = String(text).replace(/^(Value|Assertion) error, /, "");
  const upper = `${value.charAt(0).toUpperCase()}${value.slice(1)}`;
  return /[.!?]$/.test(upper) ? upper : `${upper}.`;
}

/** What went wrong, in words, from a FastAPI error body. */
export function problem(status, payload) {
  const detail = payload && payload.detail;
  if (typeof detail === "string") return sentence(detail);
  if (Array.isArray(detail) && detail.length) {
    return detail.map((item) => sentence(item.msg || t("invalid value"))).join(" ");
  }
  if (status === 403 || status === 404) return t("You may not do this here.");
  return t("Something went wrong (HTTP {status}). Please try again.", { status });
}

/** Show a message in a status region (kind: "ok" or "error"); empty text clears it. */
export function say(region, text, kind = "ok") {
  if (!region) return;
  region.classList.remove("is-error", "is-ok");
  if (text) region.classList.add(kind === "error" ? "is-error" : "is-ok");
  region.textContent = text || "";
}

/** Call the JSON API; returns the answer, or null after showing the problem in `region`. */
export async function act(method, path, body, region) {
  const options = {
    method,
    credentials: "same-origin",
    headers: { Accept: "application/json" },
  };
  if (body !== undefined) {
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, options);
  } catch {
    say(region, t("Could not reach the server. Check the connection and try again."), "error");
    return null;
  }
  let payload = null;
  try {
    payload = response.status === 204 ? {} : await response.json();
  } catch {
    payload = null;
  }
  if (!response.ok) {
    say(region, problem(response.status, payload), "error");
    return null;
  }
  say(region, "");
  return payload || {};
}

/** Run an action from a button: busy while it runs, ignored while aria-disabled. */
export function onPress(button, action) {
  if (!button) return;
  button.addEventListener("click", async (event) => {
    event.preventDefault();
    if (button.getAttribute("aria-disabled") === "true" || button.getAttribute("aria-busy")) return;
    button.setAttribute("aria-busy", "true");
    try {
      await action(button);
    } finally {
      button.removeAttribute("aria-busy");
    }
  });
}

/** Enable or disable a control without taking the focus away from it. */
export function enable(control, on) {
  if (on) control.removeAttribute("aria-disabled");
  else control.setAttribute("aria-disabled", "true");
}

// Reading the state ---------------------------------------------------------------------

/** The agenda item open on the floor, if any. */
export function activeItem(state) {
  return (state.agenda || []).find((item) => item.status === "active") || null;
}

/** An item's timer at `now` (ms): seconds elapsed and left, running or paused, over time. */
export function itemClock(item, now) {
  const started = item.run_started_at ? Date.parse(item.run_started_at) : null;
  const running = started === null ? 0 : Math.max(0, (now - started) / 1000);
  const elapsed = item.elapsed_seconds + running;
  const left = item.timebox_seconds - elapsed;
  return { elapsed, left, running: started !== null, over: left < 0 };
}

/** Seconds as m:ss (or h:mm:ss). */
export function duration(seconds) {
  const total = Math.max(0, Math.floor(seconds));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = String(total % 60).padStart(2, "0");
  return h ? `${h}:${String(m).padStart(2, "0")}:${s}` : `${m}:${s}`;
}

/** "7:58 left", or "+2:13 over" once the timebox is spent. */
export function clockText(clock) {
  return clock.over ? t("+{time} over", { time: duration(-clock.left) }) :
    t("{time} left", { time: duration(Math.ceil(clock.left)) });
}

/** 1 → "1st", 2 → "2nd", 11 → "11th", 23 → "23rd" (in French "1er", "2e"; in Spanish "1.º"). */
export function ordinal(n) {
  if (lang === "fr") return n === 1 ? "1er" : `${n}e`;
  if (lang === "es") return `${n}.º`;
  const tens = n % 100;
  const suffix = tens >= 11 && tens <= 13 ? "th" : ["th", "st", "nd", "rd"][n % 10] || "th";
  return `${n}${suffix}`;
}

/** Lookups for seats and groups by id. */
export function directory(state) {
  const seats = new Map((state.seats || []).map((seat) => [seat.id, seat]));
  const groups = new Map((state.groups || []).map((group) => [group.id, group]));
  return {
    seat: (id) => seats.get(id) || null,
    name: (id) => (seats.get(id) ? seats.get(id).name : t("Seat {id}", { id })),
    group: (id) => {
      const seat = seats.get(id);
      const group = seat && seat.group_id !== null ? groups.get(seat.group_id) : null;
      return group ? group.name : "";
    },
    groupName: (groupId) => (groups.has(groupId) ? groups.get(groupId).name : t("No group")),
  };
}

export const REQUEST_LABELS = {
  hand: t("Hand"),
  point_of_order: t("Point of order"),
  direct_reply: t("Direct reply"),
  called: t("Called"),
  tour: t("Tour de table"),
};

export const KIND_LABELS = {
  opening: t("Opening"),
  presentation: t("Presentation"),
  discussion: t("Discussion"),
  decision: t("Decision"),
  report_back: t("Report-back"),
  closing: t("Closing"),
};

export const ITEM_STATUS = { pending: t("To come"), active: t("Now"), done: t("Done") };

/** A convening's status in words (lower case, as in a sentence). */
export const STATUS_LABELS = {
  draft: t("draft"),
  scheduled: t("scheduled"),
  live: t("live"),
  closed: t("closed"),
  reported: t("reported"),
};

// Building the page ---------------------------------------------------------------------

/** An element with attributes (strings; false/null left out) and children (text or nodes). */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes || {})) {
    if (value === false || value === null || value === undefined) continue;
    if (name === "text") element.textContent = value;
    else element.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : String(child));
  }
  return element;
}

/** Replace a container's children, keeping the focus on the control with the same data-key. */
export function replace(container, ...children) {
  const active = document.activeElement;
  const had = active && active !== container && container.contains(active);
  const key = had ? active.dataset.key : undefined;
  container.replaceChildren(...children.flat());
  if (!had) return;
  const again = key && container.querySelector(`[data-key="${CSS.escape(key)}"]`);
  const fallback = container.closest("[tabindex='-1']") || container.closest("section");
  if (again) again.focus();
  else if (fallback) {
    if (!fallback.hasAttribute("tabindex")) fallback.setAttribute("tabindex", "-1");
    fallback.focus();
  }
}

/** Say something through a polite live region (cleared first, so a repeat is announced). */
export function announce(region, text) {
  if (!region || !text) return;
  region.textContent = "";
  setTimeout(() => {
    region.textContent = text;
  }, 50);
}
