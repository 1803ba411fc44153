package store

import (
	"crypto/rand"
	"encoding/base64"
)

// NewID returns a random, URL-safe identifier carrying 128 bits of
// entropy, used for incident ids and default idempotency keys: guessing one
// is as hard as guessing a link token, so an id alone never grants access.
func NewID() string {
	var b [16]byte
	// crypto/rand.Read never returns an error on supported platforms
	// (it panics rather than hand out predictable bytes).
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}
