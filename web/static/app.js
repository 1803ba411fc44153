// EmpowerHer web app: views, sign-in, contacts, history, SOS, check my
// voice. Plain ES modules; no build step.
import { api, setCSRF, ApiError } from "./api.js";
import { record, encodeWAV } from "./audio.js";
import { Live } from "./live.js";
import * as incident from "./incident.js";

const $ = (id) => document.getElementById(id);
let me = null;

function status(msg, isError) {
  const el = $("status");
  el.textContent = msg || "";
  el.classList.toggle("error", !!isError);
}
incident.setStatus(status);
const live = new Live(status);
window.empowerherLive = live; // for tests and debugging

function el(tag, props = {}, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === "class") e.className = v;
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else if (k === "dataset") Object.assign(e.dataset, v);
    else e.setAttribute(k, v);
  }
  e.append(...kids.filter((k) => k !== null && k !== undefined));
  return e;
}

const fmtTime = (s) => s ? new Date(s).toLocaleString([], { dateStyle: "medium", timeStyle: "short" }) : "";

// ---- Routing: one page, views by #hash ----
const views = ["signin", "signup", "home", "contacts", "history"];
async function route() {
  let v = location.hash.slice(1) || "home";
  if (!views.includes(v)) v = "home";
  if (!me && v !== "signup") v = "signin";
  if (me && (v === "signin" || v === "signup")) v = "home";
  for (const name of views) $("view-" + name).hidden = name !== v;
  $("nav").hidden = !me;
  document.querySelectorAll("#nav a").forEach((a) => {
    if (a.dataset.view === v) a.setAttribute("aria-current", "page"); else a.removeAttribute("aria-current");
  });
  document.title = `EmpowerHer — ${v[0].toUpperCase() + v.slice(1)}`;
  if (v === "contacts") loadContacts();
  if (v === "history") loadHistory();
  if (v === "home") {
    incident.resume();
    incident.watchLocation(); // a fix is ready before SOS is pressed
  }
}
window.addEventListener("hashchange", () => { route(); $("main").focus(); });

// ---- Session ----
async function loadSession() {
  try {
    const s = await api("GET", "/session");
    me = s.user;
    setCSRF(s.csrf_token);
  } catch (e) {
    me = null;
  }
}

function formData(form) { return Object.fromEntries(new FormData(form).entries()); }

function fieldError(form, e) {
  status(e.message, true);
  if (e instanceof ApiError && e.field) {
    const inp = form.querySelector(`[name="${e.field}"]`);
    if (inp) { inp.setAttribute("aria-invalid", "true"); inp.focus(); }
  }
}

$("signin-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  try {
    const s = await api("POST", "/signin", formData(ev.target));
    me = s.user; setCSRF(s.csrf_token);
    status(`Signed in as ${me.display_name}.`);
    location.hash = "#home"; route();
  } catch (e) { fieldError(ev.target, e); }
});

$("signup-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  try {
    const s = await api("POST", "/signup", formData(ev.target));
    me = s.user; setCSRF(s.csrf_token);
    status(`Welcome, ${me.display_name}. Add your emergency contacts next.`);
    location.hash = "#contacts"; route();
  } catch (e) { fieldError(ev.target, e); }
});

$("signout").addEventListener("click", async () => {
  if (live.on) live.stop();
  try { await api("POST", "/signout"); } catch { /* the cookie is cleared anyway */ }
  me = null; setCSRF("");
  status("Signed out.");
  location.hash = "#signin"; route();
});

// ---- Home: SOS, live listening, check my voice ----
$("sos").addEventListener("click", async () => {
  try { await incident.sos(); } catch (e) { status("The alert could not be sent: " + e.message + " Call for help directly.", true); }
});

$("live-toggle").addEventListener("click", () => {
  if (live.on) live.stop();
  else live.start(document.querySelector("input[name=mode]:checked").value);
});
document.addEventListener("visibilitychange", () => live.visibility());

