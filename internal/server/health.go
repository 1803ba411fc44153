package server

import (
	"context"
	"crypto/subtle"
	"net/http"
	"strings"
	"time"
)

func (s *Server) handleHealthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (s *Server) handleReadyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := s.st.Ping(ctx); err != nil {
		s.logger(r).Error("readiness: store ping failed", "err", err)
		s.writeError(w, r, newError(http.StatusServiceUnavailable, CodeUnavailable, "the database is not answering"))
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}

func (s *Server) handleMetrics(w http.ResponseWriter, r *http.Request) {
	if tok := s.opt.MetricsToken; tok != "" {
		got := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		if subtle.ConstantTimeCompare([]byte(got), []byte(tok)) != 1 {
			s.writeError(w, r, errUnauthorized)
			return
		}
	}
	s.metrics.handler().ServeHTTP(w, r)
}

func (s *Server) handleMe(w http.ResponseWriter, r *http.Request) {
	u := userFrom(r)
	v := uView(u)
	v.CreatedAt = v.CreatedAt.UTC()
	writeJSON(w, http.StatusOK, v)
}
