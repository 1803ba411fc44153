package main

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestEnvNameIsDerivedFromTheFlag(t *testing.T) {
	for flag, env := range map[string]string{"cancel-window": "EMPOWERHER_CANCEL_WINDOW", "addr": "EMPOWERHER_ADDR",
		"twilio-auth-token-file": "EMPOWERHER_TWILIO_AUTH_TOKEN_FILE"} {
		if got := envName(flag); got != env {
			t.Errorf("envName(%q) = %q, want %q", flag, got, env)
		}
	}
}

func TestSettingsPrecedenceFlagEnvFileDefault(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "empowerher.conf")
	os.WriteFile(cfg, []byte("# settings\ncancel-window = 7s\nEMPOWERHER_ACK_TIMEOUT=\"3m\"\nmax-escalations=5\n"), 0o600)
	t.Setenv("EMPOWERHER_ACK_TIMEOUT", "4m")
	t.Setenv("EMPOWERHER_MAX_ESCALATIONS", "6")
	fs, c := serveFlags(&bytes.Buffer{})
	if err := fs.Parse([]string{"--config", cfg, "--max-escalations", "2"}); err != nil {
		t.Fatal(err)
	}
	if err := applySettings(fs, "config"); err != nil {
		t.Fatal(err)
	}
	if c.CancelWindow != 7*time.Second || c.AckTimeout != 4*time.Minute || c.MaxEscalations != 2 || c.HeartbeatTimeout != 2*time.Minute {
		t.Fatalf("file 7s / env 4m / flag 2 / default 2m: got %v %v %d %v", c.CancelWindow, c.AckTimeout, c.MaxEscalations, c.HeartbeatTimeout)
	}

	js := filepath.Join(dir, "c.json")
	os.WriteFile(js, []byte(`{"cancel-window": "3s", "worker": false, "cors-origins": ["https://a.example", "https://b.example"], "predict-rate": 2}`), 0o600)
	t.Setenv("EMPOWERHER_CONFIG", js)
	fs, c = serveFlags(&bytes.Buffer{})
	_ = fs.Parse(nil)
	if err := applySettings(fs, "config"); err != nil {
		t.Fatal(err)
	}
	if c.CancelWindow != 3*time.Second || c.Worker || c.PredictRate != 2 || len(c.origins()) != 2 {
		t.Fatalf("json config: %+v", c)
	}
}

func TestSettingsErrorsAreClear(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.conf")
	os.WriteFile(bad, []byte("no-such-setting=1\n"), 0o600)
	fs, _ := serveFlags(&bytes.Buffer{})
	_ = fs.Parse([]string{"--config", bad})
	if err := applySettings(fs, "config"); err == nil || !strings.Contains(err.Error(), `unknown setting "no-such-setting"`) {
		t.Fatalf("unknown key: %v", err)
	}
	t.Setenv("EMPOWERHER_CANCEL_WINDOW", "soon")
	t.Setenv("EMPOWERHER_WEBHOOK_SECRET", "") // secrets never echoed
	fs, _ = serveFlags(&bytes.Buffer{})
	_ = fs.Parse(nil)
	if err := applySettings(fs, "config"); err == nil || !strings.Contains(err.Error(), "EMPOWERHER_CANCEL_WINDOW") {
		t.Fatalf("bad env value: %v", err)
	}

	var stderr bytes.Buffer
	err := runServe(context.Background(), []string{"--addr", "nonsense", "--cancel-window", "0s", "--cors-origins", "*",
		"--log-level", "loud", "--data", dir}, &bytes.Buffer{}, &stderr)
	if err == nil {
		t.Fatal("invalid settings accepted")
	}
	for _, want := range []string{"--addr", "--cancel-window", "--cors-origins", "--log-level"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not mention %s:\n%v", want, err)
		}
	}
}

func TestServeHelpListsEveryFlagWithItsEnvironmentVariable(t *testing.T) {
	var stderr bytes.Buffer
	if err := runServe(context.Background(), []string{"--help"}, &bytes.Buffer{}, &stderr); err != nil {
		t.Fatal(err)
	}
	fs, _ := serveFlags(&bytes.Buffer{})
	n := 0
	fs.VisitAll(func(f *flag.Flag) {
		n++
		if !strings.Contains(stderr.String(), "--"+f.Name+" ") || !strings.Contains(stderr.String(), envName(f.Name)) {
			t.Errorf("--help lacks --%s / %s", f.Name, envName(f.Name))
		}
	})
	if n < 30 {
		t.Fatalf("only %d flags", n)
	}
}

func TestUserAddPrintsTokenOnLastLine(t *testing.T) {
	dir := t.TempDir()
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"user", "add", "--data", dir, "asha", "--display-name", "Asha K"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	tok := lines[len(lines)-1]
	if len(tok) != 43 { // 256 bits, base64url without padding
		t.Fatalf("token %q", tok)
	}
	out.Reset()
	if code := run(context.Background(), []string{"user", "add", "--data", dir, "asha"}, &out, &errb); code == 0 || !strings.Contains(errb.String(), "already exists") {
		t.Fatalf("duplicate user: exit %d %s", code, errb.String())
	}
	out.Reset()
	if code := run(context.Background(), []string{"user", "token", "--data", dir, "asha"}, &out, &errb); code != 0 {
		t.Fatalf("user token: %s", errb.String())
	}
	lines = strings.Split(strings.TrimSpace(out.String()), "\n")
	if other := lines[len(lines)-1]; len(other) != 43 || other == tok {
		t.Fatalf("second token %q", other)
	}
	// The database holds no token in clear.
	db, _ := os.ReadFile(filepath.Join(dir, "empowerher.db"))
	if bytes.Contains(db, []byte(tok)) {
		t.Fatal("token stored in clear")
	}
}
