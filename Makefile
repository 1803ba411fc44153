# The two set-up commands of the README are `make run` and `make test`.
export CGO_ENABLED=0
GO ?= go
DATA ?= ../shared/datasets

.PHONY: run test build model eval bench fuzz wasm

# Builds the on-device (WebAssembly) detector first, so the embedded web
# app offers private mode, then serves with the embedded defaults.
run: wasm
	$(GO) run ./cmd/empowerher serve

test:
	$(GO) test -timeout 60m ./...

build: wasm
	$(GO) build -trimpath -o empowerher ./cmd/empowerher

# Retrain the embedded model exactly as shipped (deterministic, seed 1).
model:
	$(GO) run ./cmd/empowerher train --data $(DATA) --out internal/model/empowerher.model

# Cross-validate the recipe and regenerate docs/model-card.md.
eval:
	$(GO) run ./cmd/empowerher eval --data $(DATA) --json > docs/eval-report.json

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./internal/...

# The on-device (private mode) detector: the same Go detector compiled to
# WebAssembly, embedded into the next build (web/static is go:embed'ed)
# or served with `serve --wasm-dir web/static`. Not committed: rebuild it.
wasm:
	GOOS=js GOARCH=wasm $(GO) build -trimpath -ldflags='-s -w' -o web/static/detector.wasm ./cmd/wasmdetect
	cp "$$($(GO) env GOROOT)/lib/wasm/wasm_exec.js" web/static/wasm_exec.js
