package browsertest

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/empowerher/empowerher/internal/detect"
)

// buildWasm compiles cmd/wasmdetect for the browser into a temp dir with
// the wasm_exec.js of the same Go, as `make wasm` does.
func buildWasm(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	goBin := filepath.Join(runtime.GOROOT(), "bin", "go")
	cmd := exec.Command(goBin, "build", "-trimpath", "-ldflags=-s -w", "-o", filepath.Join(dir, "detector.wasm"), "github.com/empowerher/empowerher/cmd/wasmdetect")
	cmd.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm", "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building the wasm detector: %v\n%s", err, out)
	}
	js, err := os.ReadFile(filepath.Join(runtime.GOROOT(), "lib", "wasm", "wasm_exec.js"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "wasm_exec.js"), js, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// The detector compiled to WebAssembly, run in Chromium on the same
// samples, gives the server's result (within 1e-4); live listening in
// private mode raises the countdown without any audio reaching the server.
func TestBrowserPrivateModeMatchesServer(t *testing.T) {
	needChromium(t)
	root := needCorpus(t)
	det := testDetector(t, root)
	wasmDir := buildWasm(t)
	e := newEnv(t, det, wasmDir)
	mic, _ := micFile(t, root, 2, 8, screamClips(t, root)...)
	ctx := browserCtx(t, e, mic)
	signUp(t, ctx, e, "ines")
	e.addContact("ines", "Bob")
	goHome(t, ctx, e)

	for i, clips := range [][]string{screamClips(t, root)[:2], calmClips(t, root)[:2]} {
		_, x := micFile(t, root, 0.2, 0.2, clips...)
		b := make([]byte, 4*len(x))
		for k, v := range x {
			binary.LittleEndian.PutUint32(b[4*k:], math.Float32bits(v))
		}
		got := eval[string](t, ctx, `empowerherDevice.analyzeBase64("`+base64.StdEncoding.EncodeToString(b)+`")`)
		var dev detect.Result
		if err := json.Unmarshal([]byte(got), &dev); err != nil {
			t.Fatal(err)
		}
		srv := det.Analyze(x)
		compareResults(t, i, srv, dev)
	}

	startListening(t, ctx, "device")
	waitJS(t, ctx, `!document.getElementById("countdown").hidden`, 25*time.Second)
	shot(t, ctx, "private-countdown")
	if n := e.srv.LiveStreams(); n != 0 {
		t.Fatalf("private mode opened %d server streams", n)
	}
	incs := e.incidents("ines")
	if len(incs) != 1 || incs[0].Trigger != "voice" || incs[0].Score < det.Threshold() {
		t.Fatalf("private-mode alert: %+v", incs)
	}
	run(t, ctx, 5*time.Second, chromedp.Click(chromedp.ID("cd-cancel")))
	waitJS(t, ctx, `document.getElementById("incident-panel").dataset.state === "cancelled"`, 10*time.Second)
}

func compareResults(t *testing.T, i int, srv, dev detect.Result) {
	t.Helper()
	const tol = 1e-4
	if srv.Distress != dev.Distress || srv.Label != dev.Label || srv.Voiced != dev.Voiced || srv.ModelVersion != dev.ModelVersion {
		t.Fatalf("clip %d: server %+v, device %+v", i, srv, dev)
	}
	if math.Abs(srv.Score-dev.Score) > tol || len(srv.Classes) != len(dev.Classes) || len(srv.Timeline) != len(dev.Timeline) {
		t.Fatalf("clip %d: score %v vs %v, %d/%d classes, %d/%d windows", i, srv.Score, dev.Score,
			len(srv.Classes), len(dev.Classes), len(srv.Timeline), len(dev.Timeline))
	}
	for k := range srv.Classes {
		if math.Abs(srv.Classes[k].P-dev.Classes[k].P) > tol {
			t.Fatalf("clip %d class %s: %v vs %v", i, srv.Classes[k].Class, srv.Classes[k].P, dev.Classes[k].P)
		}
	}
	for k := range srv.Timeline {
		if math.Abs(srv.Timeline[k].Score-dev.Timeline[k].Score) > tol {
			t.Fatalf("clip %d window %d: %v vs %v", i, k, srv.Timeline[k].Score, dev.Timeline[k].Score)
		}
	}
	t.Logf("clip %d: server and device agree: %s score %.4f (%d windows)", i, srv.Label, srv.Score, len(srv.Timeline))
}
