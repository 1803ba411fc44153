package server

import (
	"errors"
	"net/http"

	"github.com/empowerher/empowerher/internal/notify"
	"github.com/empowerher/empowerher/internal/store"
)

// handleTwilioCallback records Twilio's delivery status callbacks. The
// X-Twilio-Signature covers the public URL Twilio called and the form, so
// it is checked against the configured callback URL (what Twilio was told),
// not against Host headers a client controls.
func (s *Server) handleTwilioCallback(w http.ResponseWriter, r *http.Request) {
	if s.opt.TwilioAuthToken == "" || s.opt.TwilioCallbackURL == "" {
		s.writeError(w, r, newError(http.StatusNotFound, CodeNotFound, "Twilio callbacks are not configured"))
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		s.writeError(w, r, newError(http.StatusBadRequest, CodeBadRequest, "malformed form body"))
		return
	}
	full := s.opt.TwilioCallbackURL
	if q := r.URL.RawQuery; q != "" {
		full += "?" + q
	}
	if !notify.VerifyTwilioSignature(s.opt.TwilioAuthToken, full, r.PostForm, r.Header.Get("X-Twilio-Signature")) {
		s.writeError(w, r, newError(http.StatusForbidden, CodeForbidden, "bad Twilio signature"))
		return
	}
	cb, ok := notify.ParseTwilioCallback(r.URL.Query(), r.PostForm)
	if !ok {
		s.logger(r).Warn("twilio callback ignored: unknown status or no SID")
		w.WriteHeader(http.StatusNoContent)
		return
	}
	err := s.st.UpdateDeliveryStatus(r.Context(), cb.Kind, cb.SID, store.DeliveryState(cb.State), cb.ErrorText)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		s.writeError(w, r, err)
		return
	}
	if err != nil {
		// A callback for a message whose SID we never stored (crash right
		// after the provider accepted it): nothing to update, and Twilio
		// must not retry forever.
		s.logger(r).Warn("twilio callback for unknown SID", "kind", cb.Kind)
	}
	w.WriteHeader(http.StatusNoContent)
}
