package model

import (
	"fmt"
	"io"
	"math"
	"sort"
)

// Data is a training matrix: n rows of D standardizable features.
type Data struct {
	D     int
	X     []float32 // n×D
	Y     []int     // class index per row
	Group []int     // fold group per row (speaker-disjoint groups)
	Clean []bool    // row comes from an unaugmented recording
	// Calib marks rows whose speakers are fully held out when their group
	// is (nil: all). Only those calibrate: TESS's two voices are in every
	// group, so its rows would make the calibration optimistic.
	Calib  []bool
	Weight []float32 // optional per-row weight (nil = 1)
}

// Len is the number of rows.
func (d *Data) Len() int { return len(d.Y) }

// TrainConfig shapes Train.
type TrainConfig struct {
	Classes  []string
	Features []string
	Distress []string // classes summed into the distress score
	Fit      FitConfig
	Ensemble int // networks averaged
	// CalibrationGroup is held out to fit the distress calibration and
	// threshold; -1 picks the group with the most rows.
	CalibrationGroup int
	// WeightPower tempers class balancing: weight ∝ count^-WeightPower
	// (1 = fully balanced, 0 = none).
	WeightPower float64
	// MaxBackgroundFPR bounds the false-positive rate on background rows
	// of the calibration group when choosing the threshold.
	MaxBackgroundFPR float64
	Background       string
	// StreamFPR is the share of non-distress windows of the calibration
	// group allowed over the live stream's threshold.
	StreamFPR float64
	// Progress is called with a short stage name and its fraction done.
	Progress func(stage string, frac float64)
}

// Train fits a Model: standardization on all rows; a calibration network
// trained without one group, whose scores on that group's clean rows fit
// the Platt scaling and the threshold; then Ensemble networks on all
// rows. Everything is deterministic for a given Fit.Seed.
func Train(data *Data, cfg TrainConfig) (*Model, error) {
	if data.Len() == 0 || data.D != len(cfg.Features) {
		return nil, fmt.Errorf("model: %d rows of %d features, %d feature names", data.Len(), data.D, len(cfg.Features))
	}
	k := len(cfg.Classes)
	m := &Model{Classes: cfg.Classes, Features: cfg.Features, Meta: map[string]string{}}
	for _, c := range cfg.Distress {
		if i := m.ClassIndex(c); i >= 0 {
			m.DistressIdx = append(m.DistressIdx, i)
		}
	}
	m.Mean, m.Std = standardization(data)
	xs := standardize(data, m.Mean, m.Std)
	fc := cfg.Fit
	fc.ClassWeights = classWeights(data.Y, k, cfg.WeightPower)

	ens := max(cfg.Ensemble, 1)
	total := float64(ens+1) * float64(fc.Epochs)
	doneEpochs := 0.0
	progress := func(stage string) func(int) {
		return func(int) {
			doneEpochs++
			if cfg.Progress != nil {
				cfg.Progress(stage, doneEpochs/total)
			}
		}
	}

	// Calibration on a held-out group.
	cg := cfg.CalibrationGroup
	if cg < 0 {
		cg = largestGroup(data.Group)
	}
	var trX []float32
	var trY []int
	var calRows []int
	for i := 0; i < data.Len(); i++ {
		if data.Group[i] == cg {
			if data.Clean[i] && (data.Calib == nil || data.Calib[i]) {
				calRows = append(calRows, i)
			}
			continue
		}
		trX = append(trX, xs[i*data.D:(i+1)*data.D]...)
		trY = append(trY, data.Y[i])
	}
	m.CalA, m.CalB, m.Threshold, m.StreamThreshold = 1, 0, 0.5, 0.5
	if len(calRows) > 0 && len(trY) > 0 {
		cf := fc
		cf.OnEpoch = progress("calibrate")
		calNet := &Model{Classes: m.Classes, Features: m.Features, Mean: m.Mean, Std: m.Std, DistressIdx: m.DistressIdx, CalA: 1}
		calNet.Nets = []*MLP{fit(trX, data.D, trY, nil, k, cf)}
		p := calNet.NewPredictor()
		probs := make([]float64, k)
		raw := make([]float64, len(calRows))
		pos := make([]bool, len(calRows))
		bg := make([]bool, len(calRows))
		bgIdx := m.ClassIndex(cfg.Background)
		for j, i := range calRows {
			p.Predict(data.X[i*data.D:(i+1)*data.D], probs)
			raw[j] = m.RawDistress(probs)
			pos[j] = m.isDistress(data.Y[i])
			bg[j] = data.Y[i] == bgIdx
		}
		m.CalA, m.CalB = platt(raw, pos)
		cal := make([]float64, len(raw))
		for j, r := range raw {
			cal[j] = m.Calibrate(r)
		}
		m.Threshold = chooseThreshold(cal, pos, bg, cfg.MaxBackgroundFPR)
		m.StreamThreshold = streamThreshold(cal, pos, m.Threshold, cfg.StreamFPR)
	}
	for e := 0; e < ens; e++ {
		f := fc
		f.Seed = fc.Seed + uint64(e)*7919
		f.OnEpoch = progress(fmt.Sprintf("network %d/%d", e+1, ens))
		m.Nets = append(m.Nets, fit(xs, data.D, data.Y, data.Weight, k, f))
	}
	if err := m.validate(); err != nil {
		return nil, err
	}
	// Encoding sets Version, the content hash every output reports.
	return m, m.Encode(io.Discard)
}

