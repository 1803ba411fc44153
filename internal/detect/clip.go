package detect

import (
	"github.com/empowerher/empowerher/internal/audio"
	"github.com/empowerher/empowerher/internal/features"
)

// framesPerSecond is the LLD frame rate.
const framesPerSecond = features.FrameRate

// Windows over a clip: the 2 s windows a live stream uses, every 1 s (the
// spacing the model was trained with; a stream moves every 0.5 s to
// react sooner).
const (
	windowFrames = 2 * framesPerSecond
	hopFrames    = framesPerSecond
)

// Analyze scores a whole clip (16 kHz mono) in 2 s windows every 1 s. The clip's class
// probabilities are the mean over its voiced windows, and its score the
// calibrated distress probability of that mean; a clip with no voiced
// window is judged on all of its windows and reported as not voiced.
func (d *Detector) Analyze(samples []float32) Result {
	w := d.workers.Get().(*worker)
	defer d.workers.Put(w)

	res := Result{DurationS: float64(len(samples)) / audio.SampleRate, ModelVersion: d.m.Version}
	w.fe.Reset()
	w.lld = w.fe.Write(w.lld[:0], samples)
	n := len(w.lld) / features.NumLLD
	active := clipActivity(samples)

	k := len(d.m.Classes)
	voicedSum := make([]float64, k)
	allSum := make([]float64, k)
	voiced, all := 0, 0
	for _, span := range windows(n) {
		w.fun = w.sum.Functionals(w.fun[:0], w.lld[span[0]*features.NumLLD:span[1]*features.NumLLD])
		score := w.pred.Predict(w.fun, w.probs)
		v := fractionActive(active, span[0], span[1]) >= minActiveFraction
		res.Timeline = append(res.Timeline, Window{
			StartS: float64(span[0]) / framesPerSecond, EndS: float64(span[1]) / framesPerSecond,
			Score: round4(score), Voiced: v,
		})
		for c, p := range w.probs {
			allSum[c] += p
			if v {
				voicedSum[c] += p
			}
		}
		all++
		if v {
			voiced++
		}
	}
	if all == 0 {
		res.Label = "background"
		if d.bgIdx < 0 {
			res.Label = d.m.Classes[0]
		}
		res.Classes = d.classProbs(make([]float64, k))
		return res
	}
	mean, cnt := voicedSum, voiced
	if voiced == 0 {
		mean, cnt = allSum, all
	}
	for c := range mean {
		mean[c] /= float64(cnt)
	}
	// Active sound that the model hears as background is not a voice.
	res.Voiced = voiced > 0 && (d.bgIdx < 0 || mean[d.bgIdx] < 0.5)
	res.Score = round4(d.m.Calibrate(d.m.RawDistress(mean)))
	res.Distress = res.Voiced && res.Score >= d.m.Threshold
	res.Label = d.m.Classes[argmax(mean)]
	res.Classes = d.classProbs(mean)
	return res
}

// windows returns the frame spans of a clip's analysis windows: 2 s every
// 1 s, the last one flush with the end; a clip shorter than 2 s is one
// window.
func windows(n int) [][2]int {
	if n <= 0 {
		return nil
	}
	if n <= windowFrames {
		return [][2]int{{0, n}}
	}
	var s [][2]int
	a := 0
	for ; a+windowFrames <= n; a += hopFrames {
		s = append(s, [2]int{a, a + windowFrames})
	}
	if s[len(s)-1][1] < n {
		s = append(s, [2]int{n - windowFrames, n})
	}
	return s
}

func fractionActive(active []bool, a, b int) float64 {
	b = min(b, len(active))
	if b <= a {
		return 0
	}
	c := 0
	for _, v := range active[a:b] {
		if v {
			c++
		}
	}
	return float64(c) / float64(b-a)
}
