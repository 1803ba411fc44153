package browsertest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/empowerher/empowerher/internal/audio"
	"github.com/empowerher/empowerher/internal/corpus"
	"github.com/empowerher/empowerher/internal/detect"
	"github.com/empowerher/empowerher/internal/features"
	"github.com/empowerher/empowerher/internal/incident"
	"github.com/empowerher/empowerher/internal/model"
	"github.com/empowerher/empowerher/internal/notify"
	"github.com/empowerher/empowerher/internal/server"
	"github.com/empowerher/empowerher/internal/store"
	"github.com/empowerher/empowerher/internal/store/sqlite"
)

const (
	chromiumPath  = "/usr/bin/chromium"
	webhookSecret = "browser-test-webhook-secret-0123456789"
	cancelWindow  = 4 * time.Second
	// Where the tests put the user (Geolocation override).
	testLat, testLon = 51.50735, -0.12776
)

func needChromium(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Skip("Chromium not found at /usr/bin/chromium: install it with `apt-get install -y chromium` to run the browser tests")
	}
}

func needCorpus(t *testing.T) string {
	t.Helper()
	root := corpus.Find()
	if root == "" {
		t.Skip(corpus.SkipMessage)
	}
	return root
}

// ---- The detector: the embedded model when this build has one, else a
// small real model trained here on a slice of the corpora. ----

var (
	detOnce sync.Once
	det     *detect.Detector
	detErr  error
)

func testDetector(t testing.TB, root string) *detect.Detector {
	t.Helper()
	detOnce.Do(func() {
		if m, err := model.Embedded(); err == nil {
			det, detErr = detect.New(m)
			if detErr == nil {
				return
			}
		}
		det, detErr = trainSmall(root)
	})
	if detErr != nil {
		t.Fatal(detErr)
	}
	// For measurements against a real `serve --model FILE` before the
	// embedded model exists (docs/benchmarks.md).
	if out := os.Getenv("EMPOWERHER_TEST_MODEL_OUT"); out != "" {
		var buf bytes.Buffer
		if err := det.Model().Encode(&buf); err == nil {
			_ = os.WriteFile(out, buf.Bytes(), 0o644)
		}
	}
	return det
}

// Actors whose clips the fake microphones play are kept out of training.
var heldOutActors = map[int]bool{1: true, 2: true, 3: true, 4: true}

func trainSmall(root string) (*detect.Detector, error) {
	items, err := corpus.List(os.DirFS(root))
	if err != nil {
		return nil, err
	}
	perClass := map[string]int{}
	limit := map[string]int{corpus.Neutral: 80, corpus.Happy: 30, corpus.Sad: 30, corpus.Angry: 60, corpus.Fearful: 60,
		corpus.Disgust: 20, corpus.Surprised: 20, corpus.Scream: 45, corpus.Cry: 40, corpus.Vocal: 40, corpus.Background: 60}
	data := &model.Data{D: features.NumFunctionals}
	classIdx := map[string]int{}
	for i, c := range corpus.Classes {
		classIdx[c] = i
	}
	for _, it := range items {
		if it.Corpus == corpus.TESS || heldOutActors[it.Actor] || it.Long || perClass[it.Class] >= limit[it.Class] {
			continue
		}
		clip, err := audio.DecodeFile(filepath.Join(root, it.Path), audio.Options{MaxDuration: 10 * time.Second})
		if err != nil {
			continue
		}
		perClass[it.Class]++
		data.X = append(data.X, features.Extract(clip.Samples)...)
		data.Y = append(data.Y, classIdx[it.Class])
		data.Group = append(data.Group, it.Group)
		data.Clean = append(data.Clean, true)
	}
	cfg := model.TrainConfig{
		Classes: corpus.Classes, Features: features.FunctionalNames(), Distress: corpus.DistressClasses,
		Fit: model.DefaultFit(), Ensemble: 1, CalibrationGroup: -1, WeightPower: 1, Background: corpus.Background,
		MaxBackgroundFPR: 0.05,
	}
	cfg.Fit.Hidden = []int{32}
	cfg.Fit.Epochs = 60
	m, err := model.Train(data, cfg)
	if err != nil {
		return nil, err
	}
	return detect.New(m)
}

// ---- Fake microphone files ----

// micFile writes a WAV of lead seconds of near-silence, then the clips
// (16 kHz), then tail seconds of near-silence. It returns the path and
// the offset of the first clip in seconds.
func micFile(t testing.TB, root string, lead, tail float64, clips ...string) (string, []float32) {
	t.Helper()
	var x []float32
	x = append(x, make([]float32, int(lead*16000))...)
	for _, c := range clips {
		clip, err := audio.DecodeFile(filepath.Join(root, c), audio.Options{})
		if err != nil {
			t.Fatal(err)
		}
		x = append(x, clip.Samples...)
	}
	x = append(x, make([]float32, int(tail*16000))...)
	// A faint noise floor, as a real microphone has: digital silence
	// would make the voice-activity floor meaningless.
	seed := uint32(1)
	for i := range x {
		seed = seed*1664525 + 1013904223
		x[i] += (float32(seed>>8)/float32(1<<24) - 0.5) * 2e-4
	}
	var buf bytes.Buffer
	if err := audio.EncodeWAV16(&buf, x, 16000); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "mic.wav")
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p, x
}

