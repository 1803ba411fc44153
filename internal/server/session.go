package server

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"

	"github.com/empowerher/empowerher/internal/incident"
	"github.com/empowerher/empowerher/internal/store"
)

// DefaultSessionTTL is how long a web sign-in lasts.
const DefaultSessionTTL = 30 * 24 * time.Hour

// Password hashing: argon2id with OWASP's minimum memory setting (19 MiB,
// 2 passes), so a burst of sign-ins cannot exhaust memory while a stolen
// database stays expensive to crack. Parameters are stored in the hash so
// they can be raised later without invalidating old passwords.
const (
	argonTime    = 2
	argonMemory  = 19 * 1024 // KiB
	argonThreads = 1
	argonKeyLen  = 32
	minPassword  = 8
	maxPassword  = 256
)

func hashPassword(pw string) []byte {
	salt := make([]byte, 16)
	_, _ = rand.Read(salt)
	key := argon2.IDKey([]byte(pw), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	enc := base64.RawStdEncoding
	return []byte("argon2id$" + strconv.Itoa(argonTime) + "$" + strconv.Itoa(argonMemory) + "$" +
		strconv.Itoa(argonThreads) + "$" + enc.EncodeToString(salt) + "$" + enc.EncodeToString(key))
}

// checkPassword compares in constant time. A malformed or empty stored
// hash (an account made by `empowerher user add`, which has only API
// tokens) never matches.
func checkPassword(stored []byte, pw string) bool {
	parts := strings.Split(string(stored), "$")
	if len(parts) != 6 || parts[0] != "argon2id" {
		return false
	}
	t, err1 := strconv.ParseUint(parts[1], 10, 32)
	m, err2 := strconv.ParseUint(parts[2], 10, 32)
	p, err3 := strconv.ParseUint(parts[3], 10, 8)
	salt, err4 := base64.RawStdEncoding.DecodeString(parts[4])
	want, err5 := base64.RawStdEncoding.DecodeString(parts[5])
	if err := errors.Join(err1, err2, err3, err4, err5); err != nil || t == 0 || t > 10 || m > 64*1024 || p == 0 || len(want) != argonKeyLen {
		return false
	}
	got := argon2.IDKey([]byte(pw), salt, uint32(t), uint32(m), uint8(p), argonKeyLen)
	return subtle.ConstantTimeCompare(got, want) == 1
}

// dummyHash makes a sign-in for an unknown name cost what a known one
// costs, so timing does not reveal which names exist. It is made on the
// first sign-in, not at start-up: Argon2id's 19 MiB would otherwise stay
// in the idle server's RSS.
var dummyHash = sync.OnceValue(func() []byte { return hashPassword("not-a-real-password") })

type credentials struct {
	Name        string `json:"name"`
	DisplayName string `json:"display_name"`
	Password    string `json:"password"`
}

type sessionView struct {
	User userView `json:"user"`
	// CSRF must be sent back in X-CSRF-Token on every state-changing
	// request that the session cookie authenticates.
	CSRF string `json:"csrf_token"`
}

func uView(u *store.User) userView {
	return userView{ID: u.ID, Name: u.Name, DisplayName: u.DisplayName, CreatedAt: u.CreatedAt, EvidenceConsent: u.EvidenceConsent}
}

// sameOrigin refuses cookie-setting requests sent by other sites' pages
// (login CSRF). Clients that are not browsers send no Origin and pass.
func (s *Server) sameOrigin(r *http.Request) bool {
	if r.Header.Get("Sec-Fetch-Site") == "cross-site" {
		return false
	}
	o := r.Header.Get("Origin")
	if o == "" {
		return true
	}
	u, err := url.Parse(o)
	if err != nil {
		return false
	}
	if strings.EqualFold(u.Host, r.Host) {
		return true
	}
	for _, allowed := range s.opt.CORSOrigins {
		if strings.EqualFold(strings.TrimRight(allowed, "/"), o) {
			return true
		}
	}
	return false
}

var errCrossSite = newError(http.StatusForbidden, CodeForbidden, "sign-in from another site's page is not allowed")

func validName(n string) bool {
	if len(n) < 2 || len(n) > 64 {
		return false
	}
	for _, c := range n {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

func (s *Server) handleSignUp(w http.ResponseWriter, r *http.Request) {
	if !s.sameOrigin(r) {
		s.writeError(w, r, errCrossSite)
		return
	}
	var req credentials
	if err := decodeJSON(w, r, &req, false); err != nil {
		s.writeError(w, r, err)
		return
	}
	req.Name = strings.ToLower(strings.TrimSpace(req.Name))
	req.DisplayName = strings.TrimSpace(req.DisplayName)
	switch {
	case !validName(req.Name):
		s.writeError(w, r, &apiError{Status: http.StatusBadRequest, Code: CodeInvalidField, Field: "name",
			Message: "the user name needs 2 to 64 characters: lower-case letters, digits, '.', '_' or '-'"})
		return
	case utf8.RuneCountInString(req.Password) < minPassword || len(req.Password) > maxPassword:
		s.writeError(w, r, &apiError{Status: http.StatusBadRequest, Code: CodeInvalidField, Field: "password",
			Message: "the password needs at least 8 characters"})
		return
	case !utf8.ValidString(req.DisplayName) || utf8.RuneCountInString(req.DisplayName) > 64:
		s.writeError(w, r, &apiError{Status: http.StatusBadRequest, Code: CodeInvalidField, Field: "display_name",
			Message: "the display name must be at most 64 characters"})
		return
	}
	if req.DisplayName == "" {
		req.DisplayName = req.Name
	}
	u := &store.User{Name: req.Name, DisplayName: req.DisplayName}
	if err := s.st.CreateUser(r.Context(), u, hashPassword(req.Password)); err != nil {
		if errors.Is(err, store.ErrConflict) {
			s.writeError(w, r, &apiError{Status: http.StatusConflict, Code: CodeConflict, Field: "name", Message: "this user name is taken"})
			return
		}
		s.writeError(w, r, err)
		return
	}
	s.startSession(w, r, u, http.StatusCreated)
}

func (s *Server) handleSignIn(w http.ResponseWriter, r *http.Request) {
	if !s.sameOrigin(r) {
		s.writeError(w, r, errCrossSite)
		return
	}
	var req credentials
	if err := decodeJSON(w, r, &req, false); err != nil {
		s.writeError(w, r, err)
		return
	}
	if len(req.Password) > maxPassword || len(req.Name) > 64 {
		s.writeError(w, r, newError(http.StatusUnauthorized, CodeUnauthorized, "wrong user name or password"))
		return
	}
	u, hash, err := s.st.UserByName(r.Context(), strings.ToLower(strings.TrimSpace(req.Name)))
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		s.writeError(w, r, err)
		return
	}
	if u == nil {
		hash = dummyHash()
	}
	if !checkPassword(hash, req.Password) || u == nil {
		s.writeError(w, r, newError(http.StatusUnauthorized, CodeUnauthorized, "wrong user name or password"))
		return
	}
	s.startSession(w, r, u, http.StatusOK)
}

func (s *Server) startSession(w http.ResponseWriter, r *http.Request, u *store.User, status int) {
	token, csrf := randomToken(), randomToken()
	ttl := s.opt.Web.SessionTTL
	if ttl <= 0 {
		ttl = DefaultSessionTTL
	}
	exp := s.opt.Now().Add(ttl)
	if err := s.st.CreateSession(context.WithoutCancel(r.Context()), &store.Session{
		TokenHash: incident.HashToken(token), UserID: u.ID, CSRF: csrf, ExpiresAt: exp,
	}); err != nil {
		s.writeError(w, r, err)
		return
	}
	http.SetCookie(w, &http.Cookie{
		Name: SessionCookie, Value: token, Path: "/", Expires: exp, MaxAge: int(ttl.Seconds()),
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: s.secureRequest(r),
	})
	writeJSON(w, status, sessionView{User: uView(u), CSRF: csrf})
}

// secureRequest says whether the browser reached us over TLS, directly or
// through a trusted proxy; cookies are then marked Secure.
func (s *Server) secureRequest(r *http.Request) bool {
	if s.opt.Web.SecureCookies || r.TLS != nil {
		return true
	}
	return s.opt.TrustProxy && strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https")
}

func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// handleSession returns the signed-in user and the CSRF token the page
// needs after a reload. Only a session cookie has one.
func (s *Server) handleSession(w http.ResponseWriter, r *http.Request) {
	c, err := r.Cookie(SessionCookie)
	if err != nil || userFrom(r) == nil {
		s.writeError(w, r, errUnauthorized)
		return
	}
	sess, err := s.st.SessionByToken(r.Context(), incident.HashToken(c.Value))
	if err != nil {
		s.writeError(w, r, errUnauthorized)
		return
	}
	writeJSON(w, http.StatusOK, sessionView{User: uView(userFrom(r)), CSRF: sess.CSRF})
}

func (s *Server) handleSignOut(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(SessionCookie); err == nil && c.Value != "" && len(c.Value) <= 256 {
		if err := s.st.DeleteSession(r.Context(), incident.HashToken(c.Value)); err != nil && !errors.Is(err, store.ErrNotFound) {
			s.writeError(w, r, err)
			return
		}
	}
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: s.secureRequest(r)})
	w.WriteHeader(http.StatusNoContent)
}
