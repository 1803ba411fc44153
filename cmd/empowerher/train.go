package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/empowerher/empowerher/internal/evidence"
	"github.com/empowerher/empowerher/internal/training"
)

func init() {
	commands["train"] = command{summary: "train the distress model from the corpora", run: runTrain}
}

func runTrain(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("train", flag.ContinueOnError)
	fs.SetOutput(stderr)
	data := fs.String("data", "", "corpus `DIR` (or s3://bucket/prefix) laid out as ../shared/datasets (required)")
	out := fs.String("out", "", "write the model to `FILE` (required)")
	seed := fs.Uint64("seed", 1, "random seed; the same seed and data give the same model, byte for byte")
	quiet := fs.Bool("quiet", false, "no progress bar")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: empowerher train --data DIR --out FILE [--seed N]\n\nTrains the distress model with the documented recipe (docs/model-card.md).")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return exitError{2}
	}
	if *data == "" || *out == "" {
		fs.Usage()
		return exitError{2}
	}
	root, err := evidence.OpenDataset(ctx, *data)
	if err != nil {
		return err
	}
	cfg := training.Default()
	cfg.Seed = *seed
	bar := newProgressBar(stderr)
	if !*quiet {
		cfg.Progress = bar.update
	}
	start := time.Now()
	prep, err := training.Prepare(root, cfg)
	if err != nil {
		return err
	}
	m, err := training.Train(prep, nil, cfg)
	bar.done()
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := m.Encode(&buf); err != nil {
		return err
	}
	if err := os.WriteFile(*out, buf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("write model: %w", err)
	}
	fmt.Fprintf(stdout, "model %s: %d rows, %d features, threshold %.3f, %d bytes, %s → %s\n",
		m.Version, prep.Set.Len(), prep.Set.D, m.Threshold, buf.Len(), time.Since(start).Round(time.Second), *out)
	return nil
}
