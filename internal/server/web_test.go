package server

import (
	"encoding/json"
	"io"
	"io/fs"
	"net/http"
	"net/http/cookiejar"
	"strings"
	"testing"

	"github.com/empowerher/empowerher/internal/incident"
	"github.com/empowerher/empowerher/web"
)

// browserClient is an HTTP client with a cookie jar, as a browser is.
type browserClient struct {
	t    *testing.T
	base string
	c    *http.Client
	csrf string
}

func newBrowser(t *testing.T, e *env) *browserClient {
	jar, _ := cookiejar.New(nil)
	return &browserClient{t: t, base: e.ts.URL, c: &http.Client{Jar: jar}}
}

func (b *browserClient) do(method, path, body string, hdr ...string) (*http.Response, []byte) {
	b.t.Helper()
	req, err := http.NewRequest(method, b.base+path, strings.NewReader(body))
	if err != nil {
		b.t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Origin", b.base)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp, out
}

func TestWebSignUpSessionCookieAndCSRF(t *testing.T) {
	e := newEnv(t)
	b := newBrowser(t, e)
	resp, out := b.do("POST", "/signup", `{"name":"Asha","display_name":"Asha K","password":"correct horse"}`)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("signup: %d %s", resp.StatusCode, out)
	}
	var sv sessionView
	if err := json.Unmarshal(out, &sv); err != nil || sv.CSRF == "" || sv.User.Name != "asha" || sv.User.DisplayName != "Asha K" {
		t.Fatalf("signup answer %s", out)
	}
	sc := resp.Header.Get("Set-Cookie")
	for _, want := range []string{SessionCookie + "=", "HttpOnly", "SameSite=Lax", "Path=/"} {
		if !strings.Contains(sc, want) {
			t.Errorf("cookie %q lacks %s", sc, want)
		}
	}
	if strings.Contains(sc, "Secure") {
		t.Errorf("plain-HTTP cookie marked Secure: %q", sc)
	}

	// The cookie authenticates reads; writes also need the CSRF token.
	if resp, out := b.do("GET", "/contacts", ""); resp.StatusCode != 200 {
		t.Fatalf("GET /contacts with the cookie: %d %s", resp.StatusCode, out)
	}
	contact := `{"name":"Bob","phone":"+447700900123"}`
	if resp, _ := b.do("POST", "/contacts", contact); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("POST without CSRF token: %d, want 403", resp.StatusCode)
	}
	if resp, _ := b.do("POST", "/contacts", contact, HeaderCSRF, "wrong"); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("POST with a wrong CSRF token: %d, want 403", resp.StatusCode)
	}
	if resp, out := b.do("POST", "/contacts", contact, HeaderCSRF, sv.CSRF); resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST with the CSRF token: %d %s", resp.StatusCode, out)
	}
	// After a reload the page gets the same token back.
	resp, out = b.do("GET", "/session", "")
	var again sessionView
	if resp.StatusCode != 200 || json.Unmarshal(out, &again) != nil || again.CSRF != sv.CSRF {
		t.Fatalf("GET /session: %d %s", resp.StatusCode, out)
	}

	// Sign out ends the session for good.
	if resp, _ := b.do("POST", "/signout", "", HeaderCSRF, sv.CSRF); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("signout: %d", resp.StatusCode)
	}
	if resp, _ := b.do("GET", "/session", ""); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("session after signout: %d", resp.StatusCode)
	}

	// Sign in again; wrong passwords and unknown names look the same.
	if resp, _ := b.do("POST", "/signin", `{"name":"asha","password":"wrong password"}`); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("wrong password: %d", resp.StatusCode)
	}
	if resp, _ := b.do("POST", "/signin", `{"name":"nobody","password":"correct horse"}`); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("unknown user: %d", resp.StatusCode)
	}
	if resp, out := b.do("POST", "/signin", `{"name":"asha","password":"correct horse"}`); resp.StatusCode != http.StatusOK {
		t.Fatalf("signin: %d %s", resp.StatusCode, out)
	}
	// A taken name, a short password.
	if resp, _ := b.do("POST", "/signup", `{"name":"asha","password":"another password"}`); resp.StatusCode != http.StatusConflict {
		t.Fatalf("duplicate name: %d", resp.StatusCode)
	}
	if resp, _ := b.do("POST", "/signup", `{"name":"mira","password":"short"}`); resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("short password: %d", resp.StatusCode)
	}
	// Another site's page cannot sign a visitor in (login CSRF).
	if resp, _ := b.do("POST", "/signin", `{"name":"asha","password":"correct horse"}`, "Origin", "https://evil.example"); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("cross-site signin: %d", resp.StatusCode)
	}
	// Bearer tokens keep working without any CSRF token.
	_, tok := e.user("api")
	e.must(http.StatusCreated, "POST", "/contacts", tok, map[string]any{"name": "Bob", "phone": "+447700900123"}, nil)
}

func TestWebSecureCookieBehindTLSProxy(t *testing.T) {
	e := newEnv(t, func(o *Options, _ *incident.Config, _ *incident.WorkerConfig) { o.TrustProxy = true })
	b := newBrowser(t, e)
	resp, _ := b.do("POST", "/signup", `{"name":"asha","password":"correct horse"}`, "X-Forwarded-Proto", "https")
	if sc := resp.Header.Get("Set-Cookie"); !strings.Contains(sc, "Secure") {
		t.Fatalf("cookie behind a TLS proxy not Secure: %q", sc)
	}
}

// The page and its assets stay small (targets: < 200 KB without the
// WebAssembly detector), are served with a strict CSP, and nothing but
// the app's own files can be fetched under /app/.
func TestWebPageWeightAndHeaders(t *testing.T) {
	e := newEnv(t)
	total := 0
	err := fs.WalkDir(web.FS(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || p == "detector.wasm" || p == "wasm_exec.js" {
			return err
		}
		path := "/app/" + p
		if p == "index.html" {
			path = "/"
		}
		resp, out := e.do("GET", path, "", nil)
		if resp.StatusCode != 200 {
			t.Errorf("GET %s: %d", path, resp.StatusCode)
		}
		if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") || !strings.Contains(csp, "frame-ancestors 'none'") {
			t.Errorf("GET %s: CSP %q", path, csp)
		}
		if strings.HasSuffix(p, ".js") && !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/javascript") {
			t.Errorf("GET %s: Content-Type %q", path, resp.Header.Get("Content-Type"))
		}
		total += len(out)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("page weight without the wasm detector: %d bytes", total)
	if total > 200_000 || total < 20_000 {
		t.Fatalf("page weight %d bytes", total)
	}
	for _, bad := range []string{"/app/index.html", "/app/.hidden", "/app/nope.js", "/app/..%2fweb.go"} {
		if resp, _ := e.do("GET", bad, "", nil); resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", bad, resp.StatusCode)
		}
	}
	// Revalidation is cheap.
	resp, _ := e.do("GET", "/app/app.js", "", nil)
	if resp2, _ := e.do("GET", "/app/app.js", "", nil, "If-None-Match", resp.Header.Get("ETag")); resp2.StatusCode != http.StatusNotModified {
		t.Fatalf("revalidation: %d", resp2.StatusCode)
	}
	// Private mode without a detector model: a clear 503.
	e.errCode(http.StatusServiceUnavailable, CodeUnavailable, "GET", "/app/model", "", nil)
}
