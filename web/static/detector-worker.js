// Web Worker running the WebAssembly detector (private mode): the same
// Go code as the server, with the server's model file, off the page's
// main thread. Messages in: {id, op: "init"|"analyze"|"write"|"reset", samples}.
/* global Go, empowerher */
let ready = null;

function init() {
  if (ready) return ready;
  ready = (async () => {
    const probe = await fetch("/app/detector.wasm", { method: "HEAD" });
    if (!probe.ok) throw new Error("on-device detection is not installed on this server (its operator runs `make wasm`)");
    importScripts("/app/wasm_exec.js");
    const go = new Go();
    const loaded = new Promise((res) => { self.empowerherReady = res; });
    const wasm = await WebAssembly.instantiateStreaming(fetch("/app/detector.wasm"), go.importObject);
    go.run(wasm.instance);
    await loaded;
    const res = await fetch("/app/model");
    if (!res.ok) throw new Error("the server has no detector model");
    const info = JSON.parse(empowerher.load(new Uint8Array(await res.arrayBuffer())));
    info.stream = empowerher.newStream();
    return info;
  })();
  return ready;
}

self.onmessage = async (e) => {
  const { id, op, samples } = e.data;
  try {
    const info = await init();
    let result;
    switch (op) {
      case "init": result = info; break;
      case "analyze": result = JSON.parse(empowerher.analyze(samples)); break;
      case "write": result = JSON.parse(empowerher.write(info.stream, samples)); break;
      case "reset": empowerher.reset(info.stream); result = null; break;
      default: throw new Error("unknown op " + op);
    }
    self.postMessage({ id, result });
  } catch (err) {
    self.postMessage({ id, error: String(err && err.message || err) });
  }
};
