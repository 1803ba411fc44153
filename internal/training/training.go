// Package training is the recipe shared by `empowerher train` and
// `empowerher eval`: which corpora, which augmentation, which classifier
// and how it is fitted. Keeping it in one place means the evaluated model
// and the shipped model are made the same way.
package training

import (
	"fmt"
	"io/fs"
	"time"

	"github.com/empowerher/empowerher/internal/corpus"
	"github.com/empowerher/empowerher/internal/dataset"
	"github.com/empowerher/empowerher/internal/features"
	"github.com/empowerher/empowerher/internal/model"
)

// Operating points of the recipe, stated in the model card.
const (
	// MaxBackgroundFPR caps background windows of the calibration group
	// over the clip threshold.
	MaxBackgroundFPR = 0.02
	// StreamFPR is the share of non-distress calibration windows allowed
	// over the live-stream threshold.
	StreamFPR = 0.005
)

// Config is the whole recipe.
type Config struct {
	Seed     uint64
	Variants int // augmented copies per recording
	Aug      dataset.Augmentation
	Fit      model.FitConfig
	Ensemble int
	// Progress receives a stage name and its fraction done; nil for none.
	Progress func(stage string, frac float64)
}

// Default is the documented recipe that produced the embedded model.
func Default() Config {
	fit := model.DefaultFit()
	return Config{Seed: 1, Variants: 2, Aug: dataset.DefaultAugmentation, Fit: fit, Ensemble: 2}
}

// Prepared is a corpus decoded and featurized once, to train many models.
type Prepared struct {
	Clips []dataset.Clip
	Set   *dataset.Set
	Took  time.Duration
}

// Prepare lists, decodes and featurizes the corpora under root.
func Prepare(root fs.FS, cfg Config) (*Prepared, error) {
	start := time.Now()
	items, err := corpus.List(root)
	if err != nil {
		return nil, err
	}
	clips, err := dataset.Load(root, items, func(done, total int) {
		report(cfg, "decode", float64(done)/float64(total))
	})
	if err != nil {
		return nil, err
	}
	set := dataset.Build(clips, dataset.BuildConfig{Variants: cfg.Variants, Aug: cfg.Aug, Seed: cfg.Seed}, func(done, total int) {
		report(cfg, "features", float64(done)/float64(total))
	})
	return &Prepared{Clips: clips, Set: set, Took: time.Since(start)}, nil
}

func report(cfg Config, stage string, frac float64) {
	if cfg.Progress != nil {
		cfg.Progress(stage, frac)
	}
}

// Train fits a model on the rows of p.Set for which keep returns true
// (nil keeps all).
func Train(p *Prepared, keep func(r dataset.Example) bool, cfg Config) (*model.Model, error) {
	s := p.Set
	data := &model.Data{D: s.D}
	for i, r := range s.Rows {
		if keep != nil && !keep(r) {
			continue
		}
		data.X = append(data.X, s.Row(i)...)
		data.Y = append(data.Y, r.Class)
		data.Group = append(data.Group, r.Group)
		data.Clean = append(data.Clean, r.Variant == 0)
		data.Calib = append(data.Calib, p.Clips[r.Clip].Corpus != corpus.TESS)
	}
	if data.Len() == 0 {
		return nil, fmt.Errorf("training: no rows to train on")
	}
	tc := model.TrainConfig{
		Classes:          corpus.Classes,
		Features:         features.FunctionalNames(),
		Distress:         corpus.DistressClasses,
		Fit:              cfg.Fit,
		Ensemble:         cfg.Ensemble,
		CalibrationGroup: -1,
		WeightPower:      0.75,
		MaxBackgroundFPR: MaxBackgroundFPR,
		StreamFPR:        StreamFPR,
		Background:       corpus.Background,
		Progress:         cfg.Progress,
	}
	tc.Fit.Seed = cfg.Seed
	m, err := model.Train(data, tc)
	if err != nil {
		return nil, err
	}
	m.Meta["seed"] = fmt.Sprint(cfg.Seed)
	m.Meta["rows"] = fmt.Sprint(data.Len())
	m.Meta["variants"] = fmt.Sprint(cfg.Variants)
	m.Meta["ensemble"] = fmt.Sprint(cfg.Ensemble)
	m.Meta["hidden"] = fmt.Sprint(cfg.Fit.Hidden)
	m.Meta["epochs"] = fmt.Sprint(cfg.Fit.Epochs)
	return m, nil
}
