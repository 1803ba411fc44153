// The on-device detector: a promise API over detector-worker.js.
let worker = null;
let seq = 0;
const waiting = new Map();

function call(op, samples) {
  if (!worker) {
    worker = new Worker("/app/detector-worker.js");
    worker.onmessage = (e) => {
      const w = waiting.get(e.data.id);
      if (!w) return;
      waiting.delete(e.data.id);
      if (e.data.error) w.rej(new Error(e.data.error)); else w.res(e.data.result);
    };
    worker.onerror = (e) => {
      for (const w of waiting.values()) w.rej(new Error("the on-device detector failed to start: " + (e.message || "unknown error")));
      waiting.clear();
      worker = null;
    };
  }
  const id = ++seq;
  return new Promise((res, rej) => {
    waiting.set(id, { res, rej });
    worker.postMessage({ id, op, samples });
  });
}

export const device = {
  init: () => call("init"),
  analyze: (samples) => call("analyze", samples),
  write: (samples) => call("write", samples),
  reset: () => call("reset"),
};

// For tests and debugging: analyze base64 float32 little-endian samples.
window.empowerherDevice = {
  async analyzeBase64(b64) {
    const bin = atob(b64);
    const u8 = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) u8[i] = bin.charCodeAt(i);
    return JSON.stringify(await device.analyze(new Float32Array(u8.buffer)));
  },
};
