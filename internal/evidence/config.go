package evidence

import (
	"context"
	"errors"
	"time"
)

// DefaultRetention keeps evidence for 30 days unless configured otherwise:
// long enough to follow up an incident, short enough not to become an
// archive of people's voices.
const DefaultRetention = 30 * 24 * time.Hour

// Config is what serve and export need to open the evidence store.
type Config struct {
	Dir     string   // local directory, used when S3.Bucket is empty
	S3      S3Config // S3 when Bucket is set
	KeyFile string   // else the key comes from EMPOWERHER_EVIDENCE_KEY
	// Retention for Sweep/RunSweeper; 0 means DefaultRetention.
	Retention time.Duration
}

// Open validates c, loads the key and opens the configured backend.
func Open(ctx context.Context, c Config) (Store, error) {
	if c.Retention < 0 {
		return nil, errors.New("evidence: retention must not be negative")
	}
	keys, err := LoadKeys(c.KeyFile)
	if err != nil {
		return nil, err
	}
	if c.S3.Bucket != "" {
		return NewS3(ctx, c.S3, keys)
	}
	if c.Dir == "" {
		return nil, errors.New("evidence: set a local directory or an S3 bucket")
	}
	return NewLocal(c.Dir, keys)
}

// RetentionOrDefault is the retention to enforce.
func (c Config) RetentionOrDefault() time.Duration {
	if c.Retention == 0 {
		return DefaultRetention
	}
	return c.Retention
}
