package server

import (
	"context"
	"crypto/subtle"
	"errors"
	"net"
	"net/http"
	"strings"

	"github.com/empowerher/empowerher/internal/incident"
	"github.com/empowerher/empowerher/internal/store"
)

// SessionCookie is the web app's session cookie. The API also accepts
// "Authorization: Bearer TOKEN"; a cookie-authenticated request that
// changes anything must carry the session's CSRF token in X-CSRF-Token.
const SessionCookie = "empowerher_session"

// HeaderCSRF carries the session's CSRF token on unsafe requests.
const HeaderCSRF = "X-CSRF-Token"

var errUnauthorized = newError(http.StatusUnauthorized, CodeUnauthorized, "missing or invalid credentials: send Authorization: Bearer TOKEN")

func userFrom(r *http.Request) *store.User {
	u, _ := r.Context().Value(keyUser).(*store.User)
	return u
}

func withUser(r *http.Request, u *store.User) *http.Request {
	return r.WithContext(context.WithValue(r.Context(), keyUser, u))
}

// authenticate finds the user behind a request's credentials: nil, nil
// when there are none; errUnauthorized when they are wrong.
func (s *Server) authenticate(r *http.Request) (*store.User, error) {
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, token, ok := strings.Cut(h, " ")
		token = strings.TrimSpace(token)
		if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" || len(token) > 256 {
			return nil, errUnauthorized
		}
		u, err := s.st.UserByToken(r.Context(), incident.HashToken(token))
		if errors.Is(err, store.ErrNotFound) {
			return nil, errUnauthorized
		}
		return u, err
	}
	c, err := r.Cookie(SessionCookie)
	if err != nil || c.Value == "" {
		return nil, nil
	}
	if len(c.Value) > 256 {
		return nil, errUnauthorized
	}
	sess, err := s.st.SessionByToken(r.Context(), incident.HashToken(c.Value))
	if errors.Is(err, store.ErrNotFound) {
		return nil, errUnauthorized
	}
	if err != nil {
		return nil, err
	}
	if !sess.ExpiresAt.IsZero() && !s.opt.Now().Before(sess.ExpiresAt) {
		return nil, errUnauthorized
	}
	if !safeMethod(r.Method) {
		got := r.Header.Get(HeaderCSRF)
		if got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(sess.CSRF)) != 1 {
			return nil, newError(http.StatusForbidden, CodeForbidden, "missing or wrong CSRF token")
		}
	}
	u, err := s.st.UserByID(r.Context(), sess.UserID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, errUnauthorized
	}
	return u, err
}

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

// clientIP is the rate-limit key for anonymous requests.
func (s *Server) clientIP(r *http.Request) string {
	if s.opt.TrustProxy {
		if xff := r.Header.Get("X-Forwarded-For"); xff != "" {
			// The proxy appends the address it saw; earlier entries are
			// whatever the client claimed.
			parts := strings.Split(xff, ",")
			if ip := strings.TrimSpace(parts[len(parts)-1]); net.ParseIP(ip) != nil {
				return ip
			}
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// wrapRoute applies a route's access rule and rate limit.
func (s *Server) wrapRoute(rt route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if rt.Access != public {
			u, err := s.authenticate(r)
			if err != nil {
				s.writeError(w, r, err)
				return
			}
			if u == nil && rt.Access == user {
				s.writeError(w, r, errUnauthorized)
				return
			}
			if u != nil {
				r = withUser(r, u)
			}
		}
		if l := s.limiters[rt.Limit]; l != nil {
			key := "ip:" + s.clientIP(r)
			if u := userFrom(r); u != nil {
				key = "user:" + itoa(u.ID)
			}
			if ok, wait := l.allow(key); !ok {
				w.Header().Set("Retry-After", itoa(int64(wait.Seconds()+0.999)))
				s.writeError(w, r, newError(http.StatusTooManyRequests, CodeRateLimited, "too many requests; try again later"))
				return
			}
		}
		rt.Handle(s, w, r)
	})
}
