package server

import (
	"context"
	"net/http"
	"strconv"

	"github.com/empowerher/empowerher/internal/evidence"
	"github.com/empowerher/empowerher/internal/incident"
	"github.com/empowerher/empowerher/internal/store"
)

type alertRequest struct {
	Message  string         `json:"message"`
	Location *locationInput `json:"location"`
	Trigger  string         `json:"trigger"`
	Score    float64        `json:"score"`
	// Clip (base64 audio) is accepted and not kept: evidence comes from
	// live listening, where the server holds the audio around the
	// detection itself (evidence.go); the response says so in warnings.
	Clip string `json:"clip"`
}

type alertResponse struct {
	Incident   incidentView    `json:"incident"`
	Joined     bool            `json:"joined"`
	Recipients []recipientView `json:"recipients"`
	Deliveries []deliveryView  `json:"deliveries"`
	Warnings   []string        `json:"warnings"`
}

// handleAlert never rate-limits and never waits for a provider: the
// incident and its deliveries are committed in one transaction and the
// worker sends them.
func (s *Server) handleAlert(w http.ResponseWriter, r *http.Request) {
	u := userFrom(r)
	var req alertRequest
	if err := decodeJSON(w, r, &req, true); err != nil {
		s.writeError(w, r, err)
		return
	}
	loc, err := req.Location.toStore()
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	// The alert must not be lost to a client that hangs up mid-request.
	ctx := context.WithoutCancel(r.Context())
	out, err := s.inc.Alert(ctx, u, incident.AlertInput{Message: req.Message, Location: loc, Trigger: req.Trigger, Score: req.Score})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	resp := alertResponse{Incident: incView(out.Incident), Joined: out.Joined, Warnings: out.Warnings}
	if !s.opt.SMSConfigured {
		resp.Warnings = append(resp.Warnings, "no SMS provider is configured on this server: SMS messages go to the server log instead")
	}
	if req.Clip != "" {
		resp.Warnings = append(resp.Warnings, "the clip was not kept: only live listening keeps evidence, for users who consented, on servers that store it")
	}
	if resp.Warnings == nil {
		resp.Warnings = []string{}
	}
	rs, ds := out.Recipients, out.Deliveries
	if ds == nil { // joined: what the incident has so far
		if rs, ds, err = s.incidentDetail(ctx, u.ID, out.Incident.ID); err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	resp.Recipients = recipientViews(rs, ds)
	resp.Deliveries = delViews(ds)
	status := http.StatusCreated
	if out.Joined {
		status = http.StatusOK
	}
	s.logger(r).Info("alert", "user", u.ID, "incident", out.Incident.ID, "state", out.Incident.State, "joined", out.Joined)
	writeJSON(w, status, resp)
}

func (s *Server) incidentDetail(ctx context.Context, userID int64, id string) ([]store.Recipient, []store.Delivery, error) {
	rs, err := s.st.Recipients(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	ds, err := s.st.ListDeliveries(ctx, userID, id)
	if err != nil {
		return nil, nil, err
	}
	return rs, ds, nil
}

func delViews(ds []store.Delivery) []deliveryView {
	out := make([]deliveryView, 0, len(ds))
	for i := range ds {
		out = append(out, delView(&ds[i]))
	}
	return out
}

func (s *Server) handleListIncidents(w http.ResponseWriter, r *http.Request) {
	limit := 50
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 500 {
			s.writeError(w, r, &apiError{Status: http.StatusBadRequest, Code: CodeInvalidField, Field: "limit", Message: "limit must be between 1 and 500"})
			return
		}
		limit = n
	}
	incs, err := s.st.ListIncidents(r.Context(), userFrom(r).ID, limit)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := make([]incidentView, 0, len(incs))
	for i := range incs {
		out = append(out, incView(&incs[i]))
	}
	writeJSON(w, http.StatusOK, map[string]any{"incidents": out})
}

type incidentDetailView struct {
	incidentView
	Events     []eventView     `json:"events"`
	Recipients []recipientView `json:"recipients"`
	Deliveries []deliveryView  `json:"deliveries"`
}

func (s *Server) handleGetIncident(w http.ResponseWriter, r *http.Request) {
	u := userFrom(r)
	inc, err := s.st.GetIncident(r.Context(), u.ID, r.PathValue("id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeIncidentDetail(w, r, u, inc, http.StatusOK)
}

func (s *Server) writeIncidentDetail(w http.ResponseWriter, r *http.Request, u *store.User, inc *store.Incident, status int) {
	ctx := r.Context()
	evs, err := s.st.Events(ctx, inc.ID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	rs, err := s.st.Recipients(ctx, inc.ID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	ds, err := s.st.ListDeliveries(ctx, u.ID, inc.ID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := incidentDetailView{incidentView: incView(inc), Events: make([]eventView, 0, len(evs)),
		Recipients: recipientViews(rs, ds), Deliveries: delViews(ds)}
	for _, e := range evs {
		out.Events = append(out.Events, eventView{Kind: e.Kind, Detail: e.Detail, At: ts(e.At)})
	}
	writeJSON(w, status, out)
}

func (s *Server) handleCancelIncident(w http.ResponseWriter, r *http.Request) {
	s.closeIncident(w, r, s.inc.Cancel)
}

func (s *Server) handleResolveIncident(w http.ResponseWriter, r *http.Request) {
	s.closeIncident(w, r, s.inc.Resolve)
}

func (s *Server) closeIncident(w http.ResponseWriter, r *http.Request, op func(context.Context, *store.User, string) (*store.Incident, error)) {
	u := userFrom(r)
	inc, err := op(context.WithoutCancel(r.Context()), u, r.PathValue("id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeIncidentDetail(w, r, u, inc, http.StatusOK)
}

func (s *Server) handleIncidentLocation(w http.ResponseWriter, r *http.Request) {
	u := userFrom(r)
	var req locationInput
	if err := decodeJSON(w, r, &req, false); err != nil {
		s.writeError(w, r, err)
		return
	}
	loc, err := req.toStore()
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	inc, err := s.inc.UpdateLocation(r.Context(), u, r.PathValue("id"), *loc)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, incView(inc))
}

func (s *Server) handleIncidentHeartbeat(w http.ResponseWriter, r *http.Request) {
	u := userFrom(r)
	inc, err := s.inc.Heartbeat(r.Context(), u, r.PathValue("id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"incident_id": inc.ID, "state": inc.State, "last_heartbeat_at": ts(inc.LastHeartbeatAt),
		"timeout_s": s.inc.Config().HeartbeatTimeout.Seconds(),
	})
}

func (s *Server) handleIncidentFeedback(w http.ResponseWriter, r *http.Request) {
	u := userFrom(r)
	var req struct {
		Feedback string `json:"feedback"`
	}
	if err := decodeJSON(w, r, &req, false); err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := s.inc.SetFeedback(r.Context(), u, r.PathValue("id"), req.Feedback); err != nil {
		s.writeError(w, r, err)
		return
	}
	// The mark travels with the incident's evidence clips, where it
	// becomes training data (empowerher export). SetFeedback accepted it,
	// so it is a valid label; a failure here is retried by sending again.
	if err := s.labelEvidence(context.WithoutCancel(r.Context()), u.ID, r.PathValue("id"), evidence.Label(req.Feedback)); err != nil {
		s.logger(r).Error("evidence: labelling clips failed", "user", u.ID, "incident", r.PathValue("id"), "err", err)
		s.writeError(w, r, err)
		return
	}
	inc, err := s.st.GetIncident(r.Context(), u.ID, r.PathValue("id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, incView(inc))
}
