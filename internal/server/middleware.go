package server

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"
	"time"
)

type ctxKey int

const (
	keyRequestID ctxKey = iota
	keyUser
)

func requestID(ctx context.Context) string {
	id, _ := ctx.Value(keyRequestID).(string)
	return id
}

// validRequestID accepts a caller's X-Request-ID only when it is short and
// plain, so it can go into logs and headers without escaping.
func validRequestID(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// requestDeadline bounds reading and writing one ordinary request. It is
// set per request rather than as http.Server's ReadTimeout/WriteTimeout,
// because those would also cut WebSocket streams (live listening) after
// the upgrade; an upgrade request gets no deadline here and its handler
// bounds the stream itself.
const requestDeadline = 2 * time.Minute

func (s *Server) withRequestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
			rc := http.NewResponseController(w)
			_ = rc.SetReadDeadline(time.Now().Add(requestDeadline)) // unsupported writers (tests) are fine without
			_ = rc.SetWriteDeadline(time.Now().Add(requestDeadline))
		}
		id := r.Header.Get("X-Request-ID")
		if !validRequestID(id) {
			var b [8]byte
			_, _ = rand.Read(b[:])
			id = hex.EncodeToString(b[:])
		}
		w.Header().Set("X-Request-ID", id)
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), keyRequestID, id)))
	})
}

// withRecover turns a handler panic into a 500: no input may take the
// server down.
func (s *Server) withRecover(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.logger(r).Error("panic in handler", "panic", v, "path", r.URL.Path)
				s.writeError(w, r, newError(http.StatusInternalServerError, CodeInternal, "internal error; it has been logged"))
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// statusWriter remembers the status and size of a response.
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController (and websocket upgrades) reach the
// underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (s *Server) withLogAndMetrics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		if sw.status == 0 {
			sw.status = http.StatusOK
		}
		route := r.Pattern // set by ServeMux on this very request
		if route == "" {
			route = "unmatched"
		}
		took := time.Since(start)
		s.metrics.request(route, sw.status, took)
		lvl := s.log.Info
		if r.URL.Path == "/healthz" || r.URL.Path == "/readyz" || r.URL.Path == "/metrics" {
			lvl = s.log.Debug
		}
		// The path is logged as the route pattern: a link token in
		// /r/{token} is a credential and must not land in logs.
		lvl("http request", "request_id", requestID(r.Context()), "method", r.Method, "route", route,
			"status", sw.status, "bytes", sw.bytes, "took_ms", float64(took.Microseconds())/1000)
	})
}

// withCORS is closed by default: without an allow-list no cross-origin
// response carries Access-Control-Allow-Origin, so browsers keep other
// sites' pages out. Allowed origins get credentials-free CORS for the API.
func (s *Server) withCORS(next http.Handler) http.Handler {
	allowed := map[string]bool{}
	for _, o := range s.opt.CORSOrigins {
		allowed[strings.TrimRight(o, "/")] = true
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		if origin == "" {
			next.ServeHTTP(w, r)
			return
		}
		w.Header().Add("Vary", "Origin")
		ok := allowed[origin]
		preflight := r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != ""
		if ok {
			w.Header().Set("Access-Control-Allow-Origin", origin)
			w.Header().Set("Access-Control-Expose-Headers", "X-Request-ID, Retry-After")
		}
		if preflight {
			if ok {
				w.Header().Set("Access-Control-Allow-Methods", "GET, POST, PUT, DELETE")
				w.Header().Set("Access-Control-Allow-Headers", "Authorization, Content-Type, X-Request-ID, X-CSRF-Token")
				w.Header().Set("Access-Control-Max-Age", "600")
				w.WriteHeader(http.StatusNoContent)
				return
			}
			s.writeError(w, r, newError(http.StatusForbidden, CodeForbidden, "cross-origin requests from this origin are not allowed"))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// bufferWriter captures what ServeMux's own 404/405 handler writes.
type bufferWriter struct {
	h      http.Header
	status int
	buf    bytes.Buffer
}

func (b *bufferWriter) Header() http.Header         { return b.h }
func (b *bufferWriter) WriteHeader(code int)        { b.status = code }
func (b *bufferWriter) Write(p []byte) (int, error) { return b.buf.Write(p) }

// jsonNotFound makes ServeMux's plain-text 404 and 405 answers JSON like
// every other error.
func jsonNotFound(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h, pattern := mux.Handler(r)
		if pattern != "" {
			mux.ServeHTTP(w, r)
			return
		}
		bw := &bufferWriter{h: http.Header{}}
		h.ServeHTTP(bw, r)
		if allow := bw.h.Get("Allow"); allow != "" {
			w.Header().Set("Allow", allow)
		}
		status := bw.status
		if status == 0 {
			status = http.StatusOK
		}
		var body errorBody
		body.Error.RequestID = requestID(r.Context())
		switch status {
		case http.StatusMethodNotAllowed:
			body.Error.Code, body.Error.Message = CodeMethodNotAllowed, "method not allowed; allowed: "+bw.h.Get("Allow")
		case http.StatusNotFound:
			body.Error.Code, body.Error.Message = CodeNotFound, "no such route"
		default:
			// A redirect (path cleaning) or similar: pass it on as is.
			for k, v := range bw.h {
				w.Header()[k] = v
			}
			w.WriteHeader(status)
			_, _ = w.Write(bw.buf.Bytes())
			return
		}
		writeJSON(w, status, body)
	})
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
