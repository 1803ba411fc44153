package corpus

import (
	"os"
	"testing"
	"testing/fstest"
)

func TestParseLabels(t *testing.T) {
	fsys := fstest.MapFS{
		"ravdess/Actor_07/03-01-02-01-01-01-07.flac":     {},
		"ravdess/Actor_07/03-01-06-02-01-01-07.flac":     {},
		"tess/OAF/OAF_back_fear.flac":                    {},
		"tess/YAF/YAF_dog_ps.flac":                       {},
		"nonverbal/screaming/2CVI_15_11_0_15_0_0_0.flac": {},
		"nonverbal/crying/ABCD_1_0.flac":                 {},
		"nonverbal/laughing/ABCD_2_0.flac":               {},
		"noise/urbansound8k/fold1/101415-3-0-2.flac":     {},
		"noise/speechcommands/white_noise.flac":          {},
		"README.md":                                      {},
	}
	items, err := List(fsys)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"ravdess/Actor_07/03-01-02-01-01-01-07.flac":     Neutral, // calm folds into neutral
		"ravdess/Actor_07/03-01-06-02-01-01-07.flac":     Fearful,
		"tess/OAF/OAF_back_fear.flac":                    Fearful,
		"tess/YAF/YAF_dog_ps.flac":                       Surprised,
		"nonverbal/screaming/2CVI_15_11_0_15_0_0_0.flac": Scream,
		"nonverbal/crying/ABCD_1_0.flac":                 Cry,
		"nonverbal/laughing/ABCD_2_0.flac":               Vocal,
		"noise/urbansound8k/fold1/101415-3-0-2.flac":     Background,
		"noise/speechcommands/white_noise.flac":          Background,
	}
	if len(items) != len(want) {
		t.Fatalf("got %d items, want %d", len(items), len(want))
	}
	for _, it := range items {
		if want[it.Path] != it.Class {
			t.Errorf("%s: class %q, want %q", it.Path, it.Class, want[it.Path])
		}
		if it.Corpus == RAVDESS && (it.Actor != 7 || it.Group != FoldOfActor(7)) {
			t.Errorf("%s: actor %d group %d", it.Path, it.Actor, it.Group)
		}
	}
	// Both clips of one nonverbal speaker share a group, so folds hold
	// whole speakers out.
	var g []int
	for _, it := range items {
		if it.Speaker == "nonverbal:ABCD" {
			g = append(g, it.Group)
		}
	}
	if len(g) != 2 || g[0] != g[1] {
		t.Errorf("speaker ABCD spread over groups %v", g)
	}
}

func TestFoldsCoverEveryActorOnce(t *testing.T) {
	seen := map[int]int{}
	for _, f := range Folds {
		for _, a := range f {
			seen[a]++
		}
	}
	for a := 1; a <= 24; a++ {
		if seen[a] != 1 {
			t.Errorf("actor %d appears in %d folds", a, seen[a])
		}
	}
}

func TestListRealCorpus(t *testing.T) {
	dir := Find()
	if dir == "" {
		t.Skip(SkipMessage)
	}
	items, err := List(os.DirFS(dir))
	if err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	for _, it := range items {
		count[it.Corpus]++
	}
	// Sizes from ../shared/datasets/README.md.
	if count[RAVDESS] != 1440 || count[TESS] != 1400 || count[Nonverbal] != 727 || count[Noise] != 879 {
		t.Errorf("corpus sizes %v differ from the datasets README", count)
	}
}
