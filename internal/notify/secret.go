package notify

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// maxSecretFile bounds a secret file: a token is tens of bytes, and a
// mistyped path to a large file must not be read into memory.
const maxSecretFile = 64 << 10

// LoadSecret returns a secret given either directly (value, from an
// environment variable such as EMPOWERHER_TWILIO_AUTH_TOKEN) or as a file
// path (file, from EMPOWERHER_TWILIO_AUTH_TOKEN_FILE, e.g. a mounted
// Kubernetes or Docker secret). Setting both is an error; the file's
// trailing newline is dropped. name is used in error messages only.
func LoadSecret(name, value, file string) (string, error) {
	if value != "" && file != "" {
		return "", fmt.Errorf("notify: %s and %s_FILE are both set; use one", name, name)
	}
	if file == "" {
		return value, nil
	}
	f, err := os.Open(file)
	if err != nil {
		return "", fmt.Errorf("notify: %s_FILE: %w", name, err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxSecretFile+1))
	if err != nil {
		return "", fmt.Errorf("notify: %s_FILE: %w", name, err)
	}
	if len(b) > maxSecretFile {
		return "", fmt.Errorf("notify: %s_FILE %s is larger than %d bytes; is it the right file?", name, file, maxSecretFile)
	}
	s := strings.TrimRight(string(b), "\r\n")
	if s == "" {
		return "", errors.New("notify: " + name + "_FILE " + file + " is empty")
	}
	return s, nil
}
