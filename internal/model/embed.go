package model

import (
	"bytes"
	_ "embed"
	"fmt"
	"sync"
)

// embedded is the model the binary ships: exactly what the documented
// command in docs/model-card.md produces (`make model`).
//
//go:embed empowerher.model
var embedded []byte

var (
	embeddedOnce  sync.Once
	embeddedModel *Model
	embeddedErr   error
)

// Embedded returns the model built into the binary, decoded once.
func Embedded() (*Model, error) {
	embeddedOnce.Do(func() {
		if len(embedded) == 0 {
			embeddedErr = fmt.Errorf("model: this build has no embedded model; train one with `empowerher train --data DIR --out internal/model/empowerher.model`")
			return
		}
		embeddedModel, embeddedErr = Decode(bytes.NewReader(embedded))
	})
	return embeddedModel, embeddedErr
}
