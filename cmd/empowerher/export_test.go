package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/empowerher/empowerher/internal/evidence"
)

func exportTestWAV() []byte {
	var b bytes.Buffer
	b.WriteString("RIFF")
	binary.Write(&b, binary.LittleEndian, uint32(36+4))
	b.WriteString("WAVEfmt ")
	binary.Write(&b, binary.LittleEndian, []any{uint32(16), uint16(1), uint16(1), uint32(16000), uint32(32000), uint16(2), uint16(16)})
	b.WriteString("data")
	binary.Write(&b, binary.LittleEndian, []any{uint32(4), int16(100), int16(-100)})
	return b.Bytes()
}

func TestExportCommand(t *testing.T) {
	ctx := context.Background()
	t.Setenv(evidence.KeyEnv, base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32)))
	data := t.TempDir()
	store, err := evidence.Open(ctx, evidence.Config{Dir: filepath.Join(data, "evidence")})
	if err != nil {
		t.Fatal(err)
	}
	for key, label := range map[string]evidence.Label{"u1/a": evidence.Real, "u1/b": evidence.FalseAlarm, "u2/c": ""} {
		if err := store.Put(ctx, key, exportTestWAV(), evidence.Meta{UserID: 1}); err != nil {
			t.Fatal(err)
		}
		if label != "" {
			if err := store.SetLabel(ctx, key, label); err != nil {
				t.Fatal(err)
			}
		}
	}
	out := filepath.Join(t.TempDir(), "set")
	var stdout, stderr bytes.Buffer
	if code := run(ctx, []string{"export", "--data", data, "--out", out}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if !strings.Contains(stdout.String(), "exported 1 real and 1 false-alarm clips") {
		t.Fatalf("stdout %q", stdout.String())
	}
	if _, err := os.Stat(filepath.Join(out, "feedback", "real", evidence.ClipID("u1/a")+".wav")); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(out, evidence.LabelsFile)); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"export", "--data", data}, 2, "--out is required"},
		{[]string{"export", "--data", filepath.Join(data, "typo"), "--out", out}, 1, "evidence directory"},
		{[]string{"export", "--data", data, "--out", "ftp://x/y"}, 1, "only a directory or s3://"},
	} {
		stderr.Reset()
		if code := run(ctx, tc.args, &stdout, &stderr); code != tc.code || !strings.Contains(stderr.String(), tc.msg) {
			t.Errorf("%q: exit %d, stderr %q; want %d and %q", tc.args, code, stderr.String(), tc.code, tc.msg)
		}
	}
	// Settings from the environment, as serve takes them.
	t.Setenv("EMPOWERHER_EVIDENCE_DIR", filepath.Join(data, "evidence"))
	t.Setenv("EMPOWERHER_OUT", filepath.Join(t.TempDir(), "from-env"))
	stdout.Reset()
	stderr.Reset()
	if code := run(ctx, []string{"export", "--data", filepath.Join(data, "elsewhere")}, &stdout, &stderr); code != 0 || !strings.Contains(stdout.String(), "from-env") {
		t.Fatalf("env settings: exit %d, %q %q", code, stdout.String(), stderr.String())
	}
	t.Setenv("EMPOWERHER_EVIDENCE_RETENTION", "soon")
	stderr.Reset()
	if code := run(ctx, []string{"export", "--data", data}, &stdout, &stderr); code != 1 || !strings.Contains(stderr.String(), "EMPOWERHER_EVIDENCE_RETENTION") {
		t.Errorf("bad env duration: exit %d, %q", code, stderr.String())
	}
	t.Setenv("EMPOWERHER_EVIDENCE_RETENTION", "")
	os.Unsetenv("EMPOWERHER_EVIDENCE_RETENTION")
	t.Setenv(evidence.KeyEnv, "")
	stderr.Reset()
	if code := run(ctx, []string{"export", "--data", data, "--out", out}, &stdout, &stderr); code != 1 || !strings.Contains(stderr.String(), "no encryption key") {
		t.Errorf("without key: exit %d, %q", code, stderr.String())
	}
}
