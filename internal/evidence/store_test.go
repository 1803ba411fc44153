package evidence

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
)

// testWAV builds a small valid 16 kHz mono PCM WAV whose samples are a
// recognisable pattern, so a test can look for it in stored bytes.
func testWAV(seed byte, samples int) []byte {
	var b bytes.Buffer
	data := samples * 2
	b.WriteString("RIFF")
	binary.Write(&b, binary.LittleEndian, uint32(36+data))
	b.WriteString("WAVEfmt ")
	binary.Write(&b, binary.LittleEndian, []any{uint32(16), uint16(1), uint16(1), uint32(16000), uint32(32000), uint16(2), uint16(16)})
	b.WriteString("data")
	binary.Write(&b, binary.LittleEndian, uint32(data))
	for i := range samples {
		b.WriteByte(seed)
		b.WriteByte(byte(i))
	}
	return b.Bytes()
}

func mustKeys(t testing.TB, raws ...string) *Keys {
	t.Helper()
	k, err := ParseKeys(strings.Join(raws, ","))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

var (
	keyA = base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{0xA1}, 32))
	keyB = base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{0xB2}, 32))
)

// harness gives the shared tests raw access to what a backend stored, as
// the storage server sees it, independent of our own backend code.
type harness struct {
	open   func(t *testing.T, keys *Keys) Store
	rawGet func(t *testing.T, name string) []byte
	rawPut func(t *testing.T, name string, b []byte)
	// age makes every object stored so far 3 hours older.
	age func(t *testing.T)
}

func localHarness(t *testing.T) harness {
	dir := t.TempDir()
	return harness{
		open: func(t *testing.T, keys *Keys) Store {
			s, err := NewLocal(dir, keys)
			if err != nil {
				t.Fatal(err)
			}
			return s
		},
		rawGet: func(t *testing.T, name string) []byte {
			b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(name)))
			if err != nil {
				t.Fatal(err)
			}
			return b
		},
		rawPut: func(t *testing.T, name string, b []byte) {
			p := filepath.Join(dir, filepath.FromSlash(name))
			if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, b, 0o600); err != nil {
				t.Fatal(err)
			}
		},
		age: func(t *testing.T) {
			old := time.Now().Add(-3 * time.Hour)
			err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
				if err != nil || d.IsDir() {
					return err
				}
				return os.Chtimes(p, old, old)
			})
			if err != nil {
				t.Fatal(err)
			}
		},
	}
}

const testBucket = "evidence-test"

