package server

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"net/http"
	"os"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/empowerher/empowerher/internal/detect"
	"github.com/empowerher/empowerher/internal/model"
	"github.com/empowerher/empowerher/web"
)

// WebOptions configure the browser app and live listening.
type WebOptions struct {
	// WasmDir, when set, serves detector.wasm and wasm_exec.js from this
	// directory instead of the embedded copies (`make wasm` output).
	WasmDir string
	// SecureCookies marks the session cookie Secure even when the server
	// cannot see TLS (a proxy that sets no X-Forwarded-Proto).
	SecureCookies bool
	SessionTTL    time.Duration
	Live          LiveOptions
}

// pageCSP lets the app run only its own scripts (and WebAssembly), talk
// only to this server, and never be framed.
const pageCSP = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; worker-src 'self'; connect-src 'self'; " +
	"img-src 'self' data:; style-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// webState is the Server's state for the app and live listening; its
// zero value is ready to use.
type webState struct {
	static    staticFiles
	modelOnce sync.Once
	modelFile *staticFile
	live      liveHub

	metricsOnce sync.Once
	detections  prometheus.Counter
}

// staticFile is one served file, with its gzip form for compressible ones.
type staticFile struct {
	body, gz []byte
	etag     string
	ctype    string
}

type staticFiles struct {
	mu    sync.Mutex
	files map[string]*staticFile
}

var contentTypes = map[string]string{
	".html": "text/html; charset=utf-8", ".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8",
	".wasm": "application/wasm", ".svg": "image/svg+xml", ".json": "application/json", ".png": "image/png",
	".model": "application/octet-stream", ".webmanifest": "application/manifest+json",
}

func (s *Server) webFile(name string) (*staticFile, error) {
	s.web.static.mu.Lock()
	f := s.web.static.files[name]
	s.web.static.mu.Unlock()
	if f != nil {
		return f, nil
	}
	// Read and compress outside the lock: the 4 MB detector must not hold
	// up the page's small files.
	var b []byte
	var err error
	if (name == "detector.wasm" || name == "wasm_exec.js") && s.opt.Web.WasmDir != "" {
		b, err = os.ReadFile(path.Join(s.opt.Web.WasmDir, name))
	} else {
		b, err = fs.ReadFile(web.FS(), name)
	}
	if err != nil {
		return nil, err
	}
	f = newStaticFile(b, contentTypes[path.Ext(name)])
	s.web.static.mu.Lock()
	defer s.web.static.mu.Unlock()
	if s.web.static.files == nil {
		s.web.static.files = map[string]*staticFile{}
	}
	if old := s.web.static.files[name]; old != nil {
		return old, nil
	}
	s.web.static.files[name] = f
	return f, nil
}

func newStaticFile(b []byte, ctype string) *staticFile {
	sum := sha256.Sum256(b)
	f := &staticFile{body: b, etag: `"` + hex.EncodeToString(sum[:12]) + `"`, ctype: ctype}
	if ctype == "" {
		f.ctype = "application/octet-stream"
	}
	if !strings.HasPrefix(f.ctype, "image/png") && len(b) > 512 {
		var buf bytes.Buffer
		level := gzip.BestCompression
		if len(b) > 1<<20 {
			level = gzip.DefaultCompression // the wasm: seconds saved, a few % lost
		}
		zw, _ := gzip.NewWriterLevel(&buf, level)
		_, _ = zw.Write(b)
		_ = zw.Close()
		if buf.Len() < len(b) {
			f.gz = buf.Bytes()
		}
	}
	return f
}

func (f *staticFile) serve(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Type", f.ctype)
	h.Set("X-Content-Type-Options", "nosniff")
	// Revalidate every time: the ETag makes that a 304, and a new release
	// is never mixed with cached old modules.
	h.Set("Cache-Control", "no-cache")
	h.Set("ETag", f.etag)
	h.Set("Vary", "Accept-Encoding")
	if match := r.Header.Get("If-None-Match"); match != "" && strings.Contains(match, f.etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	body := f.body
	if f.gz != nil && strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
		h.Set("Content-Encoding", "gzip")
		body = f.gz
	}
	h.Set("Content-Length", itoa(int64(len(body))))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
}

func setPageHeaders(h http.Header) {
	h.Set("Content-Security-Policy", pageCSP)
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	// The page asks for the microphone and location itself; nothing it
	// embeds may.
	h.Set("Permissions-Policy", "microphone=(self), geolocation=(self), camera=()")
}

// handlePage serves the app's single HTML page; its views are fragments.
func (s *Server) handlePage(w http.ResponseWriter, r *http.Request) {
	f, err := s.webFile("index.html")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	setPageHeaders(w.Header())
	f.serve(w, r)
}

// handleAsset serves the app's CSS, JavaScript and WebAssembly.
func (s *Server) handleAsset(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("file")
	if name == "" || strings.Contains(name, "/") || strings.HasPrefix(name, ".") || name == "index.html" {
		s.writeError(w, r, newError(http.StatusNotFound, CodeNotFound, "not found"))
		return
	}
	f, err := s.webFile(name)
	if err != nil {
		s.writeError(w, r, newError(http.StatusNotFound, CodeNotFound, "not found"))
		return
	}
	setPageHeaders(w.Header())
	f.serve(w, r)
}

// modelProvider is a detector whose model can be handed to the page.
type modelProvider interface{ Model() *model.Model }

// streamDetector is what live listening needs of internal/detect.
type streamDetector interface {
	NewStream(cfg detect.StreamConfig) *detect.Stream
}

// handleModel serves the model the server itself uses, so on-device
// detection (private mode) and the server give the same answers.
func (s *Server) handleModel(w http.ResponseWriter, r *http.Request) {
	mp, ok := s.opt.Detector.(modelProvider)
	if !ok || mp.Model() == nil {
		s.writeError(w, r, newError(http.StatusServiceUnavailable, CodeUnavailable, "this server has no detector model"))
		return
	}
	s.web.modelOnce.Do(func() {
		var buf bytes.Buffer
		if err := mp.Model().Encode(&buf); err == nil {
			s.web.modelFile = newStaticFile(buf.Bytes(), "application/octet-stream")
		}
	})
	if s.web.modelFile == nil {
		s.writeError(w, r, newError(http.StatusServiceUnavailable, CodeUnavailable, "the model could not be encoded"))
		return
	}
	s.web.modelFile.serve(w, r)
}

// handleListDeliveries lists the user's newest messages of any kind, so
// the contacts page can show whether each contact's channel works.
func (s *Server) handleListDeliveries(w http.ResponseWriter, r *http.Request) {
	ds, err := s.st.ListDeliveries(r.Context(), userFrom(r).ID, "")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"deliveries": delViews(ds)})
}
