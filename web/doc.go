// Package web holds the browser app that `empowerher serve` serves: plain
// HTML, CSS and JavaScript modules embedded in the binary, with no build
// step. The on-device detector (detector.wasm, built by `make wasm`) is
// served beside them when present; see docs/web.md.
package web
