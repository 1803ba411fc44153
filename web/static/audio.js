// Microphone capture at 16 kHz without MediaRecorder: an AudioWorklet
// hands us the context's own PCM, which we resample to 16 kHz here (one
// code path in every browser; Firefox refuses a 16 kHz context on a
// microphone), then encode as 16-bit PCM: a WAV file, or frames.

export const RATE = 16000;

// Resampler is a streaming windowed-sinc (Blackman window) low-pass and
// interpolator from any input rate to 16 kHz. The cut-off sits at 0.45 ×
// 16 kHz = 7.2 kHz so the band above Nyquist is attenuated before
// decimation instead of folding back into the speech band.
export class Resampler {
  constructor(fromRate, toRate = RATE) {
    this.step = fromRate / toRate;          // input samples per output sample
    this.fc = Math.min(1, toRate / fromRate) * 0.9 * 0.5; // cycles per input sample
    this.half = Math.ceil(10 / (2 * this.fc)); // taps each side: 10 zero crossings
    this.hist = new Float32Array(0);         // input not yet consumed, with left context
    this.pos = this.half;                    // next output position in hist
    this.passthrough = fromRate === toRate;
    // Kernel table at 1/256 input-sample resolution, linearly interpolated.
    this.res = 256;
    const n = this.half * this.res;
    this.table = new Float32Array(n + 2);
    for (let i = 0; i <= n + 1; i++) {
      const x = i / this.res;
      const w = x >= this.half ? 0 : 0.42 + 0.5 * Math.cos(Math.PI * x / this.half) + 0.08 * Math.cos(2 * Math.PI * x / this.half);
      const s = x === 0 ? 1 : Math.sin(2 * Math.PI * this.fc * x) / (2 * Math.PI * this.fc * x);
      this.table[i] = 2 * this.fc * s * w;
    }
  }
  kernel(d) {
    const a = Math.abs(d) * this.res;
    const i = Math.floor(a);
    if (i >= this.table.length - 1) return 0;
    const f = a - i;
    return this.table[i] * (1 - f) + this.table[i + 1] * f;
  }
  // process returns the 16 kHz samples that x completes.
  process(x) {
    if (this.passthrough) return Float32Array.from(x);
    const h = new Float32Array(this.hist.length + x.length);
    h.set(this.hist);
    h.set(x, this.hist.length);
    const out = [];
    while (this.pos + this.half < h.length) {
      const c = Math.floor(this.pos);
      let acc = 0;
      for (let k = c - this.half + 1; k <= c + this.half; k++) {
        if (k >= 0) acc += h[k] * this.kernel(this.pos - k);
      }
      out.push(acc);
      this.pos += this.step;
    }
    // Keep what the next outputs still need.
    const keep = Math.max(0, Math.floor(this.pos) - this.half);
    this.hist = h.slice(keep);
    this.pos -= keep;
    return Float32Array.from(out);
  }
}

export function toPCM16(x) {
  const out = new Int16Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const v = Math.max(-1, Math.min(1, x[i]));
    out[i] = v < 0 ? Math.round(v * 32768) : Math.round(v * 32767);
  }
  return out;
}

// encodeWAV makes a 16-bit PCM mono WAV file.
export function encodeWAV(samples, rate = RATE) {
  const pcm = toPCM16(samples);
  const buf = new ArrayBuffer(44 + pcm.byteLength);
  const v = new DataView(buf);
  const str = (o, s) => { for (let i = 0; i < s.length; i++) v.setUint8(o + i, s.charCodeAt(i)); };
  str(0, "RIFF"); v.setUint32(4, 36 + pcm.byteLength, true); str(8, "WAVE");
  str(12, "fmt "); v.setUint32(16, 16, true); v.setUint16(20, 1, true); v.setUint16(22, 1, true);
  v.setUint32(24, rate, true); v.setUint32(28, rate * 2, true); v.setUint16(32, 2, true); v.setUint16(34, 16, true);
  str(36, "data"); v.setUint32(40, pcm.byteLength, true);
  new Int16Array(buf, 44).set(pcm);
  return new Blob([buf], { type: "audio/wav" });
}

