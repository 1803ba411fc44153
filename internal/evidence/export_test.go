package evidence

import (
	"bytes"
	"context"
	"encoding/csv"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
)

type wantClip struct {
	key   string
	wav   []byte
	label Label
	user  int64
}

func fillForExport(t *testing.T, s Store) []wantClip {
	t.Helper()
	clips := []wantClip{
		{"u1/i1/a", testWAV(1, 300), Real, 1},
		{"u1/i2/b", testWAV(2, 301), FalseAlarm, 1},
		{"u2/i3/c", testWAV(3, 302), Real, 2},
		{"u2/i4/d", testWAV(4, 303), Unlabelled, 2},
	}
	for _, c := range clips {
		if err := s.Put(context.Background(), c.key, c.wav, Meta{UserID: c.user, Score: 0.75}); err != nil {
			t.Fatal(err)
		}
		if c.label != Unlabelled {
			if err := s.SetLabel(context.Background(), c.key, c.label); err != nil {
				t.Fatal(err)
			}
		}
	}
	return clips
}

// checkDataset reads an exported set back through OpenDataset's fs.FS, as
// the trainer will, and checks it against what was stored.
func checkDataset(t *testing.T, fsys fs.FS, clips []wantClip) {
	t.Helper()
	var expected []string
	for _, c := range clips {
		if c.label != Unlabelled {
			expected = append(expected, "feedback/"+string(c.label)+"/"+ClipID(c.key)+".wav")
		}
	}
	if err := fstest.TestFS(fsys, append(expected, LabelsFile)...); err != nil {
		t.Fatal(err)
	}
	f, err := fsys.Open(LabelsFile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(rows[0], LabelsHeader) {
		t.Fatalf("header %q", rows[0])
	}
	rows = rows[1:]
	if len(rows) != 3 {
		t.Fatalf("%d rows, want 3 (unlabelled clip must be left out): %q", len(rows), rows)
	}
	groups := map[int64]string{}
	for _, c := range clips {
		if c.label == Unlabelled {
			continue
		}
		rel := "feedback/" + string(c.label) + "/" + ClipID(c.key) + ".wav"
		got, err := fs.ReadFile(fsys, rel)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, c.wav) {
			t.Fatalf("%s: exported bytes differ from the stored clip", rel)
		}
		i := slices.IndexFunc(rows, func(r []string) bool { return r[0] == rel })
		if i < 0 {
			t.Fatalf("no labels.csv row for %s", rel)
		}
		r := rows[i]
		wantDistress := map[Label]string{Real: "1", FalseAlarm: "0"}[c.label]
		if r[1] != string(c.label) || r[2] != wantDistress || r[3] != "0.7500" || r[5] == "" {
			t.Fatalf("row %q", r)
		}
		if g, ok := groups[c.user]; ok && g != r[4] {
			t.Fatalf("one user, two groups: %q %q", g, r[4])
		}
		groups[c.user] = r[4]
		if strings.Contains(strings.Join(r, ","), "u1") || strings.Contains(rel, "i1") {
			t.Fatalf("row or path reveals the evidence key: %q", r)
		}
	}
	if groups[1] == groups[2] {
		t.Fatal("two users share a group")
	}
}

func TestExportLocalToDir(t *testing.T) {
	s, err := NewLocal(t.TempDir(), mustKeys(t, keyA))
	if err != nil {
		t.Fatal(err)
	}
	clips := fillForExport(t, s)
	out := filepath.Join(t.TempDir(), "train")
	sum, err := Export(context.Background(), s, out)
	if err != nil {
		t.Fatal(err)
	}
	if sum != (ExportSummary{Real: 2, FalseAlarm: 1, Unlabelled: 1}) {
		t.Fatalf("summary %+v", sum)
	}
	fi, err := os.Stat(filepath.Join(out, "feedback", "real", ClipID("u1/i1/a")+".wav"))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("exported clip mode %o, want 600", fi.Mode().Perm())
	}
	fsys, err := OpenDataset(context.Background(), out)
	if err != nil {
		t.Fatal(err)
	}
	checkDataset(t, fsys, clips)
	// Export is idempotent: same ids, rows replaced, nothing duplicated.
	if _, err := Export(context.Background(), s, out); err != nil {
		t.Fatal(err)
	}
	checkDataset(t, fsys, clips)
}

func TestExportS3ToS3(t *testing.T) {
	_, _, url := startFakeS3(t, true)
	ctx := context.Background()
	ep := S3Endpoint{Endpoint: url, PathStyle: true}
	s, err := NewS3(ctx, S3Config{Bucket: testBucket, Prefix: "evidence", Endpoint: url, PathStyle: true}, mustKeys(t, keyA))
	if err != nil {
		t.Fatal(err)
	}
	clips := fillForExport(t, s)
	sum, err := Export(ctx, s, "s3://"+testBucket+"/training/2026-12", WithS3Endpoint(ep))
	if err != nil {
		t.Fatal(err)
	}
	if sum.Real != 2 || sum.FalseAlarm != 1 {
		t.Fatalf("summary %+v", sum)
	}
	fsys, err := OpenDataset(ctx, "s3://"+testBucket+"/training/2026-12", WithS3Endpoint(ep))
	if err != nil {
		t.Fatal(err)
	}
	checkDataset(t, fsys, clips)
	// The evidence objects under another prefix stay out of the set.
	if _, err := fs.Stat(fsys, "evidence"); err == nil {
		t.Fatal("dataset FS sees outside its prefix")
	}
	// Subdirectory listing, as the trainer walks it.
	ents, err := fs.ReadDir(fsys, "feedback")
	if err != nil || len(ents) != 2 || ents[0].Name() != "false_alarm" || !ents[0].IsDir() {
		t.Fatalf("ReadDir(feedback) = %v, %v", ents, err)
	}
}

func TestDatasetURIErrors(t *testing.T) {
	ctx := context.Background()
	for _, uri := range []string{"s3://", "s3:///x", "s3://b/../x", "gs://b/x", "http://b"} {
		if _, err := OpenDataset(ctx, uri); err == nil {
			t.Errorf("OpenDataset(%q) accepted", uri)
		}
		if _, err := Export(ctx, nil, uri); err == nil {
			t.Errorf("Export(%q) accepted", uri)
		}
	}
	if _, err := OpenDataset(ctx, filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Error("missing dir accepted")
	}
}
