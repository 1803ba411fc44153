package evidence

import (
	"bufio"
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"
)

// KeyEnv is the environment variable holding the evidence key(s): base64 of
// 32 random bytes; several comma-separated keys during a rotation, the
// first encrypting new objects and the others only decrypting old ones.
const KeyEnv = "EMPOWERHER_EVIDENCE_KEY"

var (
	// ErrTampered: an object failed GCM authentication: it was changed, or
	// moved to another key, after it was written.
	ErrTampered = errors.New("evidence: object failed authentication (tampered, truncated or moved)")
	// ErrUnknownKey: an object was encrypted under a key this process does
	// not hold (wrong key configured, or an old key dropped too early).
	ErrUnknownKey = errors.New("evidence: object encrypted with a key that is not configured")
	// ErrBadFormat: not an evidence object at all.
	ErrBadFormat = errors.New("evidence: not an evidence object")
	// ErrNoKey: encryption is mandatory and no key was configured.
	ErrNoKey = errors.New("evidence: no encryption key configured (set " + KeyEnv + " or a key file)")
)

// Object layout (all integers fixed size, so nothing is sized by input):
//
//	magic "EHEV" | version 0x01 | key id (8 bytes) | nonce (12 bytes) | GCM ciphertext+tag
//
// The additional authenticated data is the 25-byte header followed by the
// object's name, so an object copied to another name fails to open.
const (
	magic       = "EHEV"
	formatV1    = 1
	keyIDLen    = 8
	nonceLen    = 12
	headerLen   = len(magic) + 1 + keyIDLen + nonceLen
	gcmOverhead = 16
)

// Keys holds the encryption key and any older keys still needed to read
// objects written before a rotation. The key id written into each object
// is a fingerprint (the first 8 bytes of SHA-256 of the key), so nothing
// besides the key itself has to be configured and a wrong key is reported
// as such instead of as tampering.
type Keys struct {
	current [keyIDLen]byte
	aeads   map[[keyIDLen]byte]cipher.AEAD
}

// NewKeys builds Keys from raw 32-byte keys; the first one encrypts.
func NewKeys(raw ...[]byte) (*Keys, error) {
	if len(raw) == 0 {
		return nil, ErrNoKey
	}
	k := &Keys{aeads: make(map[[keyIDLen]byte]cipher.AEAD, len(raw))}
	for i, r := range raw {
		if len(r) != 32 {
			return nil, fmt.Errorf("evidence: key %d is %d bytes, want 32 (AES-256)", i+1, len(r))
		}
		block, err := aes.NewCipher(r)
		if err != nil {
			return nil, fmt.Errorf("evidence: key %d: %w", i+1, err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("evidence: key %d: %w", i+1, err)
		}
		id := fingerprint(r)
		if i == 0 {
			k.current = id
		}
		k.aeads[id] = aead
	}
	return k, nil
}

func fingerprint(key []byte) [keyIDLen]byte {
	sum := sha256.Sum256(key)
	var id [keyIDLen]byte
	copy(id[:], sum[:])
	return id
}

// KeyID is the hex id of the encrypting key, safe to log.
func (k *Keys) KeyID() string { return hex.EncodeToString(k.current[:]) }

// ParseKeys decodes comma- or newline-separated base64 keys.
func ParseKeys(text string) (*Keys, error) {
	var raw [][]byte
	sc := bufio.NewScanner(strings.NewReader(strings.ReplaceAll(text, ",", "\n")))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		b, err := base64.StdEncoding.DecodeString(line)
		if err != nil {
			// Never echo the line: it is (part of) a secret.
			return nil, fmt.Errorf("evidence: key entry %d is not valid base64", n)
		}
		raw = append(raw, b)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("evidence: reading keys: %w", err)
	}
	return NewKeys(raw...)
}

// LoadKeys reads keys from keyFile when it is set, else from the
// EMPOWERHER_EVIDENCE_KEY environment variable.
func LoadKeys(keyFile string) (*Keys, error) {
	if keyFile != "" {
		b, err := os.ReadFile(keyFile)
		if err != nil {
			return nil, fmt.Errorf("evidence: key file: %w", err)
		}
		return ParseKeys(string(b))
	}
	v, ok := os.LookupEnv(KeyEnv)
	if !ok || strings.TrimSpace(v) == "" {
		return nil, ErrNoKey
	}
	return ParseKeys(v)
}

// GenerateKey returns a new random key in the base64 form LoadKeys reads.
func GenerateKey() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("evidence: generating key: %w", err)
	}
	return base64.StdEncoding.EncodeToString(b), nil
}

func (k *Keys) seal(name string, plaintext []byte) ([]byte, error) {
	out := make([]byte, headerLen, headerLen+len(plaintext)+gcmOverhead)
	copy(out, magic)
	out[len(magic)] = formatV1
	copy(out[len(magic)+1:], k.current[:])
	nonce := out[len(magic)+1+keyIDLen : headerLen]
	// A random 96-bit nonce per object: objects are few (clips, labels),
	// far below the ~2^32 messages per key where random nonces get risky.
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("evidence: nonce: %w", err)
	}
	return k.aeads[k.current].Seal(out, nonce, plaintext, aad(out[:headerLen], name)), nil
}

func (k *Keys) open(name string, obj []byte) ([]byte, error) {
	if len(obj) < headerLen+gcmOverhead || string(obj[:len(magic)]) != magic {
		return nil, fmt.Errorf("%w: %s", ErrBadFormat, name)
	}
	if obj[len(magic)] != formatV1 {
		return nil, fmt.Errorf("%w: %s has format version %d", ErrBadFormat, name, obj[len(magic)])
	}
	var id [keyIDLen]byte
	copy(id[:], obj[len(magic)+1:])
	aead, ok := k.aeads[id]
	if !ok {
		return nil, fmt.Errorf("%w: %s needs key id %x", ErrUnknownKey, name, id)
	}
	header := obj[:headerLen]
	nonce := header[len(magic)+1+keyIDLen:]
	pt, err := aead.Open(nil, nonce, obj[headerLen:], aad(header, name))
	if err != nil {
		return nil, fmt.Errorf("%w: %s", ErrTampered, name)
	}
	return pt, nil
}

func aad(header []byte, name string) []byte {
	var b bytes.Buffer
	b.Grow(len(header) + len(name))
	b.Write(header)
	b.WriteString(name)
	return b.Bytes()
}