// startFakeS3 runs gofakes3 in-process on a loopback listener with a clock
// that starts 3 hours in the past, and points the AWS default credential
// chain at dummy static keys (never at this machine's real profile).
//
// With denyMissing the server answers a GET of a missing object as real S3
// does for a caller whose s3:ListBucket is limited to a prefix (our IAM
// policy): 403 AccessDenied instead of 404 NoSuchKey.
func startFakeS3(t *testing.T, denyMissing ...bool) (*s3mem.Backend, gofakes3.TimeSourceAdvancer, string) {
	t.Helper()
	clock := gofakes3.FixedTimeSource(time.Now().Add(-3 * time.Hour))
	mem := s3mem.New(s3mem.WithTimeSource(clock))
	faker := gofakes3.New(mem, gofakes3.WithTimeSource(clock), gofakes3.WithTimeSkewLimit(0))
	handler := faker.Server()
	if len(denyMissing) > 0 && denyMissing[0] {
		inner := handler
		handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			bucket, key, hasKey := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
			if r.Method == http.MethodGet && hasKey && key != "" {
				if _, err := mem.HeadObject(bucket, key); err != nil {
					w.Header().Set("Content-Type", "application/xml")
					w.WriteHeader(http.StatusForbidden)
					io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>`)
					return
				}
			}
			inner.ServeHTTP(w, r)
		})
	}
	srv := httptest.NewServer(handler)
	t.Cleanup(srv.Close)
	if err := mem.CreateBucket(testBucket); err != nil {
		t.Fatal(err)
	}
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDTEST")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret-test")
	t.Setenv("AWS_REGION", "eu-west-1")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	return mem, clock, srv.URL
}

func s3Harness(t *testing.T) harness { return s3HarnessWith(t, false) }

func s3HarnessWith(t *testing.T, denyMissing bool) harness {
	mem, clock, url := startFakeS3(t, denyMissing)
	const prefix = "clips"
	return harness{
		open: func(t *testing.T, keys *Keys) Store {
			s, err := NewS3(context.Background(), S3Config{Bucket: testBucket, Prefix: prefix, Endpoint: url, PathStyle: true}, keys)
			if err != nil {
				t.Fatal(err)
			}
			return s
		},
		rawGet: func(t *testing.T, name string) []byte {
			obj, err := mem.GetObject(testBucket, prefix+"/"+name, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer obj.Contents.Close()
			b, err := io.ReadAll(obj.Contents)
			if err != nil {
				t.Fatal(err)
			}
			return b
		},
		rawPut: func(t *testing.T, name string, b []byte) {
			if _, err := mem.PutObject(testBucket, prefix+"/"+name, map[string]string{}, bytes.NewReader(b), int64(len(b)), nil); err != nil {
				t.Fatal(err)
			}
		},
		age: func(t *testing.T) { clock.Advance(3 * time.Hour) },
	}
}

func TestLocalStore(t *testing.T) { runStoreTests(t, localHarness) }
func TestS3Store(t *testing.T)    { runStoreTests(t, s3Harness) }

// TestS3StoreLeastPrivilege runs the same suite against an S3 that, like
// AWS under deploy/iam-policy.json, says 403 for missing objects.
func TestS3StoreLeastPrivilege(t *testing.T) {
	runStoreTests(t, func(t *testing.T) harness { return s3HarnessWith(t, true) })
}

func runStoreTests(t *testing.T, newHarness func(*testing.T) harness) {
	ctx := context.Background()

	t.Run("RoundTripAndList", func(t *testing.T) {
		h := newHarness(t)
		s := h.open(t, mustKeys(t, keyA))
		wav := testWAV(7, 4000)
		meta := Meta{UserID: 42, IncidentID: "i7", Score: 0.93}
		if err := s.Put(ctx, "u42/i7/c1", wav, meta); err != nil {
			t.Fatal(err)
		}
		if err := s.Put(ctx, "u42/i8/c1", testWAV(8, 100), Meta{UserID: 42}); err != nil {
			t.Fatal(err)
		}
		if err := s.Put(ctx, "u5/i1/c1", testWAV(9, 100), Meta{UserID: 5}); err != nil {
			t.Fatal(err)
		}
		if err := s.Put(ctx, "top", testWAV(9, 100), Meta{UserID: 5}); err != nil {
			t.Fatal(err)
		}
		got, gm, err := s.Get(ctx, "u42/i7/c1")
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, wav) {
			t.Fatalf("clip changed in round trip: %d bytes, want %d", len(got), len(wav))
		}
		if gm.UserID != 42 || gm.IncidentID != "i7" || gm.Score != 0.93 || gm.Label != Unlabelled || gm.CreatedAt.IsZero() {
			t.Fatalf("meta = %+v", gm)
		}
		if err := s.SetLabel(ctx, "u42/i7/c1", Real); err != nil {
			t.Fatal(err)
		}
		keys, err := s.List(ctx, "u42/")
		if err != nil {
			t.Fatal(err)
		}
		if strings.Join(keys, ",") != "u42/i7/c1,u42/i8/c1" {
			t.Fatalf("List(u42/) = %q", keys)
		}
		all, err := s.List(ctx, "")
		if err != nil || len(all) != 4 {
			t.Fatalf("List() = %q, %v", all, err)
		}
		if _, _, err := s.Get(ctx, "u42/i9/none"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("Get(missing) err = %v, want ErrNotFound", err)
		}
	})

	t.Run("Labels", func(t *testing.T) {
		h := newHarness(t)
		s := h.open(t, mustKeys(t, keyA))
		if err := s.Put(ctx, "u1/c", testWAV(1, 10), Meta{UserID: 1}); err != nil {
			t.Fatal(err)
		}
		for _, l := range []Label{FalseAlarm, Real, Unlabelled, Real} {
			if err := s.SetLabel(ctx, "u1/c", l); err != nil {
				t.Fatal(err)
			}
			_, m, err := s.Get(ctx, "u1/c")
			if err != nil || m.Label != l {
				t.Fatalf("after SetLabel(%q): label %q, err %v", l, m.Label, err)
			}
		}
		if err := s.SetLabel(ctx, "u1/c", "maybe"); !errors.Is(err, ErrInvalidLabel) {
			t.Fatalf("bad label err = %v", err)
		}
		if err := s.SetLabel(ctx, "u1/nothing", Real); !errors.Is(err, ErrNotFound) {
			t.Fatalf("label on missing clip err = %v", err)
		}
		// A new clip under the same key starts unlabelled.
		if err := s.Put(ctx, "u1/c", testWAV(2, 10), Meta{UserID: 1}); err != nil {
			t.Fatal(err)
		}
		if _, m, err := s.Get(ctx, "u1/c"); err != nil || m.Label != Unlabelled {
			t.Fatalf("after re-Put: label %q, err %v", m.Label, err)
		}
	})

	t.Run("Delete", func(t *testing.T) {
		h := newHarness(t)
		s := h.open(t, mustKeys(t, keyA))
		if err := s.Put(ctx, "u1/c", testWAV(1, 10), Meta{}); err != nil {
			t.Fatal(err)
		}
		if err := s.SetLabel(ctx, "u1/c", Real); err != nil {
			t.Fatal(err)
		}
		if err := s.Delete(ctx, "u1/c"); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.Get(ctx, "u1/c"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("Get after Delete err = %v", err)
		}
		if err := s.Delete(ctx, "u1/c"); err != nil {
			t.Fatalf("second Delete: %v", err)
		}
		if keys, _ := s.List(ctx, ""); len(keys) != 0 {
			t.Fatalf("List after Delete = %q", keys)
		}
	})

	t.Run("CiphertextAtRest", func(t *testing.T) {
		h := newHarness(t)
		s := h.open(t, mustKeys(t, keyA))
		wav := testWAV(0x5A, 2000)
		if err := s.Put(ctx, "u77/c", wav, Meta{UserID: 987654321, IncidentID: "inc-123456789"}); err != nil {
			t.Fatal(err)
		}
		if err := s.SetLabel(ctx, "u77/c", FalseAlarm); err != nil {
			t.Fatal(err)
		}
		raw := h.rawGet(t, "u77/c"+clipSuffix)
		if !bytes.HasPrefix(raw, []byte(magic)) {
			t.Fatalf("stored object does not start with the evidence header")
		}
		for _, leak := range [][]byte{wav[44:108], []byte("RIFF"), []byte("987654321"), []byte("123456789"), []byte("user_id")} {
			if bytes.Contains(raw, leak) {
				t.Fatalf("stored clip contains plaintext %q", leak[:min(len(leak), 16)])
			}
		}
		if lab := h.rawGet(t, "u77/c"+labelSuffix); bytes.Contains(lab, []byte("false_alarm")) {
			t.Fatal("stored label is plaintext")
		}
	})

	t.Run("WrongKeyAndRotation", func(t *testing.T) {
		h := newHarness(t)
		if err := h.open(t, mustKeys(t, keyA)).Put(ctx, "u1/old", testWAV(1, 10), Meta{UserID: 1}); err != nil {
			t.Fatal(err)
		}
		wrong := h.open(t, mustKeys(t, keyB))
		if _, _, err := wrong.Get(ctx, "u1/old"); !errors.Is(err, ErrUnknownKey) {
			t.Fatalf("Get with wrong key err = %v, want ErrUnknownKey", err)
		}
		// Rotation: new key first encrypts, old key still decrypts.
		rotated := h.open(t, mustKeys(t, keyB, keyA))
		if _, m, err := rotated.Get(ctx, "u1/old"); err != nil || m.UserID != 1 {
			t.Fatalf("Get after rotation: %+v, %v", m, err)
		}
		if err := rotated.Put(ctx, "u1/new", testWAV(2, 10), Meta{}); err != nil {
			t.Fatal(err)
		}
		if _, _, err := h.open(t, mustKeys(t, keyA)).Get(ctx, "u1/new"); !errors.Is(err, ErrUnknownKey) {
			t.Fatalf("new object readable with only the old key: %v", err)
		}
	})

	t.Run("Tampering", func(t *testing.T) {
		h := newHarness(t)
		s := h.open(t, mustKeys(t, keyA))
		for _, k := range []string{"u1/a", "u1/b", "u1/c"} {
			if err := s.Put(ctx, k, testWAV(3, 500), Meta{UserID: 1}); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.SetLabel(ctx, "u1/c", Real); err != nil {
			t.Fatal(err)
		}
		// One flipped bit in the ciphertext.
		raw := h.rawGet(t, "u1/a"+clipSuffix)
		raw[len(raw)/2] ^= 0x01
		h.rawPut(t, "u1/a"+clipSuffix, raw)
		if _, _, err := s.Get(ctx, "u1/a"); !errors.Is(err, ErrTampered) {
			t.Fatalf("flipped bit: err = %v, want ErrTampered", err)
		}
		// A valid object moved to another name (another user's clip).
		h.rawPut(t, "u1/b"+clipSuffix, h.rawGet(t, "u1/c"+clipSuffix))
		if _, _, err := s.Get(ctx, "u1/b"); !errors.Is(err, ErrTampered) {
			t.Fatalf("moved object: err = %v, want ErrTampered", err)
		}
		// Truncation and a forged label.
		h.rawPut(t, "u1/c"+labelSuffix, h.rawGet(t, "u1/c"+labelSuffix)[:headerLen+3])
		if _, _, err := s.Get(ctx, "u1/c"); !errors.Is(err, ErrBadFormat) {
			t.Fatalf("truncated label: err = %v, want ErrBadFormat", err)
		}
		h.rawPut(t, "u1/c"+labelSuffix, []byte(`{"label":"false_alarm"}`))
		if _, _, err := s.Get(ctx, "u1/c"); !errors.Is(err, ErrBadFormat) {
			t.Fatalf("plaintext forged label: err = %v, want ErrBadFormat", err)
		}
	})

	t.Run("Sweep", func(t *testing.T) {
		h := newHarness(t)
		s := h.open(t, mustKeys(t, keyA))
		for _, k := range []string{"u1/old1", "u2/old2"} {
			if err := s.Put(ctx, k, testWAV(1, 10), Meta{}); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.SetLabel(ctx, "u1/old1", Real); err != nil {
			t.Fatal(err)
		}
		h.age(t)
		if err := s.Put(ctx, "u1/new", testWAV(2, 10), Meta{}); err != nil {
			t.Fatal(err)
		}
		// Labelling an old clip now must not extend its retention.
		if err := s.SetLabel(ctx, "u2/old2", FalseAlarm); err != nil {
			t.Fatal(err)
		}
		n, err := Sweep(ctx, s, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		keys, _ := s.List(ctx, "")
		if n != 2 || strings.Join(keys, ",") != "u1/new" {
			t.Fatalf("Sweep deleted %d, left %q; want 2 and [u1/new]", n, keys)
		}
		if _, err := Sweep(ctx, s, 0); err == nil {
			t.Fatal("Sweep with zero retention accepted")
		}
	})

	t.Run("BadInput", func(t *testing.T) {
		h := newHarness(t)
		s := h.open(t, mustKeys(t, keyA))
		for _, k := range []string{"", "../x", "/abs", "a//b", "a/./b", "a/../b", `a\b`, "a b", "a/", strings.Repeat("x", 300), "ü"} {
			if err := s.Put(ctx, k, testWAV(1, 10), Meta{}); !errors.Is(err, ErrInvalidKey) {
				t.Errorf("Put(%q) err = %v, want ErrInvalidKey", k, err)
			}
			if _, _, err := s.Get(ctx, k); !errors.Is(err, ErrInvalidKey) {
				t.Errorf("Get(%q) err = %v, want ErrInvalidKey", k, err)
			}
			if err := s.Delete(ctx, k); !errors.Is(err, ErrInvalidKey) {
				t.Errorf("Delete(%q) err = %v, want ErrInvalidKey", k, err)
			}
		}
		if err := s.Put(ctx, "u1/x", []byte("not a wav at all"), Meta{}); !errors.Is(err, ErrNotWAV) {
			t.Errorf("Put(non-WAV) err = %v", err)
		}
		if err := s.Put(ctx, "u1/x", make([]byte, MaxClipBytes+1), Meta{}); !errors.Is(err, ErrTooLarge) {
			t.Errorf("Put(huge) err = %v", err)
		}
	})
}

func TestLocalPermissions(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ev")
	s, err := NewLocal(dir, mustKeys(t, keyA))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Put(context.Background(), "u1/i2/c3", testWAV(1, 10), Meta{}); err != nil {
		t.Fatal(err)
	}
	for p, want := range map[string]os.FileMode{
		dir: 0o700, filepath.Join(dir, "u1"): 0o700, filepath.Join(dir, "u1", "i2"): 0o700,
		filepath.Join(dir, "u1", "i2", "c3.clip"): 0o600,
	} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != want {
			t.Errorf("%s mode %o, want %o", p, got, want)
		}
	}
}

func TestLocalSymlinkCannotEscape(t *testing.T) {
	dir := t.TempDir()
	outside := t.TempDir()
	if err := os.Symlink(outside, filepath.Join(dir, "u1")); err != nil {
		t.Skip("symlinks unsupported:", err)
	}
	s, err := NewLocal(dir, mustKeys(t, keyA))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Put(context.Background(), "u1/c", testWAV(1, 10), Meta{}); err == nil {
		t.Fatal("Put followed a symlink out of the evidence directory")
	}
	if ents, _ := os.ReadDir(outside); len(ents) != 0 {
		t.Fatalf("files written outside: %v", ents)
	}
}

func TestLocalDeleteRemovesEmptyDirs(t *testing.T) {
	dir := t.TempDir()
	s, err := NewLocal(dir, mustKeys(t, keyA))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, k := range []string{"u1/i1/a", "u1/i2/b"} {
		if err := s.Put(ctx, k, testWAV(1, 10), Meta{}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Delete(ctx, "u1/i1/a"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "u1", "i1")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("empty incident dir left behind: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "u1", "i2", "b.clip")); err != nil {
		t.Fatalf("sibling clip gone: %v", err)
	}
	if err := s.Put(ctx, "u1/i1/c", testWAV(1, 10), Meta{}); err != nil {
		t.Fatalf("Put into a removed dir: %v", err)
	}
	if _, err := os.Stat(dir); err != nil {
		t.Fatalf("store root removed: %v", err)
	}
}

func TestKeysParsing(t *testing.T) {
	if _, err := ParseKeys(""); !errors.Is(err, ErrNoKey) {
		t.Errorf("empty: %v", err)
	}
	if _, err := ParseKeys("!!!"); err == nil || strings.Contains(err.Error(), "!!!") {
		t.Errorf("bad base64 error must not echo the secret: %v", err)
	}
	if _, err := ParseKeys(base64.StdEncoding.EncodeToString(make([]byte, 16))); err == nil {
		t.Error("16-byte key accepted for AES-256")
	}
	file := filepath.Join(t.TempDir(), "key")
	if err := os.WriteFile(file, []byte("# evidence key\n"+keyA+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	fromFile, err := LoadKeys(file)
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv(KeyEnv, keyA)
	fromEnv, err := LoadKeys("")
	if err != nil {
		t.Fatal(err)
	}
	if fromFile.KeyID() != fromEnv.KeyID() || len(fromFile.KeyID()) != 16 {
		t.Errorf("key ids %q vs %q", fromFile.KeyID(), fromEnv.KeyID())
	}
	t.Setenv(KeyEnv, "")
	if _, err := LoadKeys(""); !errors.Is(err, ErrNoKey) {
		t.Errorf("no key: %v", err)
	}
	g, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ParseKeys(g); err != nil {
		t.Errorf("generated key does not parse: %v", err)
	}
}

func FuzzOpen(f *testing.F) {
	k := mustKeys(f, keyA)
	good, _ := k.seal("n", []byte("hello"))
	f.Add(good)
	f.Add([]byte(magic + "\x01"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, obj []byte) {
		// Only "hello" was ever sealed under this key and name, so any
		// object that opens to something else is a forgery; any error must
		// be one of the typed ones.
		pt, err := k.open("n", obj)
		switch {
		case err == nil && string(pt) != "hello":
			t.Fatalf("forged object opened to %q", pt)
		case err != nil && !errors.Is(err, ErrTampered) && !errors.Is(err, ErrBadFormat) && !errors.Is(err, ErrUnknownKey):
			t.Fatalf("untyped error %v", err)
		}
	})
}

func FuzzValidateKey(f *testing.F) {
	for _, s := range []string{"u1/i2/c3", "../a", "a/..", "a//b", ".", "a.b-c_d"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, key string) {
		if ValidateKey(key) != nil {
			return
		}
		if filepath.IsAbs(key) || strings.Contains("/"+key+"/", "/../") || strings.Contains("/"+key+"/", "/./") || strings.Contains(key, "//") || strings.ContainsAny(key, "\\\x00") {
			t.Fatalf("accepted unsafe key %q", key)
		}
		if !filepath.IsLocal(filepath.FromSlash(key)) {
			t.Fatalf("accepted non-local key %q", key)
		}
	})
}

func TestClipKeysAndDeleteUser(t *testing.T) {
	ctx := context.Background()
	s, err := NewLocal(t.TempDir(), mustKeys(t, keyA))
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 12, 4, 16, 0, 0, 0, time.UTC)
	k1, k2, other := ClipKey(1, "i10", at), ClipKey(1, "i11", at), ClipKey(12, "i10", at)
	if err := ValidateKey(k1); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{k1, k2, other} {
		if err := s.Put(ctx, k, testWAV(1, 10), Meta{}); err != nil {
			t.Fatal(err)
		}
	}
	if keys, _ := s.List(ctx, IncidentPrefix(1, "i1")); len(keys) != 0 {
		t.Fatalf("incident i1's prefix lists %q", keys)
	}
	if keys, _ := s.List(ctx, IncidentPrefix(1, "i10")); len(keys) != 1 || keys[0] != k1 {
		t.Fatalf("incident i10's prefix lists %q", keys)
	}
	// User 1's prefix must not catch user 12's clips.
	n, err := DeleteUser(ctx, s, 1)
	if err != nil || n != 2 {
		t.Fatalf("DeleteUser = %d, %v", n, err)
	}
	if keys, _ := s.List(ctx, ""); len(keys) != 1 || keys[0] != other {
		t.Fatalf("left %q", keys)
	}
}

func TestRunSweeperSweepsAtStart(t *testing.T) {
	h := localHarness(t)
	s := h.open(t, mustKeys(t, keyA))
	if err := s.Put(context.Background(), "u1/old", testWAV(1, 10), Meta{}); err != nil {
		t.Fatal(err)
	}
	h.age(t)
	ctx, cancel := context.WithCancel(context.Background())
	got := make(chan int, 1)
	go RunSweeper(ctx, s, time.Hour, 0, func(n int, err error) {
		if err == nil {
			got <- n
		}
	})
	defer cancel()
	select {
	case n := <-got:
		if n != 1 {
			t.Fatalf("first sweep deleted %d, want 1", n)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no sweep at start")
	}
}
