package server

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/empowerher/empowerher/internal/incident"
	"github.com/empowerher/empowerher/internal/store"
)

// Stable error codes. Clients switch on these; the messages may change.
const (
	CodeBadRequest       = "bad_request"
	CodeInvalidJSON      = "invalid_json"
	CodeInvalidField     = "invalid_field"
	CodeUnauthorized     = "unauthorized"
	CodeForbidden        = "forbidden"
	CodeNotFound         = "not_found"
	CodeMethodNotAllowed = "method_not_allowed"
	CodeConflict         = "conflict"
	CodeIncidentClosed   = "incident_closed"
	CodeTooLarge         = "payload_too_large"
	CodeUnsupportedMedia = "unsupported_media_type"
	CodeAudioUndecodable = "audio_undecodable"
	CodeAudioSilent      = "audio_silent"
	CodeRateLimited      = "rate_limited"
	CodeUnavailable      = "unavailable"
	CodeInternal         = "internal"
)

// apiError is an error with its HTTP status and stable code; its message
// is safe to show to the client.
type apiError struct {
	Status  int
	Code    string
	Message string
	Field   string
}

func (e *apiError) Error() string { return e.Code + ": " + e.Message }

func newError(status int, code, msg string) *apiError {
	return &apiError{Status: status, Code: code, Message: msg}
}

type errorBody struct {
	Error struct {
		Code      string `json:"code"`
		Message   string `json:"message"`
		Field     string `json:"field,omitempty"`
		RequestID string `json:"request_id,omitempty"`
	} `json:"error"`
}

// classify maps any error to what the client may see. Internal error text
// never leaves: unknown errors become "internal" and are logged in full.
func classify(err error) *apiError {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae
	}
	var ie *incident.InputError
	if errors.As(err, &ie) {
		return &apiError{Status: http.StatusBadRequest, Code: CodeInvalidField, Message: ie.Error(), Field: ie.Field}
	}
	switch {
	case errors.Is(err, store.ErrNotFound):
		return newError(http.StatusNotFound, CodeNotFound, "not found")
	case errors.Is(err, incident.ErrClosed):
		return newError(http.StatusConflict, CodeIncidentClosed, "the incident is not open")
	case errors.Is(err, store.ErrConflict):
		return newError(http.StatusConflict, CodeConflict, "the request conflicts with the current state; reload and try again")
	}
	return newError(http.StatusInternalServerError, CodeInternal, "internal error; it has been logged")
}

// writeError sends err as JSON, logging internal ones with the request.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	ae := classify(err)
	if ae.Status >= 500 {
		s.logger(r).Error("request failed", "err", err)
	}
	var body errorBody
	body.Error.Code, body.Error.Message, body.Error.Field = ae.Code, ae.Message, ae.Field
	body.Error.RequestID = requestID(r.Context())
	if ae.Status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="empowerher"`)
	}
	writeJSON(w, ae.Status, body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(true)
	_ = enc.Encode(v)
}