// Capture opens the microphone and calls onSamples(Float32Array at 16 kHz)
// as audio arrives; onStop(reason) when the browser stops it.
export class Capture {
  constructor({ onSamples, onStop }) {
    this.onSamples = onSamples;
    this.onStop = onStop || (() => {});
    this.stopped = false;
    this.lastAudio = 0;
  }
  async start() {
    if (!navigator.mediaDevices || !window.AudioWorkletNode) {
      throw new Error("This browser cannot capture audio (no AudioWorklet). Use a current Chrome, Firefox or Safari.");
    }
    this.stream = await navigator.mediaDevices.getUserMedia({
      audio: { channelCount: 1, echoCancellation: false, noiseSuppression: false, autoGainControl: false },
    });
    this.ctx = new AudioContext();
    await this.ctx.audioWorklet.addModule("/app/capture-worklet.js");
    this.rs = new Resampler(this.ctx.sampleRate);
    const src = this.ctx.createMediaStreamSource(this.stream);
    this.node = new AudioWorkletNode(this.ctx, "capture", { numberOfInputs: 1, numberOfOutputs: 0, channelCount: 1, channelCountMode: "explicit" });
    this.node.port.onmessage = (e) => {
      if (this.stopped) return;
      this.lastAudio = performance.now();
      const y = this.rs.process(e.data);
      if (y.length) this.onSamples(y);
    };
    src.connect(this.node);
    if (this.ctx.state === "suspended") await this.ctx.resume();
    const track = this.stream.getAudioTracks()[0];
    track.addEventListener("ended", () => this.fail("The microphone stopped: the device was unplugged or the permission was withdrawn."));
    track.addEventListener("mute", () => this.onStop("The browser or system muted the microphone.", true));
    track.addEventListener("unmute", () => this.onStop("", true));
    this.ctx.addEventListener("statechange", () => {
      if (this.ctx && this.ctx.state === "interrupted") this.onStop("Audio was interrupted by the system (a call or another app).", true);
    });
    if (navigator.permissions && navigator.permissions.query) {
      navigator.permissions.query({ name: "microphone" }).then((p) => {
        p.onchange = () => { if (p.state === "denied") this.fail("Microphone permission was withdrawn."); };
      }).catch(() => {});
    }
    // A watchdog: some browsers stop delivering audio silently (tab frozen).
    this.lastAudio = performance.now();
    this.watch = setInterval(() => {
      if (!this.stopped && performance.now() - this.lastAudio > 2500) {
        this.onStop("No audio from the microphone for more than 2 seconds: the browser may have stopped it.", true);
      }
    }, 1000);
    return this;
  }
  fail(msg) {
    if (this.stopped) return;
    this.stop();
    this.onStop(msg, false);
  }
  stop() {
    this.stopped = true;
    clearInterval(this.watch);
    if (this.stream) this.stream.getTracks().forEach((t) => t.stop());
    if (this.ctx) this.ctx.close().catch(() => {});
    this.ctx = null;
  }
}

// record captures durS seconds and returns the 16 kHz samples.
export async function record(durS, onProgress) {
  const want = Math.round(durS * RATE);
  const parts = [];
  let got = 0;
  let done;
  const finished = new Promise((res, rej) => { done = { res, rej }; });
  const cap = new Capture({
    onSamples: (y) => {
      parts.push(y);
      got += y.length;
      if (onProgress) onProgress(Math.min(1, got / want));
      if (got >= want) done.res();
    },
    onStop: (msg, transient) => { if (!transient && msg) done.rej(new Error(msg)); },
  });
  await cap.start();
  try { await finished; } finally { cap.stop(); }
  const out = new Float32Array(want);
  let off = 0;
  for (const p of parts) {
    out.set(p.subarray(0, Math.min(p.length, want - off)), off);
    off += p.length;
    if (off >= want) break;
  }
  return out;
}
