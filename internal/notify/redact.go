package notify

import (
	"encoding/base64"
	"net/url"
	"regexp"
	"sort"
	"strings"
)

// Redacted replaces every secret in error texts.
const Redacted = "[REDACTED]"

// Redactor removes configured secrets, and things that look like
// credentials, from text before it is logged, stored or returned.
type Redactor struct {
	secrets []string // longest first, so a secret containing another goes whole
}

// minSecretLen keeps very short "secrets" (a test value like "x") from
// turning every error text into confetti.
const minSecretLen = 4

// NewRedactor returns a Redactor for the given secrets. Each secret is also
// matched in its URL-query-escaped and base64 forms, and as part of a
// Basic-auth "user:secret" pair.
func NewRedactor(secrets ...string) *Redactor {
	r := &Redactor{}
	r.Add(secrets...)
	return r
}

// Add registers more secrets.
func (r *Redactor) Add(secrets ...string) {
	seen := make(map[string]bool, len(r.secrets))
	for _, s := range r.secrets {
		seen[s] = true
	}
	for _, s := range secrets {
		if len(s) < minSecretLen {
			continue
		}
		for _, form := range []string{s, url.QueryEscape(s), url.PathEscape(s),
			base64.StdEncoding.EncodeToString([]byte(s))} {
			if !seen[form] {
				seen[form] = true
				r.secrets = append(r.secrets, form)
			}
		}
	}
	sort.Slice(r.secrets, func(i, j int) bool { return len(r.secrets[i]) > len(r.secrets[j]) })
}

// Patterns that are credentials whatever was configured.
var redactPatterns = []struct {
	re   *regexp.Regexp
	repl string
}{
	// AWS access key ids.
	{regexp.MustCompile(`\b(AKIA|ASIA|AROA|AIDA)[A-Z0-9]{16}\b`), Redacted},
	// Authorization header values and SigV4 pieces.
	{regexp.MustCompile(`(?i)\b(authorization"?\s*[:=]\s*"?)(?:(?:basic|bearer|aws4-hmac-sha256)\s+)?[^\s,;"]+`), "${1}" + Redacted},
	{regexp.MustCompile(`(?i)((?:x-amz-signature|x-amz-credential|x-amz-security-token|signature|access_token|token|password|secret|auth_token)=)[^&\s"]+`), "${1}" + Redacted},
	// user:password@ in URLs.
	{regexp.MustCompile(`(://)[^/@\s:]+:[^/@\s]+@`), "${1}" + Redacted + "@"},
}

// Redact returns s with secrets replaced by [REDACTED].
func (r *Redactor) Redact(s string) string {
	if r != nil {
		for _, sec := range r.secrets {
			if strings.Contains(s, sec) {
				s = strings.ReplaceAll(s, sec, Redacted)
			}
		}
	}
	for _, p := range redactPatterns {
		s = p.re.ReplaceAllString(s, p.repl)
	}
	return s
}
