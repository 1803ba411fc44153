package corpus

import (
	"os"
	"path/filepath"
)

// EnvDir names the environment variable that points at the corpora.
const EnvDir = "EMPOWERHER_DATASETS"

// Find returns the directory holding the training and evaluation corpora:
// $EMPOWERHER_DATASETS if set, else the first "shared/datasets" found next
// to the working directory or one of its parents (the checkout sits beside
// ../shared). It returns "" when there is none, as on a fresh machine;
// tests then skip with a message saying so.
func Find() string {
	if d := os.Getenv(EnvDir); d != "" {
		if isDir(filepath.Join(d, "ravdess")) {
			return d
		}
		return ""
	}
	wd, err := os.Getwd()
	if err != nil {
		return ""
	}
	for dir := wd; ; dir = filepath.Dir(dir) {
		cand := filepath.Join(dir, "shared", "datasets")
		if isDir(filepath.Join(cand, "ravdess")) {
			return cand
		}
		if filepath.Dir(dir) == dir {
			return ""
		}
	}
}

// SkipMessage is what tests print when Find returns "".
const SkipMessage = "corpora not found: set EMPOWERHER_DATASETS or place them in ../shared/datasets (see README)"

func isDir(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}
