// Command wasmdetect is the distress detector compiled to WebAssembly for
// the web app's private (on-device) mode; see main.go and `make wasm`.
package main
