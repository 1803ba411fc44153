// Live listening: microphone → 16 kHz PCM → the server's streaming
// detector over a WebSocket (or the on-device detector in private mode).
import { Capture, toPCM16 } from "./audio.js";
import { api } from "./api.js";
import { device } from "./detector.js";
import * as incident from "./incident.js";

const $ = (id) => document.getElementById(id);
const FRAME = 1600; // 100 ms per WebSocket message

export class Live {
  constructor(status) {
    this.status = status;
    this.on = false;
    this.mode = "server";
    this.pending = new Float32Array(FRAME);
    this.n = 0;
    this.threshold = 0.5;
    this.backlog = [];
    this.retries = 0;
    incident.setListening(() => this.on);
    // Every new position fix goes to the server's stream, so a detection's
    // incident starts with the latest location.
    incident.onLocation((fix) => {
      if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify({ type: "location", ...fix }));
    });
  }

  async start(mode) {
    this.mode = mode;
    this.on = true;
    this.state("Starting the microphone…");
    incident.watchLocation();
    try {
      if (mode === "device") {
        const info = await device.init();
        this.threshold = info.stream_threshold;
        $("score-th").style.left = (100 * info.stream_threshold) + "%";
        await device.reset();
      } else {
        await this.connect();
      }
      this.cap = await new Capture({
        onSamples: (y) => this.samples(y),
        onStop: (msg, transient) => this.micStopped(msg, transient),
      }).start();
    } catch (e) {
      this.stop();
      this.state("Could not start listening: " + (e.message || e), true);
      return;
    }
    await this.wake();
    this.toggleUI();
    this.state(mode === "device" ? "Listening on this device. Audio stays on your phone." : "Listening. The server is checking your voice.");
    incident.listeningChanged();
  }

  stop(msg) {
    this.on = false;
    if (this.cap) this.cap.stop();
    this.cap = null;
    if (this.ws) { this.ws.onclose = null; this.ws.onmessage = null; this.ws.close(1000); }
    this.ws = null;
    if (this.lock) this.lock.release().catch(() => {});
    this.lock = null;
    this.toggleUI();
    this.meters(-120, 0);
    this.state(msg || "Not listening.", !!msg);
    incident.listeningChanged();
  }

  toggleUI() {
    const b = $("live-toggle");
    b.textContent = this.on ? "Stop listening" : "Start listening";
    b.setAttribute("aria-pressed", String(this.on));
    document.querySelectorAll("input[name=mode]").forEach((r) => { r.disabled = this.on; });
  }

  state(msg, warn) {
    const el = $("live-state");
    el.textContent = msg;
    el.classList.toggle("warn", !!warn);
  }

  // Wake Lock: keep the screen (and so the page and microphone) alive.
  async wake() {
    if (!("wakeLock" in navigator) || document.visibilityState !== "visible") return;
    try { this.lock = await navigator.wakeLock.request("screen"); } catch { this.lock = null; }
  }

  visibility() {
    if (!this.on) return;
    if (document.visibilityState === "hidden") {
      this.state("This tab is hidden: some browsers stop the microphone in the background. Come back to keep listening.", true);
    } else {
      this.wake();
      this.state(this.mode === "device" ? "Listening on this device." : "Listening.");
    }
  }

  micStopped(msg, transient) {
    if (!this.on) return;
    if (transient) {
      this.state(msg || (this.mode === "device" ? "Listening on this device." : "Listening."), !!msg);
      return;
    }
    this.stop("Listening stopped. " + msg);
  }

  connect() {
    return new Promise((resolve, reject) => {
      const proto = location.protocol === "https:" ? "wss:" : "ws:";
      const ws = new WebSocket(`${proto}//${location.host}/live`);
      ws.binaryType = "arraybuffer";
      let opened = false;
      ws.onmessage = (e) => {
        const m = JSON.parse(e.data);
        if (m.type === "ready") {
          opened = true;
          this.retries = 0;
          this.threshold = m.threshold;
          $("score-th").style.left = (100 * m.threshold) + "%";
          this.ws = ws;
          const loc = incident.location();
          if (loc) ws.send(JSON.stringify({ type: "location", ...loc }));
          for (const f of this.backlog.splice(0)) ws.send(f);
          if (m.incident && incident.isOpen(m.incident)) incident.show(m.incident, null);
          resolve();
        } else if (m.type === "update") {
          this.meters(m.level, m.score);
        } else if (m.type === "detection") {
          this.onDetection(m);
        } else if (m.type === "error") {
          this.state("Server: " + m.message, true);
        }
      };
      ws.onerror = () => {};
      ws.onclose = (e) => {
        if (!opened) { reject(new Error("the server refused live listening (" + (e.reason || e.code) + ")")); return; }
        if (!this.on) return;
        this.ws = null;
        // Reconnect with backoff; audio meanwhile is kept (up to 3 s) and
        // sent on reconnect so a short network drop loses nothing.
        this.state("Connection lost: reconnecting…", true);
        const wait = Math.min(8000, 500 * 2 ** this.retries++);
        setTimeout(() => { if (this.on) this.connect().then(() => this.state("Listening (reconnected).")).catch(() => {}); }, wait);
      };
    });
  }

  samples(y) {
    // The first loud chunk (≈ -34 dBFS) marks an outburst's onset, for the
    // detection-latency measurement in docs/benchmarks.md.
    if (!window.empowerherOnsetAt) {
      let e = 0;
      for (let k = 0; k < y.length; k++) e += y[k] * y[k];
      if (Math.sqrt(e / y.length) > 0.02) window.empowerherOnsetAt = Date.now();
    }
    let i = 0;
    while (i < y.length) {
      const take = Math.min(FRAME - this.n, y.length - i);
      this.pending.set(y.subarray(i, i + take), this.n);
      this.n += take;
      i += take;
      if (this.n === FRAME) {
        this.frame(this.pending);
        this.pending = new Float32Array(FRAME);
        this.n = 0;
      }
    }
  }

  frame(x) {
    if (this.mode === "device") {
      device.write(x).then((ups) => {
        if (!this.on) return;
        for (const u of ups) {
          this.meters(u.level, u.score);
          if (u.alarm) this.onDeviceAlarm(u.alarm);
        }
      }).catch((e) => this.stop("The on-device detector failed: " + e.message));
      return;
    }
    const pcm = toPCM16(x).buffer;
    if (this.ws && this.ws.readyState === WebSocket.OPEN) {
      this.ws.send(pcm);
    } else {
      this.backlog.push(pcm);
      if (this.backlog.length > 25) this.backlog.shift(); // 2.5 s: within the server's burst
    }
  }

  meters(level, score) {
    const lv = Math.max(0, Math.min(1, (level + 70) / 70));
    $("level-bar").style.width = (100 * lv).toFixed(0) + "%";
    $("score-bar").style.width = (100 * Math.max(0, Math.min(1, score))).toFixed(0) + "%";
    $("live-values").textContent = `level ${level.toFixed(0)} dB, distress ${(100 * score).toFixed(0)}%`;
  }

  onDetection(m) {
    window.empowerherDetections = (window.empowerherDetections || 0) + 1;
    if (m.error) { this.state("Distress detected, but the alert failed: " + m.error + " Press SOS.", true); return; }
    incident.detected(m.incident, m.cancel_in_s);
  }

  // Private mode: only the alert with its score leaves the device.
  async onDeviceAlarm(alarm) {
    window.empowerherDetections = (window.empowerherDetections || 0) + 1;
    const body = { trigger: "voice", score: alarm.score };
    const loc = incident.location();
    if (loc) body.location = loc;
    try {
      const out = await api("POST", "/alert", body);
      const inc = out.incident;
      const left = inc.state === "pending" && inc.activate_at
        ? (Date.parse(inc.activate_at) - Date.parse(inc.updated_at || inc.created_at)) / 1000 : 0;
      incident.detected(inc, left);
      incident.show(inc, out.recipients);
    } catch (e) {
      this.state("Distress detected, but the alert failed: " + e.message + " Press SOS.", true);
    }
  }
}
