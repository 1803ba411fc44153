// Package eval measures the detector honestly: RAVDESS 6-fold
// cross-validation with whole actors held out, scream and cry recall with
// whole nonverbal speakers held out, false positives and live-stream
// alarms on everyday sound the fold never trained on, and the student
// prototype's recipe on the same folds for comparison.
package eval

import (
	"fmt"
	"io/fs"
	"time"

	"github.com/empowerher/empowerher/internal/corpus"
	"github.com/empowerher/empowerher/internal/dataset"
	"github.com/empowerher/empowerher/internal/detect"
	"github.com/empowerher/empowerher/internal/model"
	"github.com/empowerher/empowerher/internal/training"
)

// Config shapes a run.
type Config struct {
	Training training.Config
	// Folds to run (indices into corpus.Folds); nil runs all six.
	Folds []int
	// Compare also evaluates alternative classifiers for the model card.
	Compare  bool
	Progress func(stage string, frac float64)
}

// Fold is one fold's figures.
type Fold struct {
	Index        int     `json:"fold"`
	Actors       []int   `json:"held_out_actors"`
	AlertUAR     float64 `json:"alert_uar"`
	AlertAcc     float64 `json:"alert_accuracy"`
	PrototypeUAR float64 `json:"prototype_uar"`
	EmotionUAR   float64 `json:"emotion_uar"`
	AUC          float64 `json:"auc"`
	BaselineUAR  float64 `json:"baseline_alert_uar"`
	Threshold    float64 `json:"threshold"`
}

// Alternative is one classifier of the comparison.
type Alternative struct {
	Name         string  `json:"name"`
	AlertUAR     float64 `json:"alert_uar"`
	PrototypeUAR float64 `json:"prototype_uar"`
	EmotionUAR   float64 `json:"emotion_uar"`
	AUC          float64 `json:"auc"`
}

// Report is the whole evaluation; its JSON is what `eval --json` prints.
type Report struct {
	AlertUAR     float64 `json:"alert_uar"`
	AlertAcc     float64 `json:"alert_accuracy"`
	PrototypeUAR float64 `json:"prototype_uar"`
	EmotionUAR   float64 `json:"emotion_uar"`
	AUC          float64 `json:"auc"`

	BaselineAlertUAR     float64 `json:"baseline_alert_uar"`
	BaselinePrototypeUAR float64 `json:"baseline_prototype_uar"`
	BaselineEmotionUAR   float64 `json:"baseline_emotion_uar"`

	ScreamRecall      float64 `json:"scream_recall"`
	CryRecall         float64 `json:"cry_recall"`
	ScreamRecallAt5FP float64 `json:"scream_recall_at_5pct_fp"`
	NoiseFPR          float64 `json:"noise_fpr"`
	NoiseClips        int     `json:"noise_clips"`
	Screams           int     `json:"screams"`
	Cries             int     `json:"cries"`

	ListenHours   float64 `json:"listen_hours"`
	ListenAlarms  int     `json:"listen_alarms"`
	AlarmsPerHour float64 `json:"alarms_per_hour"`

	Confusion       [][]int  `json:"confusion"`
	ConfusionLabels []string `json:"confusion_labels"`

	Folds       []Fold        `json:"folds"`
	Comparison  []Alternative `json:"comparison,omitempty"`
	Recipe      string        `json:"recipe"`
	Seconds     float64       `json:"seconds"`
	PrepSeconds float64       `json:"prepare_seconds"`
}

