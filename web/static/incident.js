// The open incident: location, countdown, delivery states, heartbeat.
import { api } from "./api.js";

const $ = (id) => document.getElementById(id);
let status = () => {};
export function setStatus(fn) { status = fn; }

// ---- Location (Geolocation API) ----
let lastFix = null;
let watchId = null;
let lastSent = 0;

export function watchLocation() {
  if (watchId !== null || !navigator.geolocation) return;
  watchId = navigator.geolocation.watchPosition((p) => {
    lastFix = { lat: p.coords.latitude, lon: p.coords.longitude, accuracy: Math.round(p.coords.accuracy || 0) };
    onFix();
  }, () => {}, { enableHighAccuracy: true, maximumAge: 10000, timeout: 20000 });
}
export function location() { return lastFix; }
const fixListeners = [];
export function onLocation(fn) { fixListeners.push(fn); }
function onFix() {
  fixListeners.forEach((f) => f(lastFix));
  // Keep the open incident's location current (at most every 10 s).
  if (current && isOpen(current) && performance.now() - lastSent > 10000) {
    lastSent = performance.now();
    api("POST", `/incidents/${current.id}/location`, lastFix).catch(() => {});
  }
}

// ---- The current incident ----
let current = null;
let pollTimer = null;
let beatTimer = null;
let listening = () => false;
export function setListening(fn) { listening = fn; }
export const isOpen = (inc) => inc && ["pending", "active", "acknowledged"].includes(inc.state);
export function currentIncident() { return current; }

export async function sos() {
  watchLocation();
  // Without a fix yet, wait at most 1 s for one: an alert with a place is
  // worth that; without one it goes anyway and the location follows.
  if (!lastFix) await new Promise((res) => { fixListeners.push(res); setTimeout(res, 1000); });
  const body = { trigger: "manual" };
  if (lastFix) body.location = lastFix;
  status("Sending the alert…");
  const out = await api("POST", "/alert", body);
  hideCountdown();
  show(out.incident, out.recipients);
  status(out.joined ? "Your alert was sent to your contacts." : "Alert sent. Your contacts are being told.");
  if (out.warnings && out.warnings.length) status(out.warnings.join(" "), true);
  lastSent = 0; // the first fix that arrives goes to the incident at once
  return out;
}

// detected handles a voice detection (from the server stream, or from the
// on-device detector after POST /alert trigger=voice).
export function detected(inc, cancelInS) {
  if (!inc) return;
  if (!inc.location && lastFix) {
    api("POST", `/incidents/${inc.id}/location`, lastFix).catch(() => {});
    lastSent = performance.now();
  }
  if (inc.state === "pending") {
    startCountdown(inc, cancelInS);
  }
  show(inc, null);
}

// ---- Countdown ----
let cdTimer = null;
let cdEnd = 0;
export let countdownShownAt = 0;

function startCountdown(inc, cancelInS) {
  const overlay = $("countdown");
  cdEnd = performance.now() + Math.max(0, cancelInS) * 1000;
  if (overlay.hidden) {
    overlay.hidden = false;
    countdownShownAt = performance.now();
    window.empowerherCountdownAt = Date.now();
    $("cd-cancel").focus();
    if (navigator.vibrate) navigator.vibrate([300, 200, 300]);
  }
  const tick = () => {
    const left = Math.max(0, Math.ceil((cdEnd - performance.now()) / 1000));
    $("cd-n").textContent = String(left);
    if (left % 5 === 0 || left <= 3) $("cd-live").textContent = `Alert in ${left} seconds. Press Cancel if you are OK.`;
    if (left <= 0) {
      hideCountdown();
      status("Countdown over: alerting your contacts.");
      refresh();
    }
  };
  clearInterval(cdTimer);
  tick();
  cdTimer = setInterval(tick, 250);
}

export function hideCountdown() {
  clearInterval(cdTimer);
  $("countdown").hidden = true;
}

