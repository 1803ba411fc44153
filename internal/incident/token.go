package incident

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strconv"
)

// Links derives the token in each contact's link from a server secret:
// token = HMAC-SHA256(secret, incident id, contact id). Only the token's
// SHA-256 is stored (store.Recipient.TokenHash), yet any instance holding
// the secret can render the same link again in an escalation or a
// "she is safe" message without keeping the token anywhere in clear.
type Links struct {
	secret  []byte
	baseURL string // no trailing slash
}

// NewLinks returns a Links for secret (at least 32 bytes) and the public
// base URL of the server ("https://help.example.org").
func NewLinks(secret []byte, baseURL string) Links {
	for len(baseURL) > 0 && baseURL[len(baseURL)-1] == '/' {
		baseURL = baseURL[:len(baseURL)-1]
	}
	return Links{secret: append([]byte(nil), secret...), baseURL: baseURL}
}

// Token is the 256-bit link token for one contact of one incident.
func (l Links) Token(incidentID string, contactID int64) string {
	m := hmac.New(sha256.New, l.secret)
	m.Write([]byte("empowerher link v1\x00"))
	m.Write([]byte(incidentID))
	m.Write([]byte{0})
	m.Write([]byte(strconv.FormatInt(contactID, 10)))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// URL is the contact's link page.
func (l Links) URL(token string) string { return l.baseURL + "/r/" + token }

// HashToken is what the store keeps of a link or API token.
func HashToken(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}