$("check").addEventListener("click", async () => {
  const btn = $("check");
  const out = $("check-result");
  btn.disabled = true;
  out.replaceChildren(el("p", {}, "Recording… speak now."));
  try {
    const samples = await record(4, (p) => { btn.textContent = `Recording… ${Math.round(p * 100)}%`; });
    out.replaceChildren(el("p", {}, "Checking…"));
    const res = await api("POST", "/predict", encodeWAV(samples));
    out.replaceChildren(renderPrediction(res));
    status(res.prediction === "distress" ? "The detector hears distress in this recording." : "The detector hears no distress.");
  } catch (e) {
    out.replaceChildren(el("p", { class: "error" }, e.message));
    status("Check my voice failed: " + e.message, true);
  } finally {
    btn.disabled = false;
    btn.textContent = "Record 4 seconds";
  }
});

const distressClasses = new Set(["angry", "fearful", "scream", "cry"]);
function renderPrediction(res) {
  const verdict = el("p", { class: "verdict " + res.prediction, id: "verdict" },
    res.prediction === "distress" ? "Distress detected" : "No distress",
    ` — score ${(100 * res.score).toFixed(0)}%`);
  const list = el("ul", { class: "bars", "aria-label": "Probability of each emotion" });
  const emotions = (res.emotions || []).slice().sort((a, b) => b.p - a.p);
  for (const c of emotions) {
    const pct = (100 * c.p).toFixed(0);
    const bar = el("div", { class: "bar", role: "img", "aria-label": `${c.class} ${pct} percent` }, el("div", {}));
    bar.firstChild.style.width = pct + "%";
    list.append(el("li", { class: distressClasses.has(c.class) ? "distress" : "" }, el("span", {}, c.class), bar, el("span", {}, pct + "%")));
  }
  const voiced = res.voiced === false ? el("p", {}, "No voice was found in the recording: speak closer to the microphone.") : null;
  return el("div", {}, verdict, voiced, list);
}

// ---- Contacts ----
let contacts = [];
async function loadContacts() {
  try {
    const [cs, ds] = await Promise.all([api("GET", "/contacts"), api("GET", "/deliveries")]);
    contacts = cs.contacts || [];
    renderContacts(ds.deliveries || []);
  } catch (e) { status("Could not load contacts: " + e.message, true); }
}

function renderContacts(deliveries) {
  const ul = $("contact-list");
  ul.replaceChildren();
  if (!contacts.length) ul.append(el("li", {}, "No contacts yet. Add the people who should be alerted."));
  for (const c of contacts) {
    // Newest delivery to this contact says whether its channel works.
    const last = deliveries.filter((d) => d.contact_id === c.id).sort((a, b) => b.id - a.id)[0];
    const works = last ? el("span", { class: "badge " + last.state }, `${last.channel}: ${last.state}${last.error ? " — " + last.error : ""}`)
      : el("span", { class: "badge" }, "never tested");
    ul.append(el("li", { dataset: { contact: c.id } },
      el("strong", {}, c.name), ` (tier ${c.tier})`, el("br"),
      [c.phone, c.email, c.webhook_url].filter(Boolean).join(" · "), el("br"),
      "Channels: " + (c.channels || []).join(", "), el("br"),
      "Last message: ", works,
      el("div", { class: "row" },
        el("button", { type: "button", class: "secondary", onclick: () => editContact(c), "aria-label": "Edit " + c.name }, "Edit"),
        el("button", { type: "button", class: "secondary", onclick: () => testContact(c), "aria-label": "Send a test message to " + c.name }, "Send test"),
        el("button", { type: "button", class: "secondary", onclick: () => deleteContact(c), "aria-label": "Delete " + c.name }, "Delete"))));
  }
}

function editContact(c) {
  const f = $("contact-form");
  f.elements.id.value = c.id;
  f.elements.name.value = c.name;
  f.elements.phone.value = c.phone || "";
  f.elements.email.value = c.email || "";
  f.elements.webhook_url.value = c.webhook_url || "";
  f.elements.tier.value = c.tier;
  f.querySelectorAll("input[name=ch]").forEach((b) => { b.checked = (c.channels || []).includes(b.value); });
  $("cf-title").textContent = "Edit " + c.name;
  $("cf-cancel").hidden = false;
  f.elements.name.focus();
}

function resetContactForm() {
  const f = $("contact-form");
  f.reset();
  f.elements.id.value = "";
  $("cf-title").textContent = "Add a contact";
  $("cf-cancel").hidden = true;
}
$("cf-cancel").addEventListener("click", resetContactForm);

