package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/empowerher/empowerher/internal/eval"
	"github.com/empowerher/empowerher/internal/evidence"
	"github.com/empowerher/empowerher/internal/model"
	"github.com/empowerher/empowerher/internal/training"
)

func init() {
	commands["eval"] = command{summary: "cross-validate the recipe and write the model card", run: runEval}
}

func runEval(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("eval", flag.ContinueOnError)
	fs.SetOutput(stderr)
	data := fs.String("data", "", "corpus `DIR` laid out as ../shared/datasets (required)")
	asJSON := fs.Bool("json", false, "print the report as one JSON object")
	card := fs.String("card", "docs/model-card.md", "write the model card to `FILE` (empty: don't)")
	folds := fs.String("folds", "", "comma-separated fold numbers 1–6 to run (default all; the card is only written for all six)")
	compare := fs.Bool("compare", true, "also evaluate alternative classifiers for the model card")
	quiet := fs.Bool("quiet", false, "no progress bar")
	seed := fs.Uint64("seed", 1, "random seed")
	fromReport := fs.String("report", "", "write the card from a report saved by `eval --json` (`FILE`) instead of evaluating again")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: empowerher eval --data DIR [--json] [--card FILE]\n\nRAVDESS 6-fold actor-independent cross-validation of the training recipe, with scream/cry recall, false positives and live-stream alarms on held-out data, and the prototype's recipe on the same folds.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return exitError{2}
	}
	if *data == "" {
		fs.Usage()
		return exitError{2}
	}
	if *fromReport != "" {
		return writeCardFromReport(*fromReport, *card, *data, stdout)
	}
	root, err := evidence.OpenDataset(ctx, *data)
	if err != nil {
		return err
	}
	cfg := eval.Config{Training: training.Default(), Compare: *compare}
	cfg.Training.Seed = *seed
	if *folds != "" {
		for _, f := range strings.Split(*folds, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil || n < 1 || n > 6 {
				return fmt.Errorf("--folds: %q is not a fold number 1–6", f)
			}
			cfg.Folds = append(cfg.Folds, n-1)
		}
	}
	bar := newProgressBar(stderr)
	if !*quiet {
		cfg.Progress = bar.update
	}
	rep, err := eval.Run(root, cfg)
	bar.done()
	if err != nil {
		return err
	}
	if *card != "" && len(rep.Folds) == 6 {
		if err := writeCard(rep, *card, *data); err != nil {
			return err
		}
	}
	if *asJSON {
		return json.NewEncoder(stdout).Encode(rep)
	}
	fmt.Fprintf(stdout, "alert UAR %.3f (prototype recipe %.3f)  accuracy %.3f  AUC %.3f\n", rep.AlertUAR, rep.BaselineAlertUAR, rep.AlertAcc, rep.AUC)
	fmt.Fprintf(stdout, "prototype-task UAR %.3f (prototype recipe %.3f)\n", rep.PrototypeUAR, rep.BaselinePrototypeUAR)
	fmt.Fprintf(stdout, "emotion UAR %.3f (prototype recipe %.3f)\n", rep.EmotionUAR, rep.BaselineEmotionUAR)
	fmt.Fprintf(stdout, "scream recall %.3f (at ≤5%% FP: %.3f), cry recall %.3f, noise FPR %.3f\n", rep.ScreamRecall, rep.ScreamRecallAt5FP, rep.CryRecall, rep.NoiseFPR)
	fmt.Fprintf(stdout, "listen: %d alarms in %.2f h of everyday sound and calm speech = %.2f/h\n", rep.ListenAlarms, rep.ListenHours, rep.AlarmsPerHour)
	for _, f := range rep.Folds {
		fmt.Fprintf(stdout, "  fold %d: alert UAR %.3f, prototype UAR %.3f, emotion UAR %.3f, baseline alert UAR %.3f\n", f.Index+1, f.AlertUAR, f.PrototypeUAR, f.EmotionUAR, f.BaselineUAR)
	}
	for _, a := range rep.Comparison {
		fmt.Fprintf(stdout, "  %-60s alert %.3f proto %.3f emotion %.3f\n", a.Name, a.AlertUAR, a.PrototypeUAR, a.EmotionUAR)
	}
	fmt.Fprintf(stdout, "took %.0fs\n", rep.Seconds)
	return nil
}

// writeCard writes the model card for rep, naming the embedded model.
func writeCard(rep *eval.Report, path, data string) error {
	shipped := "none"
	if m, err := model.Embedded(); err == nil {
		shipped = m.Version
	}
	var buf bytes.Buffer
	info := eval.CardInfo{ShippedVersion: shipped, Command: "empowerher eval --data " + data, GoVersion: runtime.Version(), Date: time.Now()}
	if err := eval.WriteCard(&buf, rep, info); err != nil {
		return err
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("write model card: %w", err)
	}
	return nil
}

// writeCardFromReport regenerates the card from a saved `eval --json`
// report, e.g. after the embedded model was retrained in parallel.
func writeCardFromReport(report, path, data string, stdout io.Writer) error {
	b, err := os.ReadFile(report)
	if err != nil {
		return err
	}
	var rep eval.Report
	if err := json.Unmarshal(b, &rep); err != nil {
		return fmt.Errorf("%s: %w", report, err)
	}
	if len(rep.Folds) != 6 {
		return fmt.Errorf("%s has %d folds; the card needs all six", report, len(rep.Folds))
	}
	if err := writeCard(&rep, path, data); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s from %s\n", path, report)
	return nil
}