export function initCountdown() {
  $("cd-cancel").addEventListener("click", async () => {
    const inc = current;
    hideCountdown();
    if (!inc) return;
    try {
      const out = await api("POST", `/incidents/${inc.id}/cancel`);
      show(out, out.recipients);
      status("Cancelled. Nothing was sent.");
    } catch (e) {
      status("Could not cancel: " + e.message, true);
      refresh();
    }
  });
  $("cd-send").addEventListener("click", async () => {
    hideCountdown();
    try { await sos(); } catch (e) { status("Could not send: " + e.message, true); }
  });
  document.addEventListener("keydown", (e) => {
    if ($("countdown").hidden) return;
    if (e.key === "Escape") $("cd-cancel").click();
    // Keep keyboard focus inside the countdown dialog.
    if (e.key === "Tab") {
      e.preventDefault();
      ($(document.activeElement && document.activeElement.id === "cd-cancel" ? "cd-send" : "cd-cancel")).focus();
    }
  });
  $("safe").addEventListener("click", async () => {
    if (!current) return;
    try {
      const out = await api("POST", `/incidents/${current.id}/resolve`);
      show(out, out.recipients);
      status("Glad you are safe. Everyone alerted is being told.");
    } catch (e) { status("Could not resolve: " + e.message, true); }
  });
}

// ---- The incident panel ----
const stateWords = {
  pending: "counting down", active: "sent", acknowledged: "someone is responding",
  resolved: "over: you are safe", cancelled: "cancelled",
};
const deliveryWords = {
  waiting: "waiting for the countdown", queued: "queued", sending: "sending", sent: "sent",
  delivered: "delivered", failed: "failed",
};

export function show(inc, recipients) {
  current = inc;
  const panel = $("incident-panel");
  if (!inc) { panel.hidden = true; return; }
  panel.hidden = false;
  $("inc-state").textContent = "— " + (stateWords[inc.state] || inc.state);
  const where = inc.location ? `Location sent: ${inc.location.lat.toFixed(5)}, ${inc.location.lon.toFixed(5)}.` : "No location yet.";
  $("inc-summary").textContent = `${inc.trigger === "voice" ? "Distress detected in your voice" : "SOS pressed"}. ${where}`;
  if (recipients) renderRecipients(recipients);
  $("safe").hidden = !isOpen(inc);
  panel.dataset.state = inc.state;
  clearTimeout(pollTimer);
  if (isOpen(inc)) pollTimer = setTimeout(refresh, 1500);
  heartbeat();
}

function renderRecipients(rs) {
  const ul = $("inc-recipients");
  ul.replaceChildren();
  if (!rs.length) {
    const li = document.createElement("li");
    li.textContent = "You have no emergency contacts: add some on the Contacts page.";
    ul.append(li);
  }
  for (const r of rs) {
    const li = document.createElement("li");
    li.dataset.contact = r.contact_id;
    const b = document.createElement("span");
    const st = r.acknowledged_at ? "acknowledged" : r.delivery_state;
    b.className = "badge " + st;
    b.textContent = r.acknowledged_at ? "responding" : (deliveryWords[r.delivery_state] || r.delivery_state);
    li.append(`${r.name}${r.channel ? " (" + r.channel + ")" : ""}: `, b);
    ul.append(li);
  }
}

export async function refresh() {
  if (!current) return;
  try {
    const d = await api("GET", `/incidents/${current.id}`);
    show(d, d.recipients);
  } catch (e) {
    clearTimeout(pollTimer);
    pollTimer = setTimeout(refresh, 5000);
  }
}

// resume shows an incident still open from before a reload.
export async function resume() {
  try {
    const { incidents } = await api("GET", "/incidents?limit=5");
    const open = incidents.find(isOpen);
    if (open) { current = open; await refresh(); }
  } catch { /* signed out */ }
}

// ---- Heartbeat: while listening during an open incident, tell the
// server the device is alive; if it stops, contacts are told. ----
function heartbeat() {
  const need = current && isOpen(current) && current.state !== "pending" && listening();
  if (need && !beatTimer) {
    const beat = () => api("POST", `/incidents/${current.id}/heartbeat`).catch(() => {});
    beat();
    beatTimer = setInterval(() => {
      if (current && isOpen(current) && listening()) beat(); else { clearInterval(beatTimer); beatTimer = null; }
    }, 15000);
  } else if (!need && beatTimer) {
    clearInterval(beatTimer);
    beatTimer = null;
  }
}
export function listeningChanged() { heartbeat(); }
