package model

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
)

// maxFileBytes bounds what Decode reads: the embedded model is a few
// hundred kilobytes, so anything far larger is not a model of ours.
const maxFileBytes = 64 << 20

// fileFormat is the on-disk shape: gzip-compressed JSON, written
// deterministically so the same training gives the same bytes.
type fileFormat struct {
	Format string `json:"format"`
	*Model
}

const formatName = "empowerher-model/1"

// Encode writes m and sets m.Version to the hash of its content.
func (m *Model) Encode(w io.Writer) error {
	m.Version = ""
	body, err := json.Marshal(fileFormat{Format: formatName, Model: m})
	if err != nil {
		return fmt.Errorf("model: encode: %w", err)
	}
	m.Version = versionOf(body)
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if _, err := zw.Write(body); err != nil {
		return fmt.Errorf("model: encode: %w", err)
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("model: encode: %w", err)
	}
	_, err = w.Write(buf.Bytes())
	return err
}

// Decode reads a model written by Encode.
func Decode(r io.Reader) (*Model, error) {
	zr, err := gzip.NewReader(io.LimitReader(r, maxFileBytes))
	if err != nil {
		return nil, fmt.Errorf("model: not a model file: %w", err)
	}
	body, err := io.ReadAll(io.LimitReader(zr, maxFileBytes+1))
	if err != nil {
		return nil, fmt.Errorf("model: read: %w", err)
	}
	if len(body) > maxFileBytes {
		return nil, fmt.Errorf("model: file too large")
	}
	var f fileFormat
	f.Model = new(Model)
	if err := json.Unmarshal(body, &f); err != nil {
		return nil, fmt.Errorf("model: not a model file: %w", err)
	}
	if f.Format != formatName {
		return nil, fmt.Errorf("model: unknown format %q (want %q)", f.Format, formatName)
	}
	m := f.Model
	if err := m.validate(); err != nil {
		return nil, err
	}
	// The version is the hash of what was hashed when encoding: the JSON
	// with an empty Version.
	m.Version = ""
	canon, err := json.Marshal(fileFormat{Format: formatName, Model: m})
	if err != nil {
		return nil, fmt.Errorf("model: %w", err)
	}
	m.Version = versionOf(canon)
	return m, nil
}

func versionOf(body []byte) string {
	h := sha256.Sum256(body)
	return "eh-" + hex.EncodeToString(h[:6])
}
