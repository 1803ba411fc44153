package evidence

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Label is the user's verdict on a detection.
type Label string

const (
	Unlabelled Label = ""
	FalseAlarm Label = "false_alarm"
	Real       Label = "real"
)

// Valid reports whether l is one of the three labels.
func (l Label) Valid() bool { return l == Unlabelled || l == FalseAlarm || l == Real }

// Meta travels with a clip, encrypted with it.
type Meta struct {
	UserID     int64     `json:"user_id"`
	IncidentID string    `json:"incident_id,omitempty"` // store.Incident.ID
	Score      float64   `json:"score"`                 // detector distress score in [0,1]
	Label      Label     `json:"label,omitempty"`
	CreatedAt  time.Time `json:"created_at"`
	LabelledAt time.Time `json:"labelled_at,omitzero"`
}

// Store keeps encrypted evidence clips under caller-chosen keys such as
// "u42/i7/1733328000". Keys are one or more '/'-separated segments of
// [A-Za-z0-9._-], not "." or "..", at most 256 bytes.
type Store interface {
	// Put stores a WAV clip; meta.CreatedAt defaults to now. Putting an
	// existing key replaces the clip and clears its label.
	Put(ctx context.Context, key string, wav []byte, meta Meta) error
	// Get returns the clip and its meta, with the current label.
	Get(ctx context.Context, key string) ([]byte, Meta, error)
	// SetLabel records the user's verdict without rewriting the clip.
	SetLabel(ctx context.Context, key string, label Label) error
	// Delete removes a clip and its label; a missing key is not an error.
	Delete(ctx context.Context, key string) error
	// List returns the keys starting with prefix, sorted.
	List(ctx context.Context, prefix string) ([]string, error)
	// DeleteOlderThan removes every clip stored before t.
	DeleteOlderThan(ctx context.Context, t time.Time) (n int, err error)
}

var (
	// ErrNotFound: no clip under that key.
	ErrNotFound = errors.New("evidence: not found")
	// ErrInvalidKey: the key could escape the store or is malformed.
	ErrInvalidKey = errors.New("evidence: invalid key")
	// ErrNotWAV: Put was given something that is not a RIFF/WAVE file.
	ErrNotWAV = errors.New("evidence: clip is not a WAV file")
	// ErrTooLarge: a clip or object exceeds MaxClipBytes.
	ErrTooLarge = errors.New("evidence: object too large")
	// ErrInvalidLabel: SetLabel was given an unknown label.
	ErrInvalidLabel = errors.New(`evidence: label must be "", "false_alarm" or "real"`)
)

// MaxClipBytes bounds a clip (about 6 minutes of 16 kHz mono 16-bit audio,
// far more than the window kept around a detection) so that neither Put
// nor a hostile object in the bucket can make us allocate without limit.
const MaxClipBytes = 32 << 20

const (
	maxKeyLen   = 256
	maxMetaLen  = 64 << 10
	clipSuffix  = ".clip"
	labelSuffix = ".label"
)

// ValidateKey reports whether key is acceptable to every backend. It is
// deliberately strict: keys become file paths and S3 object names.
func ValidateKey(key string) error {
	if key == "" || len(key) > maxKeyLen {
		return fmt.Errorf("%w: length must be 1..%d", ErrInvalidKey, maxKeyLen)
	}
	for seg := range strings.SplitSeq(key, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return fmt.Errorf("%w: %q has an empty, \".\" or \"..\" segment", ErrInvalidKey, key)
		}
		for _, c := range []byte(seg) {
			ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-'
			if !ok {
				return fmt.Errorf("%w: %q may only contain A-Z a-z 0-9 . _ - and /", ErrInvalidKey, key)
			}
		}
	}
	return nil
}

// backend is raw object storage: it never sees plaintext.
type backend interface {
	put(ctx context.Context, name string, data []byte) error
	// get returns errNoObject (wrapped) when name does not exist.
	get(ctx context.Context, name string) ([]byte, error)
	del(ctx context.Context, name string) error
	// list calls fn for each object whose name starts with prefix.
	list(ctx context.Context, prefix string, fn func(name string, modified time.Time) error) error
}

var errNoObject = errors.New("no such object")

// sealedStore is the one Store implementation; backends differ only in
// where the sealed bytes go.
type sealedStore struct {
	b    backend
	keys *Keys
	now  func() time.Time
}

func newSealedStore(b backend, keys *Keys) (*sealedStore, error) {
	if keys == nil {
		return nil, ErrNoKey
	}
	return &sealedStore{b: b, keys: keys, now: time.Now}, nil
}

