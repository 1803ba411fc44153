package training

import (
	"os"
	"testing"

	"github.com/empowerher/empowerher/internal/corpus"
	"github.com/empowerher/empowerher/internal/model"
)

// TestEmbeddedModelIsReproducible retrains the model with the documented
// recipe (`empowerher train --data ../shared/datasets`, seed 1) and checks
// that it is, byte for byte, the model the binary embeds. It takes
// minutes, so it runs only where the corpora are (CI has them) and not
// with -short.
func TestEmbeddedModelIsReproducible(t *testing.T) {
	if testing.Short() {
		t.Skip("retraining takes minutes; skipped with -short")
	}
	dir := corpus.Find()
	if dir == "" {
		t.Skip(corpus.SkipMessage)
	}
	want, err := model.Embedded()
	if err != nil {
		t.Fatal(err)
	}
	cfg := Default()
	prep, err := Prepare(os.DirFS(dir), cfg)
	if err != nil {
		t.Fatal(err)
	}
	m, err := Train(prep, nil, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if m.Version != want.Version {
		t.Fatalf("retrained model %s differs from the embedded %s: rerun `make model` and commit internal/model/empowerher.model", m.Version, want.Version)
	}
	t.Logf("retrained %s (decode and features took %v)", m.Version, prep.Took)
}
