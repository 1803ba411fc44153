package evidence

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"
	"time"
)

// localBackend keeps objects as files under one directory. Access goes
// through os.Root, so even a key that slipped past ValidateKey could not
// reach outside the directory (symlinks included).
type localBackend struct {
	root *os.Root
}

// NewLocal opens (creating it 0700 if needed) a local evidence directory.
func NewLocal(dir string, keys *Keys) (Store, error) {
	if dir == "" {
		return nil, errors.New("evidence: local directory not set")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("evidence: %w", err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("evidence: %w", err)
	}
	return newSealedStore(&localBackend{root: root}, keys)
}

const tmpPrefix = ".tmp-"

func (b *localBackend) put(_ context.Context, name string, data []byte) error {
	if err := b.root.MkdirAll(path.Dir(name), 0o700); err != nil {
		return err
	}
	var rnd [8]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		return err
	}
	// Write-then-rename so a reader or a crash never sees half an object.
	tmp := path.Join(path.Dir(name), tmpPrefix+hex.EncodeToString(rnd[:]))
	f, err := b.root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrNotExist) {
		// A concurrent del removed the directory as it emptied; once more.
		if err = b.root.MkdirAll(path.Dir(name), 0o700); err == nil {
			f, err = b.root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		}
	}
	if err != nil {
		return err
	}
	_, werr := f.Write(data)
	if werr == nil {
		werr = f.Sync()
	}
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		_ = b.root.Remove(tmp)
		return werr
	}
	if err := b.root.Rename(tmp, name); err != nil {
		_ = b.root.Remove(tmp)
		return err
	}
	return nil
}

func (b *localBackend) get(_ context.Context, name string) ([]byte, error) {
	f, err := b.root.Open(name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, errNoObject
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readLimited(f, maxObjectBytes)
}

func (b *localBackend) del(_ context.Context, name string) error {
	err := b.root.Remove(name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	// Remove directories left empty (one per incident would pile up
	// otherwise); Remove refuses a non-empty one, which ends the climb.
	for dir := path.Dir(name); dir != "."; dir = path.Dir(dir) {
		if b.root.Remove(dir) != nil {
			break
		}
	}
	return nil
}

func (b *localBackend) list(ctx context.Context, prefix string, fn func(string, time.Time) error) error {
	return fs.WalkDir(b.root.FS(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if cerr := ctx.Err(); cerr != nil {
			return cerr
		}
		if d.IsDir() {
			// Skip subtrees that cannot contain the prefix.
			if p != "." && !strings.HasPrefix(p+"/", prefix) && !strings.HasPrefix(prefix, p+"/") {
				return fs.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() || !strings.HasPrefix(p, prefix) || strings.HasPrefix(path.Base(p), tmpPrefix) {
			return nil
		}
		info, err := d.Info()
		if errors.Is(err, fs.ErrNotExist) {
			return nil // deleted while we walked
		}
		if err != nil {
			return err
		}
		return fn(p, info.ModTime())
	})
}

// readLimited reads r fully but refuses more than limit bytes, so a
// hostile object cannot make us allocate without bound.
func readLimited(r io.Reader, limit int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%w: more than %d bytes", ErrTooLarge, limit)
	}
	return b, nil
}

// maxObjectBytes is the largest sealed object a valid Put can produce.
const maxObjectBytes = int64(MaxClipBytes + headerLen + gcmOverhead + maxMetaLen + 4)
