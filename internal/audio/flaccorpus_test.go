package audio

import (
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/empowerher/empowerher/internal/corpus"
)

// corpusFLACs lists every .flac file under the corpora, sorted.
func corpusFLACs(t testing.TB) []string {
	t.Helper()
	root := corpus.Find()
	if root == "" {
		t.Skip(corpus.SkipMessage)
	}
	var files []string
	err := filepath.WalkDir(root, func(p string, e fs.DirEntry, err error) error {
		if err == nil && !e.IsDir() && strings.HasSuffix(p, ".flac") {
			files = append(files, p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(files)
	if len(files) == 0 {
		t.Skip(corpus.SkipMessage)
	}
	return files
}

// TestFLACCorpusMatchesMewkiz decodes 200 files spread evenly over every
// corpus with our decoder and with mewkiz/flac and requires identical
// integer and float32 samples. EMPOWERHER_FLAC_ALL=1 checks every file
// (about a minute).
func TestFLACCorpusMatchesMewkiz(t *testing.T) {
	files := corpusFLACs(t)
	step := max(1, len(files)/200)
	if os.Getenv("EMPOWERHER_FLAC_ALL") != "" {
		step = 1
	}
	n := 0
	for i := 0; i < len(files); i += step {
		b, err := os.ReadFile(files[i])
		if err != nil {
			t.Fatal(err)
		}
		sameAsMewkiz(t, files[i], b)
		n++
	}
	t.Logf("%d of %d corpus files identical", n, len(files))
}

func BenchmarkDecodeFLACRAVDESS(b *testing.B) {
	files := corpusFLACs(b)
	var path string
	for _, f := range files {
		if strings.Contains(f, "ravdess") {
			path = f
			break
		}
	}
	if path == "" {
		b.Skip(corpus.SkipMessage)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	clip, err := DecodeBytes(data, Options{})
	if err != nil {
		b.Fatal(err)
	}
	benchDecode(b, data, clip.Duration().Seconds())
}

// BenchmarkDecodeFLACRAVDESSMewkiz is the decoder before ours on the same
// file, for comparison.
func BenchmarkDecodeFLACRAVDESSMewkiz(b *testing.B) {
	files := corpusFLACs(b)
	var path string
	for _, f := range files {
		if strings.Contains(f, "ravdess") {
			path = f
			break
		}
	}
	data, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	var s sink
	if err := decodeFLACMewkiz(data, Options{}, &s); err != nil {
		b.Fatal(err)
	}
	seconds := float64(len(s.samples)) / float64(s.rate)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	startCPU()
	for b.Loop() {
		var s sink
		if err := decodeFLACMewkiz(data, Options{}, &s); err != nil {
			b.Fatal(err)
		}
	}
	reportRealtime(b, seconds)
}