func (m *Model) isDistress(class int) bool {
	for _, i := range m.DistressIdx {
		if i == class {
			return true
		}
	}
	return false
}

func standardization(d *Data) (mean, std []float32) {
	n := d.Len()
	mean = make([]float32, d.D)
	std = make([]float32, d.D)
	for j := 0; j < d.D; j++ {
		var s, ss float64
		cnt := 0
		for i := 0; i < n; i++ {
			v := float64(d.X[i*d.D+j])
			if v != v {
				continue
			}
			s += v
			ss += v * v
			cnt++
		}
		if cnt == 0 {
			std[j] = 1
			continue
		}
		mu := s / float64(cnt)
		sd := math.Sqrt(math.Max(ss/float64(cnt)-mu*mu, 0))
		if sd < 1e-6 {
			sd = 1
		}
		mean[j], std[j] = float32(mu), float32(sd)
	}
	return mean, std
}

func standardize(d *Data, mean, std []float32) []float32 {
	out := make([]float32, len(d.X))
	for i := 0; i < d.Len(); i++ {
		for j := 0; j < d.D; j++ {
			v := d.X[i*d.D+j]
			z := float32(0)
			if v == v {
				z = min(max((v-mean[j])/std[j], -clampZ), clampZ)
			}
			out[i*d.D+j] = z
		}
	}
	return out
}

func classWeights(y []int, k int, power float64) []float64 {
	count := make([]float64, k)
	for _, c := range y {
		count[c]++
	}
	w := make([]float64, k)
	sum, n := 0.0, 0.0
	for c := range w {
		if count[c] > 0 {
			w[c] = math.Pow(count[c], -power)
			sum += w[c] * count[c]
			n += count[c]
		}
	}
	for c := range w {
		w[c] *= n / sum // mean weight per row is 1
	}
	return w
}

func largestGroup(groups []int) int {
	count := map[int]int{}
	for _, g := range groups {
		count[g]++
	}
	best, bestN := 0, -1
	for g, n := range count {
		if n > bestN || (n == bestN && g < best) {
			best, bestN = g, n
		}
	}
	return best
}

// platt fits P(pos) = σ(a·logit(s) + b) by Newton's method on the log
// loss (Platt 1999, with the target smoothing of Lin et al. 2007).
func platt(raw []float64, pos []bool) (a, b float64) {
	var np, nn float64
	for _, p := range pos {
		if p {
			np++
		} else {
			nn++
		}
	}
	if np == 0 || nn == 0 {
		return 1, 0
	}
	tp, tn := (np+1)/(np+2), 1/(nn+2)
	a, b = 1, 0
	for it := 0; it < 50; it++ {
		var gA, gB, hAA, hAB, hBB float64
		for i, r := range raw {
			x := logit(r)
			t := tn
			if pos[i] {
				t = tp
			}
			p := sigmoid(a*x + b)
			d := p - t
			w := p * (1 - p)
			gA += d * x
			gB += d
			hAA += w * x * x
			hAB += w * x
			hBB += w
		}
		hAA += 1e-9
		hBB += 1e-9
		det := hAA*hBB - hAB*hAB
		if det <= 0 {
			break
		}
		da := (hBB*gA - hAB*gB) / det
		db := (hAA*gB - hAB*gA) / det
		a -= da
		b -= db
		if math.Abs(da)+math.Abs(db) < 1e-9 {
			break
		}
	}
	return a, b
}

// chooseThreshold maximizes the unweighted average recall of distress vs
// the rest over the voice rows (background excluded: everyday sound is an
// easy negative that would pull the threshold down and cost specificity
// on voices), among thresholds that keep background false positives at
// or under maxBgFPR.
func chooseThreshold(score []float64, pos, bg []bool, maxBgFPR float64) float64 {
	cand := append([]float64(nil), score...)
	sort.Float64s(cand)
	best, bestUAR := 0.5, -1.0
	var np, nn, nb float64
	for i := range pos {
		switch {
		case bg[i]:
			nb++
		case pos[i]:
			np++
		default:
			nn++
		}
	}
	for ci := 0; ci < len(cand); ci++ {
		t := cand[ci]
		if ci > 0 && t == cand[ci-1] {
			continue
		}
		var tp, tn, fb float64
		for i, s := range score {
			hit := s >= t
			switch {
			case bg[i]:
				if hit {
					fb++
				}
			case pos[i] && hit:
				tp++
			case !pos[i] && !hit:
				tn++
			}
		}
		if nb > 0 && maxBgFPR > 0 && fb/nb > maxBgFPR {
			continue
		}
		uar := 0.0
		if np > 0 {
			uar += tp / np / 2
		}
		if nn > 0 {
			uar += tn / nn / 2
		}
		if uar > bestUAR {
			best, bestUAR = t, uar
		}
	}
	return best
}

// streamThreshold is the live stream's alarm level: at least the clip
// threshold, and high enough that at most fpr of the non-distress windows
// of held-out speakers and sounds reach it. A stream sees every half
// second of every hour, so it must be far stricter than a single clip.
func streamThreshold(score []float64, pos []bool, clip, fpr float64) float64 {
	var neg []float64
	for i, s := range score {
		if !pos[i] {
			neg = append(neg, s)
		}
	}
	if len(neg) == 0 || fpr <= 0 {
		return clip
	}
	sort.Float64s(neg)
	k := int(math.Ceil(float64(len(neg)) * (1 - fpr)))
	if k >= len(neg) {
		return math.Max(clip, math.Nextafter(neg[len(neg)-1], 1))
	}
	return math.Max(clip, neg[k])
}
