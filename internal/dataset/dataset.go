package dataset

import (
	"fmt"
	"io/fs"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/empowerher/empowerher/internal/audio"
	"github.com/empowerher/empowerher/internal/corpus"
	"github.com/empowerher/empowerher/internal/features"
)

// Clip is a decoded corpus item.
type Clip struct {
	corpus.Item
	Samples []float32
}

// Load decodes every item from root with all cores, reporting progress
// (done, total) after each file. A file that cannot be decoded is an
// error naming it: a corpus must be complete to train reproducibly.
func Load(root fs.FS, items []corpus.Item, progress func(done, total int)) ([]Clip, error) {
	clips := make([]Clip, len(items))
	var next, done atomic.Int64
	var firstErr error
	var mu sync.Mutex
	var wg sync.WaitGroup
	for w := 0; w < runtime.GOMAXPROCS(0); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= len(items) {
					return
				}
				b, err := fs.ReadFile(root, items[i].Path)
				var c *audio.Clip
				if err == nil {
					c, err = audio.DecodeBytes(b, audio.Options{})
				}
				if err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = fmt.Errorf("dataset: %s: %w", items[i].Path, err)
					}
					mu.Unlock()
					return
				}
				clips[i] = Clip{Item: items[i], Samples: c.Samples}
				if progress != nil {
					progress(int(done.Add(1)), len(items))
				}
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	return clips, nil
}

// Windowing of training examples. The detector scores 2 s windows, so
// the model is trained on 2 s windows too.
const (
	framesPerSecond = features.FrameRate
	WindowFrames    = 2 * framesPerSecond // 2 s of LLD frames
	trainHop        = framesPerSecond     // 1 s between training windows
	longSegment     = 2 * framesPerSecond // long noise recordings are cut every 2 s
)

// Example describes one row of a Set.
type Example struct {
	Clip    int // index into the clips given to Build
	Variant int // 0 = clean, >0 = augmented
	Class   int // index into corpus.Classes
	Group   int
}

// Set is a feature matrix with its labels.
type Set struct {
	D    int
	X    []float32 // len(Rows)×D
	Rows []Example
}

// Row returns row i's features.
func (s *Set) Row(i int) []float32 { return s.X[i*s.D : (i+1)*s.D] }

// BuildConfig shapes Build.
type BuildConfig struct {
	Variants int // augmented copies per clip besides the clean one
	Aug      Augmentation
	Seed     uint64
	// Baseline computes the prototype's 40 mean MFCCs per whole clip
	// instead of windowed functionals (clean clips only).
	Baseline bool
}

// Build turns clips into a feature Set: for every clip its clean version
// and cfg.Variants augmented ones, each cut into 2 s windows over the
// part where the recording is active. Work is spread over all cores; the
// result does not depend on how many there are, because each clip's
// random stream is seeded by its index.
func Build(clips []Clip, cfg BuildConfig, progress func(done, total int)) *Set {
	noise := noisePools(clips)
	d := features.NumFunctionals
	if cfg.Baseline {
		d = 40
	}
	perClip := make([]Set, len(clips))
	var next, done atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < runtime.GOMAXPROCS(0); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			fe := features.NewFrontend()
			sum := features.NewSummarizer()
			var lld []float32
			for {
				i := int(next.Add(1) - 1)
				if i >= len(clips) {
					return
				}
				out := &perClip[i]
				out.D = d
				c := clips[i]
				class := classIndex(c.Class)
				if cfg.Baseline {
					out.X = append(out.X, features.MeanMFCC40(c.Samples)...)
					out.Rows = append(out.Rows, Example{Clip: i, Class: class, Group: c.Group})
				} else {
					rng := rand.New(rand.NewPCG(cfg.Seed, uint64(i)))
					for v := 0; v <= cfg.Variants; v++ {
						x := c.Samples
						if v > 0 {
							x = cfg.Aug.apply(x, pickNoise(noise[c.Group], c, rng), rng)
						}
						fe.Reset()
						lld = fe.Write(lld[:0], x)
						for _, span := range Spans(x, len(lld)/features.NumLLD, c.Long, c.Class == corpus.Background) {
							out.X = sum.Functionals(out.X, lld[span[0]*features.NumLLD:span[1]*features.NumLLD])
							out.Rows = append(out.Rows, Example{Clip: i, Variant: v, Class: class, Group: c.Group})
						}
					}
				}
				if progress != nil {
					progress(int(done.Add(1)), len(clips))
				}
			}
		}()
	}
	wg.Wait()
	set := &Set{D: d}
	for _, p := range perClip {
		set.X = append(set.X, p.X...)
		set.Rows = append(set.Rows, p.Rows...)
	}
	return set
}

