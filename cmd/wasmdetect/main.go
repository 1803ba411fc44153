//go:build js && wasm

// Command wasmdetect is the distress detector compiled to WebAssembly for
// the web app's private mode: audio is analysed inside the page and never
// leaves the device. Build it with `make wasm` (GOOS=js GOARCH=wasm); the
// page loads the same model file the server uses (GET /app/model), so
// both give the same answers on the same samples.
//
// It installs one global object, empowerher, with functions that take
// and return plain values (results are JSON strings):
//
//	load(Uint8Array model) → JSON {"version","threshold","stream_threshold","classes"} | throws
//	analyze(Float32Array samples16k) → JSON detect.Result
//	newStream() → id;  write(id, Float32Array) → JSON [detect.Update…]
//	reset(id);  close(id)
package main

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"math"
	"syscall/js"

	"github.com/empowerher/empowerher/internal/detect"
	"github.com/empowerher/empowerher/internal/model"
)

var (
	det     *detect.Detector
	streams = map[int]*detect.Stream{}
	nextID  = 1
	buf     []byte
	samples []float32
)

func main() {
	api := js.Global().Get("Object").New()
	api.Set("load", js.FuncOf(load))
	api.Set("analyze", js.FuncOf(analyze))
	api.Set("newStream", js.FuncOf(newStream))
	api.Set("write", js.FuncOf(write))
	api.Set("reset", js.FuncOf(reset))
	api.Set("close", js.FuncOf(closeStream))
	js.Global().Set("empowerher", api)
	if cb := js.Global().Get("empowerherReady"); cb.Type() == js.TypeFunction {
		cb.Invoke()
	}
	select {} // serve calls until the page goes away
}

func throw(err error) any {
	return js.Global().Get("Error").New(err.Error())
}

func load(_ js.Value, args []js.Value) any {
	if len(args) != 1 {
		return throw(errors.New("load(modelBytes)"))
	}
	b := make([]byte, args[0].Get("byteLength").Int())
	js.CopyBytesToGo(b, args[0])
	m, err := model.Decode(bytes.NewReader(b))
	if err != nil {
		return throw(err)
	}
	d, err := detect.New(m)
	if err != nil {
		return throw(err)
	}
	det = d
	out, _ := json.Marshal(map[string]any{"version": d.ModelVersion(), "threshold": d.Threshold(),
		"stream_threshold": m.StreamThreshold, "classes": d.Classes()})
	return string(out)
}

// floats copies a Float32Array into Go through its bytes (one copy, no
// per-element calls across the JS boundary).
func floats(v js.Value) []float32 {
	n := v.Get("length").Int()
	u8 := js.Global().Get("Uint8Array").New(v.Get("buffer"), v.Get("byteOffset"), v.Get("byteLength"))
	if cap(buf) < 4*n {
		buf = make([]byte, 4*n)
		samples = make([]float32, n)
	}
	buf = buf[:4*n]
	js.CopyBytesToGo(buf, u8)
	samples = samples[:n]
	for i := range samples {
		samples[i] = math.Float32frombits(binary.LittleEndian.Uint32(buf[4*i:]))
	}
	return samples
}

func analyze(_ js.Value, args []js.Value) any {
	if det == nil || len(args) != 1 {
		return throw(errors.New("analyze(samples) needs load(model) first"))
	}
	out, _ := json.Marshal(det.Analyze(floats(args[0])))
	return string(out)
}

func newStream(js.Value, []js.Value) any {
	if det == nil {
		return throw(errors.New("newStream needs load(model) first"))
	}
	id := nextID
	nextID++
	streams[id] = det.NewStream(detect.StreamConfig{})
	return id
}

func write(_ js.Value, args []js.Value) any {
	if len(args) != 2 || streams[args[0].Int()] == nil {
		return throw(errors.New("write(id, samples): no such stream"))
	}
	var ups []detect.Update
	streams[args[0].Int()].Write(floats(args[1]), func(u detect.Update) { ups = append(ups, u) })
	if ups == nil {
		return "[]"
	}
	out, _ := json.Marshal(ups)
	return string(out)
}

func reset(_ js.Value, args []js.Value) any {
	if len(args) == 1 {
		if s := streams[args[0].Int()]; s != nil {
			s.Reset()
		}
	}
	return nil
}

func closeStream(_ js.Value, args []js.Value) any {
	if len(args) == 1 {
		delete(streams, args[0].Int())
	}
	return nil
}
