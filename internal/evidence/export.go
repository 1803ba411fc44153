package evidence

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// Training-set layout (docs/retraining.md), relative to the export root:
//
//	feedback/real/<id>.wav         clips the user marked "real" (distress)
//	feedback/false_alarm/<id>.wav  clips the user marked "false alarm" (normal)
//	labels.csv                     one row per clip, written last
const (
	LabelsFile  = "labels.csv"
	FeedbackDir = "feedback"
)

// LabelsHeader is the first row of labels.csv.
var LabelsHeader = []string{"path", "label", "distress", "score", "group", "created_at"}

// Option configures how Export and OpenDataset reach s3:// URIs.
type Option func(*options)

type options struct {
	s3 S3Endpoint
}

// WithS3Endpoint sets the endpoint, region and addressing for s3:// URIs
// (credentials still come from the AWS default chain).
func WithS3Endpoint(ep S3Endpoint) Option { return func(o *options) { o.s3 = ep } }

// ExportSummary counts what Export wrote and what it left out.
type ExportSummary struct {
	Real, FalseAlarm int
	Unlabelled       int // not exported: the user never said
}

// Export writes every labelled clip in src as a plaintext training set at
// dst, a local directory or s3://bucket/prefix. File names are opaque
// hashes of the evidence key and the "group" column is a keyed hash of the
// user id with a salt that exists only during this export: a trainer can
// keep one speaker out of both train and test splits, but the set itself
// names no user or incident. labels.csv is written last, so a set without
// it is an interrupted export and must not be trained on.
func Export(ctx context.Context, src Store, dst string, opts ...Option) (ExportSummary, error) {
	var o options
	for _, f := range opts {
		f(&o)
	}
	w, err := newDatasetWriter(ctx, dst, o)
	if err != nil {
		return ExportSummary{}, err
	}
	salt := make([]byte, 32)
	if _, err := rand.Read(salt); err != nil {
		return ExportSummary{}, fmt.Errorf("evidence: export: %w", err)
	}
	keys, err := src.List(ctx, "")
	if err != nil {
		return ExportSummary{}, err
	}
	var sum ExportSummary
	var rows bytes.Buffer
	cw := csv.NewWriter(&rows)
	if err := cw.Write(LabelsHeader); err != nil {
		return sum, fmt.Errorf("evidence: export: %w", err)
	}
	for _, key := range keys {
		wav, meta, err := src.Get(ctx, key)
		if errors.Is(err, ErrNotFound) {
			continue // swept or deleted since List
		}
		if err != nil {
			// A clip that fails authentication is a security event, not
			// something to skip quietly.
			return sum, fmt.Errorf("evidence: export %s: %w", key, err)
		}
		distress := "0"
		switch meta.Label {
		case Real:
			sum.Real++
			distress = "1"
		case FalseAlarm:
			sum.FalseAlarm++
		default:
			sum.Unlabelled++
			continue
		}
		rel := path.Join(FeedbackDir, string(meta.Label), ClipID(key)+".wav")
		if err := w.write(ctx, rel, wav); err != nil {
			return sum, fmt.Errorf("evidence: export %s: %w", rel, err)
		}
		mac := hmac.New(sha256.New, salt)
		mac.Write([]byte(strconv.FormatInt(meta.UserID, 10)))
		err = cw.Write([]string{
			rel, string(meta.Label), distress,
			strconv.FormatFloat(meta.Score, 'f', 4, 64),
			hex.EncodeToString(mac.Sum(nil)[:8]),
			meta.CreatedAt.UTC().Format(time.RFC3339),
		})
		if err != nil {
			return sum, fmt.Errorf("evidence: export: %w", err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return sum, fmt.Errorf("evidence: export: %w", err)
	}
	if err := w.write(ctx, LabelsFile, rows.Bytes()); err != nil {
		return sum, fmt.Errorf("evidence: export %s: %w", LabelsFile, err)
	}
	return sum, nil
}

// ClipID is the file name (without .wav) Export gives the clip stored
// under key: stable across exports, revealing nothing about the key.
func ClipID(key string) string {
	h := sha256.Sum256([]byte(key))
	return hex.EncodeToString(h[:16])
}

type datasetWriter interface {
	write(ctx context.Context, rel string, data []byte) error
}

func newDatasetWriter(ctx context.Context, dst string, o options) (datasetWriter, error) {
	if dst == "" {
		return nil, errors.New("evidence: export destination not set")
	}
	if strings.HasPrefix(dst, "s3://") {
		bucket, prefix, err := ParseS3URI(dst)
		if err != nil {
			return nil, err
		}
		client, err := newS3Client(ctx, o.s3)
		if err != nil {
			return nil, err
		}
		return &s3Writer{client: client, bucket: bucket, prefix: prefix}, nil
	}
	if strings.Contains(dst, "://") {
		return nil, fmt.Errorf("evidence: export destination %q: only a directory or s3://bucket/prefix", dst)
	}
	if err := os.MkdirAll(dst, 0o700); err != nil {
		return nil, fmt.Errorf("evidence: export: %w", err)
	}
	return &dirWriter{dir: dst}, nil
}

// ParseS3URI splits s3://bucket/prefix; the prefix has no surrounding '/'.
func ParseS3URI(uri string) (bucket, prefix string, err error) {
	rest, ok := strings.CutPrefix(uri, "s3://")
	if !ok {
		return "", "", fmt.Errorf("evidence: %q is not an s3:// URI", uri)
	}
	bucket, prefix, _ = strings.Cut(rest, "/")
	prefix = strings.Trim(prefix, "/")
	if bucket == "" {
		return "", "", fmt.Errorf("evidence: %q has no bucket", uri)
	}
	if prefix != "" && ValidateKey(prefix) != nil {
		return "", "", fmt.Errorf("evidence: %q: prefix may only contain A-Z a-z 0-9 . _ - and /", uri)
	}
	return bucket, prefix, nil
}

// dirWriter writes 0600 files in 0700 directories: a training set is still
// the voices of people in distress.
type dirWriter struct{ dir string }

func (w *dirWriter) write(_ context.Context, rel string, data []byte) error {
	p := filepath.Join(w.dir, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return err
	}
	tmp := p + ".partial"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, p)
}

type s3Writer struct {
	client *s3.Client
	bucket string
	prefix string
}

func (w *s3Writer) write(ctx context.Context, rel string, data []byte) error {
	key := rel
	if w.prefix != "" {
		key = w.prefix + "/" + rel
	}
	ct := "audio/wav"
	if rel == LabelsFile {
		ct = "text/csv"
	}
	_, err := w.client.PutObject(ctx, &s3.PutObjectInput{
		Bucket:        aws.String(w.bucket),
		Key:           aws.String(key),
		Body:          bytesReader(data),
		ContentLength: aws.Int64(int64(len(data))),
		ContentType:   aws.String(ct),
	})
	return err
}