func classIndex(c string) int {
	for i, n := range corpus.Classes {
		if n == c {
			return i
		}
	}
	panic("dataset: unknown class " + c) // corpus.List only yields known classes
}

// noisePools gathers each group's background recordings for mixing, so a
// fold never mixes training clips with the noise it is evaluated on.
func noisePools(clips []Clip) [6][][]float32 {
	var pools [6][][]float32
	for _, c := range clips {
		if c.Class == corpus.Background && len(c.Samples) > 0 {
			pools[c.Group] = append(pools[c.Group], c.Samples)
		}
	}
	return pools
}

func pickNoise(pool [][]float32, c Clip, rng *rand.Rand) []float32 {
	if len(pool) == 0 || c.Class == corpus.Background {
		return nil
	}
	return pool[rng.IntN(len(pool))]
}

// Spans returns the [start, end) LLD frame ranges of the windows to
// featurize in a recording of n frames: 2 s windows every 1 s over its
// active part (so leading and trailing silence of studio clips does not
// become training data), the whole active part when it is shorter, and
// 2 s segments of long background recordings.
func Spans(x []float32, n int, long, background bool) [][2]int {
	if n <= 0 {
		return nil
	}
	if long {
		var s [][2]int
		for a := 0; a+longSegment <= n; a += longSegment {
			s = append(s, [2]int{a, a + longSegment})
		}
		return s
	}
	lo, hi := 0, n
	if !background {
		lo, hi = ActiveFrames(x, n)
	}
	if hi-lo <= WindowFrames {
		// Centre a full window on a short active part when the clip has
		// room, as the streaming detector would see it.
		if n >= WindowFrames {
			c := (lo + hi) / 2
			a := min(max(c-WindowFrames/2, 0), n-WindowFrames)
			return [][2]int{{a, a + WindowFrames}}
		}
		return [][2]int{{0, n}}
	}
	var s [][2]int
	for a := lo; a+WindowFrames <= hi; a += trainHop {
		s = append(s, [2]int{a, a + WindowFrames})
	}
	if last := s[len(s)-1][1]; hi-last > trainHop/2 {
		s = append(s, [2]int{hi - WindowFrames, hi})
	}
	return s
}

// ActiveFrames returns the first and last+1 LLD frames whose energy is
// within 35 dB of the recording's loudest frame.
func ActiveFrames(x []float32, n int) (int, int) {
	const hop = features.HopSize
	e := make([]float64, n)
	maxE := 0.0
	for f := 0; f < n; f++ {
		a, b := f*hop, min((f+1)*hop, len(x))
		s := 0.0
		for _, v := range x[a:b] {
			s += float64(v) * float64(v)
		}
		e[f] = s
		maxE = max(maxE, s)
	}
	lo, hi := 0, n
	for lo < n && e[lo] < maxE*3.16e-4 {
		lo++
	}
	for hi > lo && e[hi-1] < maxE*3.16e-4 {
		hi--
	}
	if hi <= lo {
		return 0, n
	}
	return lo, hi
}

// Len is the number of rows.
func (s *Set) Len() int { return len(s.Rows) }