// pick returns up to n corpus paths (relative) whose items satisfy keep.
func pick(t testing.TB, root string, n int, keep func(corpus.Item) bool) []string {
	t.Helper()
	items, err := corpus.List(os.DirFS(root))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, it := range items {
		if keep(it) {
			out = append(out, it.Path)
			if len(out) == n {
				break
			}
		}
	}
	if len(out) < n {
		t.Fatalf("only %d matching clips in the corpora", len(out))
	}
	return out
}

func screamClips(t testing.TB, root string) []string {
	return pick(t, root, 4, func(it corpus.Item) bool { return it.Class == corpus.Scream })
}

func calmClips(t testing.TB, root string) []string {
	return pick(t, root, 5, func(it corpus.Item) bool {
		return it.Corpus == corpus.RAVDESS && it.Class == corpus.Neutral && heldOutActors[it.Actor]
	})
}

// ---- The webhook receiver (an emergency contact's endpoint) ----

type hook struct {
	mu   sync.Mutex
	got  []notify.WebhookPayload
	bad  int
	srv  *httptest.Server
	seen chan struct{}
}

func newHook(t *testing.T) *hook {
	h := &hook{seen: make(chan struct{}, 100)}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		h.mu.Lock()
		defer h.mu.Unlock()
		if !notify.VerifyWebhook(webhookSecret, r.Header.Get(notify.HeaderWebhookTimestamp), body, r.Header.Get(notify.HeaderWebhookSignature)) {
			h.bad++
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		var p notify.WebhookPayload
		if err := json.Unmarshal(body, &p); err != nil {
			h.bad++
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		h.got = append(h.got, p)
		h.seen <- struct{}{}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(h.srv.Close)
	return h
}

func (h *hook) payloads(purpose string) []notify.WebhookPayload {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []notify.WebhookPayload
	for _, p := range h.got {
		if purpose == "" || p.Purpose == purpose {
			out = append(out, p)
		}
	}
	return out
}

// wait waits for a payload of purpose.
func (h *hook) wait(t *testing.T, purpose string, d time.Duration) notify.WebhookPayload {
	t.Helper()
	deadline := time.After(d)
	for {
		if ps := h.payloads(purpose); len(ps) > 0 {
			return ps[0]
		}
		select {
		case <-h.seen:
		case <-deadline:
			t.Fatalf("no %q webhook within %v (got %d, %d with bad signatures)", purpose, d, len(h.payloads("")), h.bad)
		}
	}
}

// ---- The service ----

type env struct {
	t    *testing.T
	st   store.Store
	srv  *server.Server
	ts   *httptest.Server
	hook *hook
	det  *detect.Detector
	svc  *incident.Service
}

func newEnv(t *testing.T, det *detect.Detector, wasmDir string) *env {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	st, err := sqlite.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	lg := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		lg = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	}
	reg, err := notify.NewRegistry(notify.Config{Webhook: true, Webhooks: notify.WebhookConfig{
		Secret: webhookSecret, AllowPrivateNetworks: true, Timeout: 5 * time.Second}}, lg)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewUnstartedServer(nil)
	secret := bytes.Repeat([]byte("k"), 32)
	worker := incident.NewWorker(st, reg, incident.WorkerConfig{Owner: "browsertest", Poll: 100 * time.Millisecond, Logger: lg,
		BaseBackoff: 200 * time.Millisecond, MaxBackoff: time.Second, MaxAttempts: 3, Lease: 10 * time.Second})
	svc := incident.New(st, reg, incident.Config{CancelWindow: cancelWindow, Links: incident.NewLinks(secret, "http://"+ts.Listener.Addr().String()),
		Logger: lg, Enqueued: worker.Wake})
	srv := server.New(server.Options{Store: st, Incidents: svc, Detector: det, Logger: lg, SMSConfigured: false,
		Web: server.WebOptions{WasmDir: wasmDir}})
	ts.Config.Handler = srv
	ts.Start()
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); svc.Run(ctx, 100*time.Millisecond) }()
	go func() { defer wg.Done(); worker.Run(ctx) }()
	t.Cleanup(func() {
		ts.Close()
		cancel()
		wg.Wait()
		st.Close()
	})
	return &env{t: t, st: st, srv: srv, ts: ts, hook: newHook(t), det: det, svc: svc}
}

