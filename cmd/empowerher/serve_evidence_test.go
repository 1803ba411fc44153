package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/empowerher/empowerher/internal/evidence"
)

// buildFor builds the app serve would build from args.
func buildFor(t *testing.T, args ...string) (*app, string, error) {
	t.Helper()
	c, err := parseServe(args, io.Discard)
	if err != nil || c == nil {
		t.Fatalf("settings: %v", err)
	}
	var logs bytes.Buffer
	a, err := buildApp(context.Background(), c, slog.New(slog.NewTextHandler(&logs, nil)), "http://127.0.0.1:8080")
	if a != nil {
		t.Cleanup(a.Close)
	}
	return a, logs.String(), err
}

func TestServeEvidenceIsOffWithoutAKey(t *testing.T) {
	t.Setenv(evidence.KeyEnv, "")
	a, logs, err := buildFor(t, "--data", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if a.ev != nil || strings.Count(logs, "evidence: off") != 1 {
		t.Fatalf("evidence %v, logs:\n%s", a.ev, logs)
	}
}

func TestServeEvidenceOpensTheLocalStore(t *testing.T) {
	key, err := evidence.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv(evidence.KeyEnv, key)
	data := t.TempDir()
	a, logs, err := buildFor(t, "--data", data, "--evidence-retention", "72h")
	if err != nil {
		t.Fatal(err)
	}
	if a.ev == nil || !strings.Contains(logs, "evidence: on") || !strings.Contains(logs, filepath.Join(data, "evidence")) {
		t.Fatalf("evidence %v, logs:\n%s", a.ev, logs)
	}
	if err := a.ev.Put(context.Background(), "u1/x/1", testWAVBytes(), evidence.Meta{UserID: 1}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(data, "evidence")); err != nil {
		t.Fatalf("default evidence directory: %v", err)
	}
}

func TestServeEvidenceBucketWithoutKeyFails(t *testing.T) {
	t.Setenv(evidence.KeyEnv, "")
	_, _, err := buildFor(t, "--data", t.TempDir(), "--s3-bucket", "evidence-bucket")
	if !errors.Is(err, evidence.ErrNoKey) {
		t.Fatalf("bucket without a key: %v", err)
	}
}

// testWAVBytes is a minimal valid 16 kHz WAV with 10 silent samples.
func testWAVBytes() []byte {
	var b bytes.Buffer
	b.WriteString("RIFF")
	b.Write([]byte{56, 0, 0, 0})
	b.WriteString("WAVEfmt ")
	b.Write([]byte{16, 0, 0, 0, 1, 0, 1, 0, 0x80, 0x3e, 0, 0, 0, 0x7d, 0, 0, 2, 0, 16, 0})
	b.WriteString("data")
	b.Write([]byte{20, 0, 0, 0})
	b.Write(make([]byte, 20))
	return b.Bytes()
}
