package server

import (
	"bytes"
	"context"
	"encoding/binary"
	"net/http"
	"time"

	"github.com/empowerher/empowerher/internal/audio"
	"github.com/empowerher/empowerher/internal/detect"
	"github.com/empowerher/empowerher/internal/evidence"
	"github.com/empowerher/empowerher/internal/store"
)

// Evidence (issue 5): with the user's consent and an evidence store
// configured, live listening keeps the audio around each detection as an
// encrypted clip, and her false alarm / real marks label those clips.

// evidenceSeconds of audio are kept per consenting stream. Ten seconds
// would be 320 KB of 16-bit PCM, more than a whole stream's 256 KB budget;
// six (192 KB) still cover the detector's 2 s window, its smoothing and
// the seconds before the outburst. Streams of users who have not
// consented hold no ring at all, so they cost what they did before.
const (
	evidenceSeconds   = 6
	evidenceRingBytes = evidenceSeconds * liveRate * 2
	// evidencePutTimeout bounds one upload (S3 included).
	evidencePutTimeout = 30 * time.Second
)

// pcmRing holds the newest len(buf) bytes of a stream's 16-bit PCM.
type pcmRing struct {
	buf  []byte
	next int  // where the next byte goes
	full bool // buf has wrapped at least once
}

func newPCMRing() *pcmRing { return &pcmRing{buf: make([]byte, evidenceRingBytes)} }

func (r *pcmRing) write(b []byte) {
	if len(b) >= len(r.buf) {
		copy(r.buf, b[len(b)-len(r.buf):])
		r.next, r.full = 0, true
		return
	}
	n := copy(r.buf[r.next:], b)
	if n < len(b) {
		copy(r.buf, b[n:])
		r.full = true
	}
	r.next = (r.next + len(b)) % len(r.buf)
	if r.next == 0 {
		r.full = true
	}
}

// samples returns the ring's audio, oldest first, as the float samples
// audio.EncodeWAV16 takes (a fresh slice: the ring keeps filling).
func (r *pcmRing) samples() []float32 {
	var pcm []byte
	if r.full {
		pcm = append(append(make([]byte, 0, len(r.buf)), r.buf[r.next:]...), r.buf[:r.next]...)
	} else {
		pcm = r.buf[:r.next]
	}
	out := make([]float32, len(pcm)/2)
	for i := range out {
		out[i] = float32(int16(binary.LittleEndian.Uint16(pcm[2*i:]))) / 32768
	}
	return out
}

// evidenceOn reports whether this server keeps evidence at all.
func (s *Server) evidenceOn() bool { return s.opt.Evidence != nil }

// keepEvidence is called on the stream's goroutine after a detection
// created or joined inc. Consent is read from the store, not from the
// user loaded when the stream opened, because she may have withdrawn it
// since. The upload runs in the background so the stream keeps reading.
func (ls *liveSession) keepEvidence(inc *store.Incident, a detect.Alarm) {
	s := ls.s
	if !s.evidenceOn() {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ls.ctx), 5*time.Second)
	defer cancel()
	u, err := s.st.UserByID(ctx, ls.u.ID)
	if err != nil {
		s.log.Error("evidence: reading consent failed; clip not kept", "user", ls.u.ID, "err", err)
		return
	}
	if !u.EvidenceConsent {
		ls.ring = nil
		return
	}
	if ls.ring == nil {
		// Consent given after the stream opened: nothing was recorded
		// for this detection; the next ones will have audio.
		ls.ring = newPCMRing()
		return
	}
	samples := ls.ring.samples()
	meta := evidence.Meta{UserID: u.ID, IncidentID: inc.ID, Score: a.Score, CreatedAt: s.opt.Now()}
	s.evidenceWG.Add(1)
	go func() {
		defer s.evidenceWG.Done()
		s.storeClip(meta, samples)
	}()
}

