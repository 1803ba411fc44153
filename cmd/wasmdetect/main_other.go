//go:build !(js && wasm)

package main

import (
	"fmt"
	"os"
)

// main on other platforms says how to build this command.
func main() {
	fmt.Fprintln(os.Stderr, "wasmdetect runs in a browser: build it with `make wasm` (GOOS=js GOARCH=wasm)")
	os.Exit(2)
}
