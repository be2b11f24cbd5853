// Live pages: listen to /ws/portal/ and, on each event, re-read the page's live regions
// ([data-live-region]) from the server, which scopes them to the viewer; the dashboard also
// writes the event in its activity feed. No framework: the server renders, this swaps.
"use strict";

(function () {
  const regions = document.querySelectorAll("[data-live-region]");
  if (!regions.length) return;
  const states = document.querySelectorAll("[data-live-state]");
  const feed = document.querySelector("[data-live-feed]");
  const texts = JSON.parse(document.getElementById("live-messages")?.textContent || "{}");
  const language = document.documentElement.lang;
  let refreshTimer = null;
  let retryDelay = 1000;

  function setState(text, on) {
    states.forEach((state) => {
      if (text) state.textContent = text;
      state.classList.toggle("on", on);
      state.dataset.connected = on ? "true" : "false";
    });
  }

  // Several events in a burst (boot, status, start) make one request.
  function scheduleRefresh() {
    clearTimeout(refreshTimer);
    refreshTimer = setTimeout(refresh, 250);
  }

  async function refresh() {
    refreshTimer = null;
    const response = await fetch(window.location.href, { credentials: "same-origin" });
    if (!response.ok) return;
    const page = new DOMParser().parseFromString(await response.text(), "text/html");
    regions.forEach((region) => {
      const fresh = page.getElementById(region.id);
      if (fresh) region.innerHTML = fresh.innerHTML;
    });
  }

  function format(template, event) {
    const fields = {
      ...event,
      vehicle: event.vehicle || texts.anonymous,
      reason: texts.reasons?.[event.reason] || event.reason,
      security_kind: texts.security_kinds?.[event.security_kind] || event.security_kind,
      status: texts.statuses?.[event.status] || event.status,
      energy: event.energy_wh == null ? "–" : (event.energy_wh / 1000).toLocaleString(language, { maximumFractionDigits: 1 }),
    };
    return template.replace(/%\((\w+)\)s/g, (_, name) => String(fields[name] ?? ""));
  }

  function addToFeed(event) {
    const template = texts.events?.[event.kind];
    if (!feed || !template) return;
    feed.querySelector("[data-feed-empty]")?.remove();
    const item = document.createElement("li");
    item.className = "fresh";
    item.dataset.kind = event.kind;
    const time = document.createElement("time");
    const now = new Date();
    time.dateTime = now.toISOString();
    time.textContent = now.toLocaleTimeString(language);
    item.append(time, format(template, event));
    feed.prepend(item);
    while (feed.children.length > 50) feed.lastElementChild.remove();
  }

  function connect() {
    const scheme = window.location.protocol === "https:" ? "wss" : "ws";
    const socket = new WebSocket(`${scheme}://${window.location.host}/ws/portal/`);
    socket.addEventListener("open", () => {
      retryDelay = 1000;
      setState(texts.live, true);
      scheduleRefresh(); // whatever happened while we were away
    });
    socket.addEventListener("message", (message) => {
      const event = JSON.parse(message.data);
      addToFeed(event);
      if (event.kind !== "session_energy") scheduleRefresh();
      // Meter readings come every minute or so per connector: their figures may wait a little.
      else if (refreshTimer === null) refreshTimer = setTimeout(refresh, 3000);
    });
    socket.addEventListener("close", () => {
      setState(texts.offline, false);
      setTimeout(connect, retryDelay);
      retryDelay = Math.min(retryDelay * 2, 30000);
    });
  }

  connect();
})();
