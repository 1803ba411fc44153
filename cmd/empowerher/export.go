package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/empowerher/empowerher/internal/evidence"
)

func init() {
	commands["export"] = command{
		summary: "write user-labelled evidence clips as a training set (DIR or s3://bucket/prefix)",
		run:     runExport,
	}
}

func runExport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("export", flag.ContinueOnError)
	fs.SetOutput(stderr)
	data := fs.String("data", "./empowerher-data", "data `DIR` (evidence defaults to DIR/evidence)")
	fs.String("config", "", "read settings from `FILE` (KEY=VALUE lines or a JSON object)")
	var cfg evidence.Config
	addEvidenceFlags(fs, &cfg)
	out := fs.String("out", "", "destination: a `DIR` or s3://bucket/prefix (required)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: empowerher export --out DIR|s3://bucket/prefix [flags]")
		fmt.Fprintln(stderr, "\nWrites feedback/real/*.wav, feedback/false_alarm/*.wav and labels.csv (docs/retraining.md).")
		fmt.Fprintln(stderr, "The evidence key comes from --evidence-key-file or EMPOWERHER_EVIDENCE_KEY; AWS credentials")
		fmt.Fprintln(stderr, "from the default chain. Every flag can also be set as EMPOWERHER_<FLAG> (--s3-bucket: EMPOWERHER_S3_BUCKET).")
		fmt.Fprintln(stderr)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return exitError{2}
	}
	if err := applySettings(fs, "config"); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "empowerher export: unexpected argument %q\n", fs.Arg(0))
		return exitError{2}
	}
	if *out == "" {
		fmt.Fprintln(stderr, "empowerher export: --out is required")
		return exitError{2}
	}
	if cfg.Dir == "" {
		cfg.Dir = filepath.Join(*data, "evidence")
	}
	if cfg.S3.Bucket == "" {
		// Opening would create an empty store; a typo'd path should say so.
		if _, err := os.Stat(cfg.Dir); err != nil {
			return fmt.Errorf("evidence directory: %w", err)
		}
	}
	src, err := evidence.Open(ctx, cfg)
	if err != nil {
		return err
	}
	ep := evidence.S3Endpoint{Endpoint: cfg.S3.Endpoint, Region: cfg.S3.Region, PathStyle: cfg.S3.PathStyle}
	sum, err := evidence.Export(ctx, src, *out, evidence.WithS3Endpoint(ep))
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "exported %d real and %d false-alarm clips to %s (%d unlabelled left out)\n",
		sum.Real, sum.FalseAlarm, *out, sum.Unlabelled)
	return nil
}

// addEvidenceFlags registers the evidence store flags; applySettings
// fills them from EMPOWERHER_<FLAG> and the config file. serve registers
// the same set so both commands configure evidence alike. Dir stays ""
// unless given, so the caller can default it under its data directory.
func addEvidenceFlags(fs *flag.FlagSet, c *evidence.Config) {
	fs.StringVar(&c.Dir, "evidence-dir", "", "local evidence `DIR` (default DATA/evidence)")
	fs.StringVar(&c.KeyFile, "evidence-key-file", "", "`FILE` with the base64 AES-256 evidence key(s), one per line, newest first (default: EMPOWERHER_EVIDENCE_KEY)")
	fs.DurationVar(&c.Retention, "evidence-retention", evidence.DefaultRetention, "delete evidence clips older than this")
	fs.StringVar(&c.S3.Bucket, "s3-bucket", "", "keep evidence in this S3 `BUCKET` instead of the local directory")
	fs.StringVar(&c.S3.Prefix, "s3-prefix", "evidence", "object name `PREFIX` in the bucket")
	fs.StringVar(&c.S3.Endpoint, "s3-endpoint", "", "S3-compatible endpoint `URL` (default: AWS)")
	fs.StringVar(&c.S3.Region, "s3-region", "", "S3 region (default: the AWS chain's)")
	fs.BoolVar(&c.S3.PathStyle, "s3-path-style", false, "path-style S3 addressing, which most S3-compatible servers need")
}