func (s *Server) storeClip(meta evidence.Meta, samples []float32) {
	ctx, cancel := context.WithTimeout(context.Background(), evidencePutTimeout)
	defer cancel()
	var b bytes.Buffer
	b.Grow(44 + 2*len(samples))
	if err := audio.EncodeWAV16(&b, samples, liveRate); err != nil {
		s.log.Error("evidence: encoding clip failed", "user", meta.UserID, "err", err)
		return
	}
	key := evidence.ClipKey(meta.UserID, meta.IncidentID, meta.CreatedAt)
	if err := s.opt.Evidence.Put(ctx, key, b.Bytes(), meta); err != nil {
		s.log.Error("evidence: storing clip failed", "user", meta.UserID, "incident", meta.IncidentID, "err", err)
		return
	}
	// Consent withdrawn while the upload ran: DeleteUser may already have
	// listed her clips without this one, so remove it here.
	if u, err := s.st.UserByID(ctx, meta.UserID); err == nil && !u.EvidenceConsent {
		if err := s.opt.Evidence.Delete(ctx, key); err != nil {
			s.log.Error("evidence: deleting clip after withdrawal failed", "user", meta.UserID, "key", key, "err", err)
		}
		return
	}
	s.log.Info("evidence: clip kept", "user", meta.UserID, "incident", meta.IncidentID, "seconds", float64(len(samples))/liveRate)
}

// labelEvidence marks every clip of one incident with the user's verdict.
func (s *Server) labelEvidence(ctx context.Context, userID int64, incidentID string, label evidence.Label) error {
	if !s.evidenceOn() {
		return nil
	}
	keys, err := s.opt.Evidence.List(ctx, evidence.IncidentPrefix(userID, incidentID))
	if err != nil {
		return err
	}
	for _, k := range keys {
		if err := s.opt.Evidence.SetLabel(ctx, k, label); err != nil {
			return err
		}
	}
	return nil
}

type settingsRequest struct {
	EvidenceConsent *bool `json:"evidence_consent"`
}

type settingsView struct {
	EvidenceConsent bool `json:"evidence_consent"`
	// EvidenceEnabled says whether this server keeps evidence at all
	// (consent alone keeps nothing where no evidence store is configured).
	EvidenceEnabled bool `json:"evidence_enabled"`
	// DeletedClips counts the clips removed because consent was withdrawn.
	DeletedClips int `json:"deleted_clips"`
}

// handleSettings changes the user's settings. Withdrawing evidence
// consent deletes every clip kept of her, at once.
func (s *Server) handleSettings(w http.ResponseWriter, r *http.Request) {
	u := userFrom(r)
	var req settingsRequest
	if err := decodeJSON(w, r, &req, false); err != nil {
		s.writeError(w, r, err)
		return
	}
	if req.EvidenceConsent == nil {
		s.writeError(w, r, &apiError{Status: http.StatusBadRequest, Code: CodeInvalidField, Field: "evidence_consent",
			Message: "evidence_consent (true or false) is required"})
		return
	}
	// Deleting must finish even if the client hangs up.
	ctx := context.WithoutCancel(r.Context())
	nu := *u
	nu.EvidenceConsent = *req.EvidenceConsent
	if err := s.st.UpdateUser(ctx, &nu); err != nil {
		s.writeError(w, r, err)
		return
	}
	out := settingsView{EvidenceConsent: nu.EvidenceConsent, EvidenceEnabled: s.evidenceOn()}
	if !nu.EvidenceConsent && s.evidenceOn() {
		// Always, not only on a true → false change: a crash during an
		// earlier withdrawal must not leave clips behind.
		n, err := evidence.DeleteUser(ctx, s.opt.Evidence, u.ID)
		out.DeletedClips = n
		if err != nil {
			s.logger(r).Error("evidence: deleting clips after withdrawal failed", "user", u.ID, "deleted", n, "err", err)
			s.writeError(w, r, err)
			return
		}
	}
	s.logger(r).Info("settings", "user", u.ID, "evidence_consent", nu.EvidenceConsent, "deleted_clips", out.DeletedClips)
	writeJSON(w, http.StatusOK, out)
}
