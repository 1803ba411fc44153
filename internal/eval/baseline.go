package eval

import (
	"fmt"
	"slices"

	"github.com/empowerher/empowerher/internal/corpus"
	"github.com/empowerher/empowerher/internal/dataset"
	"github.com/empowerher/empowerher/internal/model"
)

// The student prototype's recipe, rebuilt faithfully: 40 MFCCs averaged
// over the whole clip, an MLP with one hidden layer of 300 units (as in
// the tutorial it followed), no augmentation, no class balancing, trained
// on RAVDESS only. It is trained twice per fold: on the seven emotions
// (for the alert and emotion tasks) and on its own four labels.
type baseline struct {
	set   *dataset.Set
	clips []dataset.Clip
}

func baselineSet(clips []dataset.Clip) *baseline {
	var rav []dataset.Clip
	for _, c := range clips {
		if c.Corpus == corpus.RAVDESS {
			rav = append(rav, c)
		}
	}
	return &baseline{set: dataset.Build(rav, dataset.BuildConfig{Baseline: true}, nil), clips: rav}
}

type baselineModels struct{ emotions, proto *model.Model }

func baselineConfig(classes []string) model.TrainConfig {
	fit := model.DefaultFit()
	fit.Hidden = []int{300}
	fit.Epochs = 150
	fit.Dropout = 0
	fit.InputNoise = 0
	fit.LabelSmooth = 0
	fit.WeightDecay = 1e-4
	names := make([]string, 40)
	for i := range names {
		names[i] = fmt.Sprintf("mfcc%d_mean", i+1)
	}
	return model.TrainConfig{
		Classes: classes, Features: names, Distress: []string{corpus.Angry, corpus.Fearful},
		Fit: fit, Ensemble: 1, CalibrationGroup: -1, WeightPower: 0,
	}
}

func trainBaseline(b *baseline, k int) (*baselineModels, error) {
	build := func(classes []string) (*model.Model, error) {
		data := &model.Data{D: b.set.D}
		for i, r := range b.set.Rows {
			c := corpus.Classes[r.Class]
			ci := slices.Index(classes, c)
			if r.Group == k || ci < 0 {
				continue
			}
			data.X = append(data.X, b.set.Row(i)...)
			data.Y = append(data.Y, ci)
			data.Group = append(data.Group, r.Group)
			data.Clean = append(data.Clean, true)
		}
		m, err := model.Train(data, baselineConfig(classes))
		if err != nil {
			return nil, fmt.Errorf("eval: baseline fold %d: %w", k, err)
		}
		return m, nil
	}
	em, err := build(corpus.Emotions)
	if err != nil {
		return nil, err
	}
	pm, err := build(corpus.PrototypeTask)
	if err != nil {
		return nil, err
	}
	return &baselineModels{emotions: em, proto: pm}, nil
}

// scoreBaseline evaluates the prototype recipe on fold k's held-out
// actors. Its alert decision is the prototype's: the predicted emotion is
// angry or fearful; its score for the ROC is P(angry)+P(fearful).
func (a *accumulator) scoreBaseline(bm *baselineModels, b *baseline, k int) {
	ep := bm.emotions.NewPredictor()
	pp := bm.proto.NewPredictor()
	eprobs := make([]float64, len(corpus.Emotions))
	pprobs := make([]float64, len(corpus.PrototypeTask))
	for i, r := range b.set.Rows {
		if r.Group != k {
			continue
		}
		truth := corpus.Classes[r.Class]
		x := b.set.Row(i)
		ep.Predict(x, eprobs)
		pred := corpus.Emotions[argmaxAmong(eprobs, corpus.Emotions, corpus.Emotions)]
		t, p := 0, 0
		if isAlert(truth) {
			t = 1
		}
		if isAlert(pred) {
			p = 1
		}
		a.alert.add(t, p)
		a.scores = append(a.scores, bm.emotions.RawDistress(eprobs))
		a.pos = append(a.pos, t == 1)
		a.emotion.add(slices.Index(corpus.Emotions, truth), slices.Index(corpus.Emotions, pred))
		if ti := slices.Index(corpus.PrototypeTask, truth); ti >= 0 {
			pp.Predict(x, pprobs)
			a.proto.add(ti, argmaxAmong(pprobs, corpus.PrototypeTask, corpus.PrototypeTask))
		}
	}
}