// Clip payload (before sealing): uint32 big-endian meta length | meta JSON | WAV.
func (s *sealedStore) Put(ctx context.Context, key string, wav []byte, meta Meta) error {
	if err := ValidateKey(key); err != nil {
		return err
	}
	if len(wav) > MaxClipBytes {
		return fmt.Errorf("%w: clip is %d bytes, limit %d", ErrTooLarge, len(wav), MaxClipBytes)
	}
	if len(wav) < 12 || string(wav[:4]) != "RIFF" || string(wav[8:12]) != "WAVE" {
		return ErrNotWAV
	}
	if meta.CreatedAt.IsZero() {
		meta.CreatedAt = s.now()
	}
	meta.CreatedAt = meta.CreatedAt.UTC()
	meta.Label, meta.LabelledAt = Unlabelled, time.Time{} // labels live in their own object
	mj, err := json.Marshal(meta)
	if err != nil {
		return fmt.Errorf("evidence: encoding meta: %w", err)
	}
	payload := make([]byte, 4, 4+len(mj)+len(wav))
	binary.BigEndian.PutUint32(payload, uint32(len(mj)))
	payload = append(append(payload, mj...), wav...)
	sealed, err := s.keys.seal(key+clipSuffix, payload)
	if err != nil {
		return err
	}
	// A stale label from an earlier clip under this key must not attach
	// itself to the new one.
	if err := s.b.del(ctx, key+labelSuffix); err != nil {
		return fmt.Errorf("evidence: put %s: %w", key, err)
	}
	if err := s.b.put(ctx, key+clipSuffix, sealed); err != nil {
		return fmt.Errorf("evidence: put %s: %w", key, err)
	}
	return nil
}

type labelRecord struct {
	Label      Label     `json:"label"`
	LabelledAt time.Time `json:"labelled_at"`
}

func (s *sealedStore) Get(ctx context.Context, key string) ([]byte, Meta, error) {
	if err := ValidateKey(key); err != nil {
		return nil, Meta{}, err
	}
	clip, label, err := s.present(ctx, key)
	if err != nil {
		return nil, Meta{}, fmt.Errorf("evidence: get %s: %w", key, err)
	}
	if !clip {
		return nil, Meta{}, fmt.Errorf("%w: %s", ErrNotFound, key)
	}
	obj, err := s.b.get(ctx, key+clipSuffix)
	if errors.Is(err, errNoObject) {
		return nil, Meta{}, fmt.Errorf("%w: %s", ErrNotFound, key)
	}
	if err != nil {
		return nil, Meta{}, fmt.Errorf("evidence: get %s: %w", key, err)
	}
	payload, err := s.keys.open(key+clipSuffix, obj)
	if err != nil {
		return nil, Meta{}, err
	}
	if len(payload) < 4 {
		return nil, Meta{}, fmt.Errorf("%w: %s: short payload", ErrBadFormat, key)
	}
	n := binary.BigEndian.Uint32(payload)
	if n > maxMetaLen || uint64(n) > uint64(len(payload)-4) {
		return nil, Meta{}, fmt.Errorf("%w: %s: meta length %d", ErrBadFormat, key, n)
	}
	var meta Meta
	if err := json.Unmarshal(payload[4:4+n], &meta); err != nil {
		return nil, Meta{}, fmt.Errorf("%w: %s: meta: %v", ErrBadFormat, key, err)
	}
	wav := payload[4+n:]
	if label {
		lab, err := s.getLabel(ctx, key)
		if err != nil {
			return nil, Meta{}, err
		}
		meta.Label, meta.LabelledAt = lab.Label, lab.LabelledAt
	}
	return wav, meta, nil
}

// present lists which of key's two objects exist. Get lists before it
// reads because with the least-privilege IAM policy (s3:ListBucket only
// under the prefix, deploy/iam-policy.json) S3 answers a GetObject for a
// missing object with 403 Access Denied, not 404, and an unlabelled clip
// has no label object.
func (s *sealedStore) present(ctx context.Context, key string) (clip, label bool, err error) {
	err = s.b.list(ctx, key+".", func(name string, _ time.Time) error {
		switch name {
		case key + clipSuffix:
			clip = true
		case key + labelSuffix:
			label = true
		}
		return nil
	})
	return clip, label, err
}

func (s *sealedStore) getLabel(ctx context.Context, key string) (labelRecord, error) {
	obj, err := s.b.get(ctx, key+labelSuffix)
	if errors.Is(err, errNoObject) {
		return labelRecord{}, nil
	}
	if err != nil {
		return labelRecord{}, fmt.Errorf("evidence: get label %s: %w", key, err)
	}
	pt, err := s.keys.open(key+labelSuffix, obj)
	if err != nil {
		return labelRecord{}, err
	}
	var rec labelRecord
	if err := json.Unmarshal(pt, &rec); err != nil || !rec.Label.Valid() {
		return labelRecord{}, fmt.Errorf("%w: %s: label record", ErrBadFormat, key)
	}
	return rec, nil
}