// Run evaluates the training recipe on the corpora under root.
func Run(root fs.FS, cfg Config) (*Report, error) {
	start := time.Now()
	tc := cfg.Training
	tc.Progress = cfg.Progress
	prep, err := training.Prepare(root, tc)
	if err != nil {
		return nil, err
	}
	base := baselineSet(prep.Clips)
	folds := cfg.Folds
	if folds == nil {
		folds = []int{0, 1, 2, 3, 4, 5}
	}

	rep := &Report{PrepSeconds: prep.Took.Seconds(), Recipe: describe(tc)}
	acc := newAccumulator()
	baseAcc := newAccumulator()
	alts := map[string]*accumulator{}
	var altNames []string
	for n, k := range folds {
		stage := fmt.Sprintf("fold %d/%d", n+1, len(folds))
		tc.Progress = func(s string, f float64) {
			if cfg.Progress != nil {
				cfg.Progress(stage+" "+s, f)
			}
		}
		keep := trainRows(prep, k)
		m, err := training.Train(prep, keep, tc)
		if err != nil {
			return nil, fmt.Errorf("eval: fold %d: %w", k, err)
		}
		det, err := detect.New(m)
		if err != nil {
			return nil, err
		}
		fa := newAccumulator()
		fa.scoreFold(det, prep.Clips, k)
		bm, err := trainBaseline(base, k)
		if err != nil {
			return nil, err
		}
		ba := newAccumulator()
		ba.scoreBaseline(bm, base, k)
		rep.Folds = append(rep.Folds, Fold{
			Index: k, Actors: corpus.Folds[k][:],
			AlertUAR: fa.alert.uar(), AlertAcc: fa.alert.accuracy(),
			PrototypeUAR: fa.proto.uar(), EmotionUAR: fa.emotion.uar(), AUC: auc(fa.scores, fa.pos),
			BaselineUAR: ba.alert.uar(), Threshold: m.Threshold,
		})
		acc.merge(fa)
		baseAcc.merge(ba)

		if cfg.Compare {
			for _, alt := range alternatives(prep, k, m, tc) {
				if alts[alt.name] == nil {
					alts[alt.name] = newAccumulator()
					altNames = append(altNames, alt.name)
				}
				d, err := detect.New(alt.m)
				if err != nil {
					return nil, err
				}
				a := newAccumulator()
				a.scoreRAVDESS(d, prep.Clips, k)
				alts[alt.name].merge(a)
			}
		}
	}
	rep.AlertUAR, rep.AlertAcc = acc.alert.uar(), acc.alert.accuracy()
	rep.PrototypeUAR, rep.EmotionUAR = acc.proto.uar(), acc.emotion.uar()
	rep.AUC = auc(acc.scores, acc.pos)
	rep.Confusion, rep.ConfusionLabels = acc.emotion.M, acc.emotion.Labels
	rep.BaselineAlertUAR, rep.BaselinePrototypeUAR, rep.BaselineEmotionUAR = baseAcc.alert.uar(), baseAcc.proto.uar(), baseAcc.emotion.uar()

	rep.Screams, rep.Cries, rep.NoiseClips = len(acc.screamScores), len(acc.cryScores), len(acc.noiseScores)
	rep.ScreamRecall = frac(acc.screamHits, len(acc.screamScores))
	rep.CryRecall = frac(acc.cryHits, len(acc.cryScores))
	rep.NoiseFPR = frac(acc.noiseHits, len(acc.noiseScores))
	rep.ScreamRecallAt5FP, _ = recallAtFPR(acc.screamScores, acc.noiseScores, 0.05)
	rep.ListenHours, rep.ListenAlarms = acc.listenSeconds/3600, acc.listenAlarms
	if rep.ListenHours > 0 {
		rep.AlarmsPerHour = float64(rep.ListenAlarms) / rep.ListenHours
	}
	if cfg.Compare {
		rep.Comparison = append(rep.Comparison, Alternative{Name: "MLP ensemble (shipped recipe)", AlertUAR: rep.AlertUAR, PrototypeUAR: rep.PrototypeUAR, EmotionUAR: rep.EmotionUAR, AUC: rep.AUC})
		for _, n := range altNames {
			a := alts[n]
			rep.Comparison = append(rep.Comparison, Alternative{Name: n, AlertUAR: a.alert.uar(), PrototypeUAR: a.proto.uar(), EmotionUAR: a.emotion.uar(), AUC: auc(a.scores, a.pos)})
		}
		rep.Comparison = append(rep.Comparison, Alternative{Name: "prototype recipe: 40 mean MFCCs + MLP", AlertUAR: rep.BaselineAlertUAR, PrototypeUAR: rep.BaselinePrototypeUAR, EmotionUAR: rep.BaselineEmotionUAR})
	}
	rep.Seconds = time.Since(start).Seconds()
	return rep, nil
}

// trainRows keeps, for fold k, everything except the held-out RAVDESS
// actors and the held-out nonverbal speakers and noise recordings. TESS
// (two speakers, never a test set) trains in every fold, but only its
// clean rows in the group whose noise is held out, since its augmented
// rows there were mixed with that noise.
func trainRows(p *training.Prepared, k int) func(dataset.Example) bool {
	return func(r dataset.Example) bool {
		if r.Group != k {
			return true
		}
		return p.Clips[r.Clip].Corpus == corpus.TESS && r.Variant == 0
	}
}

func frac(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

func describe(c training.Config) string {
	return fmt.Sprintf("MLP ensemble of %d (hidden %v, %d epochs, dropout %.2f), %d augmented copies per recording (noise %g–%g dB SNR, gain ±%g dB, phone band p=%.2f, speed ±%.0f%%), seed %d",
		c.Ensemble, c.Fit.Hidden, c.Fit.Epochs, c.Fit.Dropout, c.Variants, c.Aug.MinSNR, c.Aug.MaxSNR, c.Aug.GainDB, c.Aug.PhoneProb, c.Aug.SpeedRange*100, c.Seed)
}

type alternative struct {
	name string
	m    *model.Model
}

// alternatives are the classifiers the model card compares with the
// shipped recipe, trained on the same rows of fold k.
func alternatives(p *training.Prepared, k int, shipped *model.Model, tc training.Config) []alternative {
	var out []alternative
	// One network of the ensemble: the networks are trained
	// independently, so this is exactly a single-MLP model.
	single := *shipped
	single.Nets = shipped.Nets[:1]
	out = append(out, alternative{"single MLP (one network of the ensemble)", &single})

	lin := tc
	lin.Fit.Hidden = nil
	lin.Ensemble = 1
	if m, err := training.Train(p, trainRows(p, k), lin); err == nil {
		out = append(out, alternative{"linear softmax (logistic regression) on the same features", m})
	}
	noAug := tc
	noAug.Ensemble = 1
	keep := trainRows(p, k)
	if m, err := training.Train(p, func(r dataset.Example) bool { return r.Variant == 0 && keep(r) }, noAug); err == nil {
		out = append(out, alternative{"single MLP without augmentation", m})
	}
	return out
}
