package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/empowerher/empowerher/internal/audio"
	"github.com/empowerher/empowerher/internal/detect"
	"github.com/empowerher/empowerher/internal/model"
)

func init() {
	commands["predict"] = command{summary: "score audio files for distress", run: runPredict}
}

// loadDetector returns the detector for --model FILE, or the embedded one.
func loadDetector(path string) (*detect.Detector, error) {
	if path == "" {
		return detect.Default()
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	m, err := model.Decode(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return detect.New(m)
}

type predictLine struct {
	File         string             `json:"file"`
	Distress     bool               `json:"distress"`
	Score        float64            `json:"score"`
	Label        string             `json:"label"`
	Emotions     map[string]float64 `json:"emotions"`
	DurationS    float64            `json:"duration_s"`
	Voiced       bool               `json:"voiced"`
	ModelVersion string             `json:"model_version"`
	Error        string             `json:"error,omitempty"`
}

func runPredict(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("predict", flag.ContinueOnError)
	fs.SetOutput(stderr)
	asJSON := fs.Bool("json", false, "print one JSON object per file")
	modelPath := fs.String("model", "", "use the model in `FILE` instead of the embedded one")
	maxDur := fs.Duration("max-duration", audio.DefaultMaxDuration, "reject recordings longer than this")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: empowerher predict [--json] [--model FILE] FILE...\n\nScores each file (WAV, FLAC, Ogg/Opus, WebM/Opus, Ogg/Vorbis, MP3). A file that cannot be read gets an error line; the others are still scored, and the exit status is 1.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return exitError{2}
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return exitError{2}
	}
	det, err := loadDetector(*modelPath)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(stdout)
	failed := false
	for _, path := range fs.Args() {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		line := predictLine{File: path, ModelVersion: det.ModelVersion()}
		clip, err := audio.DecodeFile(path, audio.Options{MaxDuration: *maxDur})
		if err != nil {
			failed = true
			line.Error = err.Error()
			if *asJSON {
				enc.Encode(line)
			} else {
				fmt.Fprintf(stderr, "%s: error: %v\n", path, err)
			}
			continue
		}
		r := det.Analyze(clip.Samples)
		line.Distress, line.Score, line.Label = r.Distress, r.Score, r.Label
		line.DurationS, line.Voiced = r.DurationS, r.Voiced
		line.Emotions = make(map[string]float64, len(r.Classes))
		for _, c := range r.Classes {
			line.Emotions[c.Class] = c.P
		}
		if *asJSON {
			enc.Encode(line)
			continue
		}
		verdict := "normal"
		if r.Distress {
			verdict = "DISTRESS"
		}
		fmt.Fprintf(stdout, "%s: %s score=%.3f label=%s duration=%.2fs voiced=%v model=%s\n", path, verdict, r.Score, r.Label, r.DurationS, r.Voiced, det.ModelVersion())
		for _, c := range r.Classes {
			fmt.Fprintf(stdout, "  %-13s %.3f\n", c.Class, c.P)
		}
	}
	if failed {
		return exitError{1}
	}
	return nil
}
