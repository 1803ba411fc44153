package server

import (
	"net/http"
	"net/mail"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/empowerher/empowerher/internal/notify"
	"github.com/empowerher/empowerher/internal/store"
)

// MaxContacts bounds one user's contacts (each alert fans out to them).
const MaxContacts = 50

type contactInput struct {
	Name       string   `json:"name"`
	Phone      string   `json:"phone"`
	Email      string   `json:"email"`
	WebhookURL string   `json:"webhook_url"`
	Channels   []string `json:"channels"`
	Tier       int      `json:"tier"`
}

func fieldErr(field, msg string) error {
	return &apiError{Status: http.StatusBadRequest, Code: CodeInvalidField, Field: field, Message: field + ": " + msg}
}

// normalisePhone removes the spacing people type ("+44 20 7946-0958")
// before the strict E.164 check.
func normalisePhone(s string) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case ' ', '-', '(', ')', '.':
			return -1
		}
		return r
	}, strings.TrimSpace(s))
}

func (in *contactInput) toStore(c *store.Contact) error {
	in.Name = strings.TrimSpace(in.Name)
	if in.Name == "" || !utf8.ValidString(in.Name) || utf8.RuneCountInString(in.Name) > 100 {
		return fieldErr("name", "is required, at most 100 characters")
	}
	phone := normalisePhone(in.Phone)
	if phone != "" && !notify.ValidE164(phone) {
		return fieldErr("phone", "must be an E.164 number: + then country code and number, e.g. +447700900123")
	}
	email := strings.TrimSpace(in.Email)
	if email != "" {
		a, err := mail.ParseAddress(email)
		if err != nil || a.Address != email || len(email) > 254 {
			return fieldErr("email", "must be a plain e-mail address like name@example.org")
		}
	}
	hook := strings.TrimSpace(in.WebhookURL)
	if hook != "" {
		u, err := url.Parse(hook)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil || len(hook) > 2048 {
			return fieldErr("webhook_url", "must be an absolute http(s) URL without credentials")
		}
	}
	if in.Tier < 0 || in.Tier > 9 {
		return fieldErr("tier", "must be between 0 (alerted first) and 9")
	}
	c.Name, c.Phone, c.Email, c.WebhookURL, c.Tier = in.Name, phone, email, hook, in.Tier
	c.Channels = nil
	seen := map[string]bool{}
	for _, ch := range in.Channels {
		switch ch {
		case store.ChannelSMS, store.ChannelVoice:
			if phone == "" {
				return fieldErr("channels", ch+" needs a phone number")
			}
		case store.ChannelEmail:
			if email == "" {
				return fieldErr("channels", "email needs an e-mail address")
			}
		case store.ChannelWebhook:
			if hook == "" {
				return fieldErr("channels", "webhook needs a webhook_url")
			}
		case store.ChannelLog:
		default:
			return fieldErr("channels", `unknown channel "`+ch+`": use sms, voice, email, webhook or log`)
		}
		if !seen[ch] {
			seen[ch] = true
			c.Channels = append(c.Channels, ch)
		}
	}
	if phone == "" && email == "" && hook == "" && !seen[store.ChannelLog] {
		return fieldErr("phone", "a contact needs a phone, an email or a webhook_url")
	}
	return nil
}

func (s *Server) handleListContacts(w http.ResponseWriter, r *http.Request) {
	cs, err := s.st.ListContacts(r.Context(), userFrom(r).ID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := make([]contactView, 0, len(cs))
	for i := range cs {
		out = append(out, conView(&cs[i]))
	}
	writeJSON(w, http.StatusOK, map[string]any{"contacts": out})
}

func (s *Server) handleCreateContact(w http.ResponseWriter, r *http.Request) {
	u := userFrom(r)
	var in contactInput
	if err := decodeJSON(w, r, &in, false); err != nil {
		s.writeError(w, r, err)
		return
	}
	c := &store.Contact{UserID: u.ID}
	if err := in.toStore(c); err != nil {
		s.writeError(w, r, err)
		return
	}
	existing, err := s.st.ListContacts(r.Context(), u.ID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if len(existing) >= MaxContacts {
		s.writeError(w, r, newError(http.StatusConflict, CodeConflict, "you already have the maximum number of contacts"))
		return
	}
	if err := s.st.CreateContact(r.Context(), c); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Location", "/contacts/"+itoa(c.ID))
	writeJSON(w, http.StatusCreated, conView(c))
}

func (s *Server) handleGetContact(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	c, err := s.st.GetContact(r.Context(), userFrom(r).ID, id)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, conView(c))
}

func (s *Server) handleUpdateContact(w http.ResponseWriter, r *http.Request) {
	u := userFrom(r)
	id, err := pathID(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var in contactInput
	if err := decodeJSON(w, r, &in, false); err != nil {
		s.writeError(w, r, err)
		return
	}
	c, err := s.st.GetContact(r.Context(), u.ID, id)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := in.toStore(c); err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := s.st.UpdateContact(r.Context(), c); err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, conView(c))
}

func (s *Server) handleDeleteContact(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := s.st.DeleteContact(r.Context(), userFrom(r).ID, id); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) handleTestContact(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	d, warnings, err := s.inc.TestContact(r.Context(), userFrom(r), id)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if warnings == nil {
		warnings = []string{}
	}
	writeJSON(w, http.StatusAccepted, map[string]any{"delivery": delView(d), "warnings": warnings})
}
