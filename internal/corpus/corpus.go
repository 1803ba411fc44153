package corpus

import (
	"fmt"
	"hash/fnv"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
)

// Classes the detector knows, in model order.
const (
	Neutral    = "neutral" // RAVDESS calm folds into it
	Happy      = "happy"
	Sad        = "sad"
	Angry      = "angry"
	Fearful    = "fearful"
	Disgust    = "disgust"
	Surprised  = "surprised"
	Scream     = "scream"
	Cry        = "cry"
	Vocal      = "vocalization" // other non-verbal vocalizations: laugh, cough, sneeze, yawn …
	Background = "background"   // no voice: everyday sound
)

// Classes lists every class in model order.
var Classes = []string{Neutral, Happy, Sad, Angry, Fearful, Disgust, Surprised, Scream, Cry, Vocal, Background}

// DistressClasses are summed into the distress score.
var DistressClasses = []string{Angry, Fearful, Scream, Cry}

// Emotions are RAVDESS's emotions with calm folded into neutral.
var Emotions = []string{Neutral, Happy, Sad, Angry, Fearful, Disgust, Surprised}

// PrototypeTask is the student prototype's label set.
var PrototypeTask = []string{Sad, Angry, Fearful, Disgust}

// Corpus names.
const (
	RAVDESS   = "ravdess"
	TESS      = "tess"
	Nonverbal = "nonverbal"
	Noise     = "noise"
	Feedback  = "feedback" // clips users marked, exported by `empowerher export`
)

// Item is one labelled recording.
type Item struct {
	Path    string // relative to the corpus root (slash-separated)
	Corpus  string
	Class   string
	Speaker string // corpus-qualified ("ravdess:07", "nonverbal:2CVI"); "" for noise
	// Actor is the RAVDESS actor number (1–24), 0 elsewhere.
	Actor int
	// Group is 0–5: RAVDESS items take the index of the evaluation fold
	// that holds their actor out; others are spread over groups by speaker
	// (or file, for noise) so that a fold can hold whole speakers out.
	Group int
	// Long marks recordings of a minute or more (background noise) that
	// are cut into segments.
	Long bool
}

// Folds are RAVDESS's 6-fold actor-independent split used by `eval`.
var Folds = [6][4]int{
	{1, 11, 20, 21},
	{4, 10, 12, 14},
	{8, 9, 19, 23},
	{3, 5, 7, 24},
	{2, 15, 16, 18},
	{6, 13, 17, 22},
}

// FoldOfActor returns the fold index holding actor out, or -1.
func FoldOfActor(actor int) int {
	for f, actors := range Folds {
		for _, a := range actors {
			if a == actor {
				return f
			}
		}
	}
	return -1
}

var ravdessEmotion = map[string]string{
	"01": Neutral, "02": Neutral, "03": Happy, "04": Sad,
	"05": Angry, "06": Fearful, "07": Disgust, "08": Surprised,
}

var tessEmotion = map[string]string{
	"angry": Angry, "disgust": Disgust, "fear": Fearful, "happy": Happy,
	"neutral": Neutral, "ps": Surprised, "sad": Sad,
}

var nonverbalClass = map[string]string{
	"screaming": Scream, "crying": Cry,
}

// List walks a corpus root laid out as ../shared/datasets (ravdess/, tess/,
// nonverbal/, noise/, and optionally feedback/) and returns every labelled
// item, sorted by path so that the order (and so training) is
// deterministic. Unknown files are skipped; a root without any known
// corpus is an error.
func List(root fs.FS) ([]Item, error) {
	var items []Item
	err := fs.WalkDir(root, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || !isAudio(p) {
			return nil
		}
		if it, ok := parse(p); ok {
			items = append(items, it)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("corpus: %w", err)
	}
	if len(items) == 0 {
		return nil, fmt.Errorf("corpus: no labelled audio found (expected ravdess/, tess/, nonverbal/, noise/ or feedback/)")
	}
	sort.Slice(items, func(i, j int) bool { return items[i].Path < items[j].Path })
	return items, nil
}

func isAudio(p string) bool {
	switch strings.ToLower(path.Ext(p)) {
	case ".flac", ".wav", ".ogg", ".opus", ".webm", ".mp3":
		return true
	}
	return false
}

func parse(p string) (Item, bool) {
	parts := strings.Split(p, "/")
	base := strings.TrimSuffix(parts[len(parts)-1], path.Ext(p))
	switch parts[0] {
	case RAVDESS:
		// 03-01-EE-II-SS-RR-AA
		f := strings.Split(base, "-")
		if len(f) != 7 {
			return Item{}, false
		}
		class, ok := ravdessEmotion[f[2]]
		actor, err := strconv.Atoi(f[6])
		if !ok || err != nil || FoldOfActor(actor) < 0 {
			return Item{}, false
		}
		return Item{Path: p, Corpus: RAVDESS, Class: class, Speaker: "ravdess:" + f[6], Actor: actor, Group: FoldOfActor(actor)}, true
	case TESS:
		// SPEAKER_word_EMOTION
		f := strings.Split(base, "_")
		if len(f) < 3 {
			return Item{}, false
		}
		class, ok := tessEmotion[strings.ToLower(f[len(f)-1])]
		if !ok {
			return Item{}, false
		}
		// Two speakers only: spread their words over groups so every
		// fold trains on both voices (TESS is never a test set).
		return Item{Path: p, Corpus: TESS, Class: class, Speaker: "tess:" + f[0], Group: group(base)}, true
	case Nonverbal:
		if len(parts) != 3 {
			return Item{}, false
		}
		class, ok := nonverbalClass[parts[1]]
		if !ok {
			class = Vocal
		}
		spk := strings.SplitN(base, "_", 2)[0]
		return Item{Path: p, Corpus: Nonverbal, Class: class, Speaker: "nonverbal:" + spk, Group: group(spk)}, true
	case Noise:
		long := len(parts) > 1 && parts[1] == "speechcommands"
		return Item{Path: p, Corpus: Noise, Class: Background, Group: group(base), Long: long}, true
	case Feedback:
		// feedback/real/ID.wav, feedback/false_alarm/ID.wav (see docs/retraining.md)
		if len(parts) != 3 {
			return Item{}, false
		}
		switch parts[1] {
		case "real":
			return Item{Path: p, Corpus: Feedback, Class: Fearful, Group: group(base)}, true
		case "false_alarm":
			return Item{Path: p, Corpus: Feedback, Class: Neutral, Group: group(base)}, true
		}
	}
	return Item{}, false
}

// group spreads names over the six groups deterministically.
func group(name string) int {
	h := fnv.New32a()
	h.Write([]byte(name))
	return int(h.Sum32() % 6)
}
