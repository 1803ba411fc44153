package notify

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoadSecret(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "token")
	os.WriteFile(good, []byte("abc123secret\n"), 0o600)
	empty := filepath.Join(dir, "empty")
	os.WriteFile(empty, []byte("\n"), 0o600)
	big := filepath.Join(dir, "big")
	os.WriteFile(big, make([]byte, maxSecretFile+1), 0o600)

	if s, err := LoadSecret("EMPOWERHER_X", "direct", ""); err != nil || s != "direct" {
		t.Errorf("direct: %q, %v", s, err)
	}
	if s, err := LoadSecret("EMPOWERHER_X", "", good); err != nil || s != "abc123secret" {
		t.Errorf("file: %q, %v", s, err)
	}
	for name, args := range map[string][2]string{
		"both": {"v", good}, "missing": {"", filepath.Join(dir, "nope")}, "empty": {"", empty}, "big": {"", big},
	} {
		s, err := LoadSecret("EMPOWERHER_X", args[0], args[1])
		if err == nil || !strings.Contains(err.Error(), "EMPOWERHER_X") {
			t.Errorf("%s: %q, %v", name, s, err)
		}
	}
}
