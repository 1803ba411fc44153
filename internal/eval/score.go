package eval

import (
	"slices"

	"github.com/empowerher/empowerher/internal/audio"
	"github.com/empowerher/empowerher/internal/corpus"
	"github.com/empowerher/empowerher/internal/dataset"
	"github.com/empowerher/empowerher/internal/detect"
)

// accumulator gathers held-out predictions of one or more folds.
type accumulator struct {
	alert   *confusion // normal/distress
	proto   *confusion // the prototype's four classes
	emotion *confusion // RAVDESS's seven emotions
	scores  []float64  // distress score per RAVDESS clip
	pos     []bool

	screamScores, cryScores, noiseScores []float64
	screamHits, cryHits, noiseHits       int

	listenSeconds float64
	listenAlarms  int
}

func newAccumulator() *accumulator {
	return &accumulator{
		alert:   newConfusion([]string{"normal", "distress"}),
		proto:   newConfusion(corpus.PrototypeTask),
		emotion: newConfusion(corpus.Emotions),
	}
}

func (a *accumulator) merge(o *accumulator) {
	a.alert.merge(o.alert)
	a.proto.merge(o.proto)
	a.emotion.merge(o.emotion)
	a.scores = append(a.scores, o.scores...)
	a.pos = append(a.pos, o.pos...)
	a.screamScores = append(a.screamScores, o.screamScores...)
	a.cryScores = append(a.cryScores, o.cryScores...)
	a.noiseScores = append(a.noiseScores, o.noiseScores...)
	a.screamHits += o.screamHits
	a.cryHits += o.cryHits
	a.noiseHits += o.noiseHits
	a.listenSeconds += o.listenSeconds
	a.listenAlarms += o.listenAlarms
}

// isAlert is the alert task's truth: angry or fearful.
func isAlert(class string) bool { return class == corpus.Angry || class == corpus.Fearful }

// addRAVDESS records one held-out RAVDESS clip: truth class, the
// detector's distress decision and score, and class probabilities in
// the order of classes.
func (a *accumulator) addRAVDESS(truth string, distress bool, score float64, probs []float64, classes []string) {
	t := 0
	if isAlert(truth) {
		t = 1
	}
	p := 0
	if distress {
		p = 1
	}
	a.alert.add(t, p)
	a.scores = append(a.scores, score)
	a.pos = append(a.pos, t == 1)
	a.emotion.add(slices.Index(corpus.Emotions, truth), argmaxAmong(probs, classes, corpus.Emotions))
	if i := slices.Index(corpus.PrototypeTask, truth); i >= 0 {
		a.proto.add(i, argmaxAmong(probs, classes, corpus.PrototypeTask))
	}
}

// argmaxAmong returns the index in among of the most probable of those
// classes.
func argmaxAmong(probs []float64, classes, among []string) int {
	best, bestP := 0, -1.0
	for i, c := range among {
		j := slices.Index(classes, c)
		if j >= 0 && probs[j] > bestP {
			best, bestP = i, probs[j]
		}
	}
	return best
}

func probsOf(r detect.Result) ([]float64, []string) {
	p := make([]float64, len(r.Classes))
	c := make([]string, len(r.Classes))
	for i, cp := range r.Classes {
		p[i], c[i] = cp.P, cp.Class
	}
	return p, c
}

// scoreRAVDESS runs the detector on fold k's held-out actors.
func (a *accumulator) scoreRAVDESS(det *detect.Detector, clips []dataset.Clip, k int) {
	for _, c := range clips {
		if c.Corpus != corpus.RAVDESS || c.Group != k {
			continue
		}
		r := det.Analyze(c.Samples)
		p, cls := probsOf(r)
		a.addRAVDESS(c.Class, r.Distress, r.Score, p, cls)
	}
}

// noiseChunk is how long recordings are cut for clip-level false
// positives: as long as an UrbanSound8K clip.
const noiseChunk = 4 * audio.SampleRate

// scoreFold runs every held-out measurement of fold k.
func (a *accumulator) scoreFold(det *detect.Detector, clips []dataset.Clip, k int) {
	a.scoreRAVDESS(det, clips, k)
	var calm [][]float32
	for _, c := range clips {
		if c.Group != k {
			continue
		}
		switch {
		case c.Corpus == corpus.Nonverbal && c.Class == corpus.Scream:
			r := det.Analyze(c.Samples)
			a.screamScores = append(a.screamScores, r.Score)
			if r.Distress {
				a.screamHits++
			}
		case c.Corpus == corpus.Nonverbal && c.Class == corpus.Cry:
			r := det.Analyze(c.Samples)
			a.cryScores = append(a.cryScores, r.Score)
			if r.Distress {
				a.cryHits++
			}
		case c.Corpus == corpus.Noise:
			for off := 0; off < len(c.Samples); off += noiseChunk {
				chunk := c.Samples[off:min(off+noiseChunk, len(c.Samples))]
				if len(chunk) < audio.SampleRate {
					break
				}
				r := det.Analyze(chunk)
				a.noiseScores = append(a.noiseScores, r.Score)
				if r.Distress {
					a.noiseHits++
				}
			}
			calm = append(calm, c.Samples)
		case c.Corpus == corpus.RAVDESS && c.Class == corpus.Neutral:
			calm = append(calm, c.Samples)
		}
	}
	a.listen(det, calm)
}

// listen streams held-out everyday sound and calm speech, back to back,
// through the live detector and counts its alarms.
func (a *accumulator) listen(det *detect.Detector, recs [][]float32) {
	s := det.NewStream(detect.StreamConfig{})
	const chunk = 1600 // 100 ms, as a browser sends
	for _, x := range recs {
		for off := 0; off < len(x); off += chunk {
			s.Write(x[off:min(off+chunk, len(x))], func(u detect.Update) {
				if u.Alarm != nil {
					a.listenAlarms++
				}
			})
		}
		a.listenSeconds += float64(len(x)) / audio.SampleRate
	}
}
