package training

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/empowerher/empowerher/internal/corpus"
	"github.com/empowerher/empowerher/internal/model"
)

// TestEmbeddedModelIsReproducible builds the binary and runs the
// documented command (`empowerher train --data ../shared/datasets --out
// FILE`, seed 1), then checks that the model it writes is, byte for byte,
// the one the binary embeds. It takes minutes, so it runs only where the
// corpora are (CI has them) and not with -short.
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
	tmp := t.TempDir()
	bin := filepath.Join(tmp, "empowerher")
	goBin := filepath.Join(runtime.GOROOT(), "bin", "go")
	build := exec.Command(goBin, "build", "-o", bin, "github.com/empowerher/empowerher/cmd/empowerher")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out := filepath.Join(tmp, "retrained.model")
	train := exec.Command(bin, "train", "--data", dir, "--out", out, "--quiet")
	msg, err := train.CombinedOutput()
	if err != nil {
		t.Fatalf("empowerher train: %v\n%s", err, msg)
	}
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got, err := model.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	if got.Version != want.Version {
		t.Fatalf("`empowerher train` made %s, the binary embeds %s: rerun `make model` and commit internal/model/empowerher.model", got.Version, want.Version)
	}
	t.Logf("%s", strings.TrimSpace(string(msg)))
}
