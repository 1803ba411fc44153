package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"

	"github.com/empowerher/empowerher/internal/audio"
	"github.com/empowerher/empowerher/internal/detect"
)

func init() {
	commands["listen"] = command{summary: "run the streaming detector over a long recording", run: runListen}
}

func runListen(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("listen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	asJSON := fs.Bool("json", false, "print alarms as JSON objects, one per line")
	modelPath := fs.String("model", "", "use the model in `FILE` instead of the embedded one")
	maxDur := fs.Duration("max-duration", audio.DefaultMaxDuration*36, "reject recordings longer than this")
	window := fs.Duration("window", detect.DefaultWindow, "analysis window")
	hop := fs.Duration("hop", detect.DefaultHop, "time between windows")
	smooth := fs.Int("smooth", detect.DefaultSmooth, "windows averaged before deciding")
	cooldown := fs.Duration("cooldown", detect.DefaultCooldown, "quiet time after an alarm before another can be raised")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: empowerher listen [--json] [--model FILE] FILE\n\nFeeds FILE, in 100 ms chunks as a microphone would, to the same streaming detector the server runs for live listening, and prints one line per alarm.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return exitError{2}
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return exitError{2}
	}
	det, err := loadDetector(*modelPath)
	if err != nil {
		return err
	}
	clip, err := audio.DecodeFile(fs.Arg(0), audio.Options{MaxDuration: *maxDur})
	if err != nil {
		return err
	}
	s := det.NewStream(detect.StreamConfig{Window: *window, Hop: *hop, Smooth: *smooth, Cooldown: *cooldown})
	enc := json.NewEncoder(stdout)
	alarms := 0
	const chunk = audio.SampleRate / 10
	x := clip.Samples
	for off := 0; off < len(x); off += chunk {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		s.Write(x[off:min(off+chunk, len(x))], func(u detect.Update) {
			if u.Alarm == nil {
				return
			}
			alarms++
			if *asJSON {
				enc.Encode(struct {
					*detect.Alarm
					ModelVersion string `json:"model_version"`
				}{u.Alarm, det.ModelVersion()})
				return
			}
			fmt.Fprintf(stdout, "alarm %.2fs–%.2fs score=%.3f label=%s\n", u.Alarm.StartS, u.Alarm.EndS, u.Alarm.Score, u.Alarm.Label)
		})
	}
	if !*asJSON {
		fmt.Fprintf(stderr, "%d alarm(s) in %.1fs of audio (model %s)\n", alarms, clip.Duration().Seconds(), det.ModelVersion())
	}
	return nil
}
