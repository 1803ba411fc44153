package web

import (
	"embed"
	"io/fs"
)

//go:embed static
var static embed.FS

// FS returns the app's files: index.html, app.css, *.js and, when `make
// wasm` put them there before the build, detector.wasm and wasm_exec.js.
func FS() fs.FS {
	sub, err := fs.Sub(static, "static")
	if err != nil {
		panic(err) // the embed pattern guarantees the directory
	}
	return sub
}