// addContact gives the named user a webhook contact.
func (e *env) addContact(name, contact string) *store.Contact {
	e.t.Helper()
	u, _, err := e.st.UserByName(context.Background(), name)
	if err != nil {
		e.t.Fatal(err)
	}
	c := &store.Contact{UserID: u.ID, Name: contact, WebhookURL: e.hook.srv.URL, Channels: []string{store.ChannelWebhook}}
	if err := e.st.CreateContact(context.Background(), c); err != nil {
		e.t.Fatal(err)
	}
	return c
}

func (e *env) incidents(name string) []store.Incident {
	e.t.Helper()
	u, _, err := e.st.UserByName(context.Background(), name)
	if err != nil {
		e.t.Fatal(err)
	}
	incs, err := e.st.ListIncidents(context.Background(), u.ID, 10)
	if err != nil {
		e.t.Fatal(err)
	}
	return incs
}

// ---- The browser ----

// browserCtx starts a fresh Chromium whose microphone plays micWAV ("" for
// the default fake beep) and whose position is the test location.
func browserCtx(t *testing.T, e *env, micWAV string) context.Context {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath),
		chromedp.Flag("headless", true), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true), chromedp.NoFirstRun, chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.Flag("use-fake-ui-for-media-stream", true), chromedp.Flag("use-fake-device-for-media-stream", true),
		chromedp.Flag("autoplay-policy", "no-user-gesture-required"),
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(412, 915), // a phone screen
	}
	if micWAV != "" {
		opts = append(opts, chromedp.Flag("use-file-for-fake-audio-capture", micWAV))
	}
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelC := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelC(); cancelA() })
	// The first call starts the browser and must have no timeout.
	for _, name := range []string{"geolocation", "microphone"} {
		if _, err := chromedp.CallBrowser(ctx, browser.SetPermission, browser.SetPermissionParams{
			Permission: &browser.PermissionDescriptor{Name: name}, Setting: browser.PermissionSettingGranted, Origin: e.ts.URL,
		}); err != nil {
			t.Fatal(err)
		}
	}
	lat, lon, acc := testLat, testLon, 12.0
	if _, err := chromedp.Call(ctx, emulation.SetGeolocationOverride, emulation.SetGeolocationOverrideParams{
		Latitude: &lat, Longitude: &lon, Accuracy: &acc}); err != nil {
		t.Fatal(err)
	}
	return ctx
}

// run runs steps with a timeout.
func run(t *testing.T, ctx context.Context, d time.Duration, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	c, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	if err := chromedp.Do(c, steps...); err != nil {
		t.Fatalf("browser: %v", err)
	}
}

// eval evaluates a JS expression (awaiting promises) into T.
func eval[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	c, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(c, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("evaluate %q: %v", expr, err)
	}
	return v
}

// waitJS polls a JS boolean expression until it is true.
func waitJS(t *testing.T, ctx context.Context, expr string, d time.Duration) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		c, cancel := context.WithTimeout(ctx, 5*time.Second)
		ok, err := chromedp.Run(c, chromedp.Evaluate[bool]("!!("+expr+")"))
		cancel()
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s (last error %v)", d, expr, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// signUp creates an account through the sign-up page.
func signUp(t *testing.T, ctx context.Context, e *env, name string) {
	t.Helper()
	run(t, ctx, 30*time.Second,
		chromedp.Navigate(e.ts.URL+"/#signup"),
		chromedp.WaitVisible(chromedp.ID("su-name")),
		chromedp.SendKeys(chromedp.ID("su-name"), name),
		chromedp.SendKeys(chromedp.ID("su-display"), strings.ToUpper(name[:1])+name[1:]),
		chromedp.SendKeys(chromedp.ID("su-pass"), "correct horse battery"),
		chromedp.Click(chromedp.CSS("#signup-form button[type=submit]")),
		chromedp.WaitVisible(chromedp.ID("view-contacts")),
	)
}

func goHome(t *testing.T, ctx context.Context, e *env) {
	t.Helper()
	run(t, ctx, 20*time.Second, chromedp.Navigate(e.ts.URL+"/#home"), chromedp.WaitVisible(chromedp.ID("sos")))
}

// shot saves a PNG of the page under $EMPOWERHER_SCREENSHOTS (or a temp dir).
func shot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	dir := os.Getenv("EMPOWERHER_SCREENSHOTS")
	if dir == "" {
		dir = shotDir(t)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	c, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	png, err := chromedp.Run(c, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, name+".png")
	if err := os.WriteFile(p, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot %s", p)
}

var (
	shotOnce sync.Once
	shotTmp  string
)

func shotDir(t *testing.T) string {
	shotOnce.Do(func() { shotTmp, _ = os.MkdirTemp("", "empowerher-screens-") })
	return shotTmp
}