func (s *sealedStore) SetLabel(ctx context.Context, key string, label Label) error {
	if err := ValidateKey(key); err != nil {
		return err
	}
	if !label.Valid() {
		return ErrInvalidLabel
	}
	// Labelling a clip that does not exist (or was swept) is an error the
	// caller should see, not a dangling label object.
	exists, _, err := s.present(ctx, key)
	if err != nil {
		return fmt.Errorf("evidence: label %s: %w", key, err)
	}
	if !exists {
		return fmt.Errorf("%w: %s", ErrNotFound, key)
	}
	if label == Unlabelled {
		if err := s.b.del(ctx, key+labelSuffix); err != nil {
			return fmt.Errorf("evidence: label %s: %w", key, err)
		}
		return nil
	}
	pt, err := json.Marshal(labelRecord{Label: label, LabelledAt: s.now().UTC()})
	if err != nil {
		return fmt.Errorf("evidence: label %s: %w", key, err)
	}
	sealed, err := s.keys.seal(key+labelSuffix, pt)
	if err != nil {
		return err
	}
	if err := s.b.put(ctx, key+labelSuffix, sealed); err != nil {
		return fmt.Errorf("evidence: label %s: %w", key, err)
	}
	return nil
}

func (s *sealedStore) Delete(ctx context.Context, key string) error {
	if err := ValidateKey(key); err != nil {
		return err
	}
	// Clip first: once it is gone the clip no longer exists for readers;
	// an orphan label left by a crash is removed by the next sweep.
	if err := s.b.del(ctx, key+clipSuffix); err != nil {
		return fmt.Errorf("evidence: delete %s: %w", key, err)
	}
	if err := s.b.del(ctx, key+labelSuffix); err != nil {
		return fmt.Errorf("evidence: delete %s: %w", key, err)
	}
	return nil
}

func (s *sealedStore) List(ctx context.Context, prefix string) ([]string, error) {
	var keys []string
	err := s.b.list(ctx, prefix, func(name string, _ time.Time) error {
		if k, ok := strings.CutSuffix(name, clipSuffix); ok && ValidateKey(k) == nil {
			keys = append(keys, k)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("evidence: list %q: %w", prefix, err)
	}
	slices.Sort(keys)
	return keys, nil
}

func (s *sealedStore) DeleteOlderThan(ctx context.Context, t time.Time) (int, error) {
	type obj struct {
		name string
		mod  time.Time
	}
	var objs []obj
	clips := map[string]bool{}
	err := s.b.list(ctx, "", func(name string, mod time.Time) error {
		objs = append(objs, obj{name, mod})
		if k, ok := strings.CutSuffix(name, clipSuffix); ok {
			clips[k] = true
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("evidence: sweep: %w", err)
	}
	n := 0
	for _, o := range objs {
		if err := ctx.Err(); err != nil {
			return n, fmt.Errorf("evidence: sweep: %w", err)
		}
		if k, ok := strings.CutSuffix(o.name, clipSuffix); ok {
			// Clip objects are never rewritten, so their modification
			// time is when they were captured.
			if !o.mod.Before(t) {
				continue
			}
			if err := s.Delete(ctx, k); err != nil {
				return n, err
			}
			n++
			continue
		}
		if k, ok := strings.CutSuffix(o.name, labelSuffix); ok && !clips[k] {
			// Orphan label (a crash between the two deletes): no clip
			// to count, just tidy up.
			if err := s.b.del(ctx, o.name); err != nil {
				return n, fmt.Errorf("evidence: sweep: %w", err)
			}
		}
	}
	return n, nil
}

// Sweep deletes every clip older than retention. Run it periodically
// (RunSweeper) rather than relying on callers to remember.
func Sweep(ctx context.Context, s Store, retention time.Duration) (int, error) {
	if retention <= 0 {
		return 0, fmt.Errorf("evidence: retention must be positive, got %v", retention)
	}
	return s.DeleteOlderThan(ctx, time.Now().Add(-retention))
}

// RunSweeper calls Sweep every interval (default hourly) until ctx ends,
// reporting deletions and errors to report (which may be nil). It sweeps once at start so that a
// process restarted often still enforces retention.
func RunSweeper(ctx context.Context, s Store, retention, interval time.Duration, report func(deleted int, err error)) {
	if interval <= 0 {
		interval = time.Hour
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		n, err := Sweep(ctx, s, retention)
		if report != nil && (n > 0 || err != nil) {
			report(n, err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