$("contact-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const f = ev.target;
  f.querySelectorAll("[aria-invalid]").forEach((i) => i.removeAttribute("aria-invalid"));
  const body = {
    name: f.elements.name.value.trim(), phone: f.elements.phone.value.trim(), email: f.elements.email.value.trim(),
    webhook_url: f.elements.webhook_url.value.trim(), tier: Number(f.elements.tier.value || 0),
    channels: [...f.querySelectorAll("input[name=ch]:checked")].map((b) => b.value),
  };
  try {
    const id = f.elements.id.value;
    if (id) await api("PUT", `/contacts/${id}`, body); else await api("POST", "/contacts", body);
    status(`Saved ${body.name}.`);
    resetContactForm();
    loadContacts();
  } catch (e) { fieldError(f, e); }
});

async function testContact(c) {
  try {
    await api("POST", `/contacts/${c.id}/test`);
    status(`Test message to ${c.name} queued.`);
    setTimeout(loadContacts, 1500);
  } catch (e) { status("Test failed: " + e.message, true); }
}

async function deleteContact(c) {
  if (!confirm(`Delete ${c.name}? They will no longer be alerted.`)) return;
  try { await api("DELETE", `/contacts/${c.id}`); status(`Deleted ${c.name}.`); loadContacts(); }
  catch (e) { status("Could not delete: " + e.message, true); }
}

// ---- History ----
async function loadHistory() {
  try {
    const { incidents } = await api("GET", "/incidents");
    const ul = $("incident-list");
    ul.replaceChildren();
    if (!incidents.length) ul.append(el("li", {}, "No alerts yet."));
    for (const inc of incidents) {
      ul.append(el("li", { dataset: { incident: inc.id } },
        el("strong", {}, fmtTime(inc.created_at)), " ", el("span", { class: "badge " + inc.state }, inc.state), " ",
        inc.trigger === "voice" ? `voice (score ${(100 * inc.score).toFixed(0)}%)` : "SOS",
        inc.feedback ? ` · marked ${inc.feedback.replace("_", " ")}` : "",
        el("div", { class: "row" }, el("button", { type: "button", class: "secondary", onclick: () => showIncident(inc.id) }, "Details"))));
    }
  } catch (e) { status("Could not load history: " + e.message, true); }
}

async function showIncident(id) {
  const box = $("incident-detail");
  try {
    const d = await api("GET", `/incidents/${id}`);
    const tl = el("ol", { class: "timeline" }, ...d.events.map((e) => el("li", {}, `${fmtTime(e.at)} — ${e.kind}${e.detail ? ": " + e.detail : ""}`)));
    const word = (r) => r.acknowledged_at ? "responded " + fmtTime(r.acknowledged_at)
      : r.delivery_state === "waiting" && !["pending", "active"].includes(d.state) ? "not alerted" : r.delivery_state;
    const rs = el("ul", { class: "recipients" }, ...d.recipients.map((r) => el("li", {}, `${r.name}: `,
      el("span", { class: "badge " + (r.acknowledged_at ? "acknowledged" : r.delivery_state) }, word(r)))));
    const ds = d.deliveries.length ? el("ul", {}, ...d.deliveries.map((x) => el("li", {}, `${x.purpose} via ${x.channel}: ${x.state}${x.error ? " (" + x.error + ")" : ""}`)))
      : el("p", {}, "No messages were sent.");
    const fb = (value, label) => el("button", { type: "button", class: "secondary", "aria-pressed": String(d.feedback === value), onclick: async () => {
      try { await api("POST", `/incidents/${id}/feedback`, { feedback: value }); status("Thank you: marked " + label.toLowerCase() + "."); showIncident(id); loadHistory(); }
      catch (e) { status(e.message, true); }
    } }, label);
    box.replaceChildren(el("h2", {}, "Alert of " + fmtTime(d.created_at)),
      el("p", {}, `State: ${d.state}. ${d.location ? "Location " + d.location.lat.toFixed(5) + ", " + d.location.lon.toFixed(5) : "No location."}`),
      el("h3", {}, "Contacts"), rs, el("h3", {}, "Messages"), ds, el("h3", {}, "Timeline"), tl,
      el("div", { class: "row" }, fb("false_alarm", "False alarm"), fb("real", "It was real")));
    box.hidden = false;
    box.focus();
  } catch (e) { status("Could not load the alert: " + e.message, true); }
}

// ---- Start ----
incident.initCountdown();
await loadSession();
route();
