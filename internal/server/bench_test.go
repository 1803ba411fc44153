package server

import (
	"net/http"
	"strconv"
	"testing"
)

// BenchmarkAlert is POST /alert (manual, one webhook contact) through the
// whole handler on a real SQLite store; each iteration is a new user so
// every alert creates an incident. The worker is not running.
func BenchmarkAlert(b *testing.B) {
	e := newEnv(&testing.T{})
	toks := make([]string, b.N)
	for i := range toks {
		_, toks[i] = e.user("bench" + strconv.Itoa(i))
		e.contact(toks[i], map[string]any{"name": "Peer", "webhook_url": "http://127.0.0.1:9/hook"})
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		resp, _ := e.do("POST", "/alert", toks[i], map[string]any{"trigger": "manual", "location": map[string]any{"lat": 1, "lon": 2}})
		if resp.StatusCode != http.StatusCreated {
			b.Fatal(resp.StatusCode)
		}
	}
}
