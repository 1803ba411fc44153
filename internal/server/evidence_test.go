package server

import (
	"bytes"
	"context"
	"crypto/rand"
	"net/http"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/empowerher/empowerher/internal/audio"
	"github.com/empowerher/empowerher/internal/detect"
	"github.com/empowerher/empowerher/internal/evidence"
	"github.com/empowerher/empowerher/internal/incident"
)

// alarmingDetector is the test detector with its stream threshold at 0,
// so every live stream alarms at its first hop: the detection path is
// exercised without depending on what the model thinks of a test tone.
func alarmingDetector(t *testing.T) *detect.Detector {
	t.Helper()
	m := *testDetector(t).Model()
	m.StreamThreshold = 0
	d, err := detect.New(&m)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// withEvidence gives the server a real local evidence store.
func withEvidence(t *testing.T) (envOption, evidence.Store) {
	t.Helper()
	raw := make([]byte, 32)
	_, _ = rand.Read(raw)
	keys, err := evidence.NewKeys(raw)
	if err != nil {
		t.Fatal(err)
	}
	ev, err := evidence.NewLocal(t.TempDir(), keys)
	if err != nil {
		t.Fatal(err)
	}
	d := alarmingDetector(t)
	return func(o *Options, _ *incident.Config, _ *incident.WorkerConfig) { o.Evidence, o.Detector = ev, d }, ev
}

// streamUntilDetection sends 2 s of the test tone and returns the
// detection message's incident id.
func (e *env) streamUntilDetection(ctx context.Context, tok string) string {
	e.t.Helper()
	c, _, err := e.dialLive(ctx, tok)
	if err != nil {
		e.t.Fatal(err)
	}
	defer c.CloseNow()
	readMsg(e.t, ctx, c) // ready
	audio := pcm(e.t, 2)
	go func() {
		for off := 0; off < len(audio); off += 3200 {
			if c.Write(ctx, websocket.MessageBinary, audio[off:min(off+3200, len(audio))]) != nil {
				return
			}
		}
	}()
	for {
		m := readMsg(e.t, ctx, c)
		if m["type"] != "detection" {
			continue
		}
		inc, _ := m["incident"].(map[string]any)
		id, _ := inc["id"].(string)
		if id == "" {
			e.t.Fatalf("detection without an incident: %v", m)
		}
		_ = c.Close(websocket.StatusNormalClosure, "")
		e.srv.WaitEvidence()
		return id
	}
}

func TestEvidenceNeedsConsent(t *testing.T) {
	opt, ev := withEvidence(t)
	e := newEnv(t, opt)
	_, tok := e.user("asha")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var me userView
	e.must(http.StatusOK, "GET", "/me", tok, nil, &me)
	if me.EvidenceConsent {
		t.Fatal("evidence consent is on by default")
	}
	e.streamUntilDetection(ctx, tok)
	if keys, err := ev.List(ctx, ""); err != nil || len(keys) != 0 {
		t.Fatalf("without consent the store holds %q (%v)", keys, err)
	}
}

func TestEvidenceKeptLabelledAndWithdrawn(t *testing.T) {
	opt, ev := withEvidence(t)
	e := newEnv(t, opt)
	u, tok := e.user("asha")
	_, otherTok := e.user("bea")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	var set settingsView
	e.must(http.StatusOK, "PUT", "/me/settings", tok, map[string]any{"evidence_consent": true}, &set)
	if !set.EvidenceConsent || !set.EvidenceEnabled {
		t.Fatalf("settings %+v", set)
	}
	e.errCode(http.StatusBadRequest, CodeInvalidField, "PUT", "/me/settings", tok, map[string]any{})
	e.errCode(http.StatusUnauthorized, CodeUnauthorized, "PUT", "/me/settings", "", map[string]any{"evidence_consent": true})

	id := e.streamUntilDetection(ctx, tok)
	keys, err := ev.List(ctx, evidence.UserPrefix(u.ID))
	if err != nil || len(keys) != 1 {
		t.Fatalf("clips %q (%v), want one", keys, err)
	}
	wavBytes, meta, err := ev.Get(ctx, keys[0])
	if err != nil {
		t.Fatalf("clip does not decrypt: %v", err)
	}
	if meta.UserID != u.ID || meta.IncidentID != id || meta.Label != evidence.Unlabelled || meta.Score < 0 || meta.Score > 1 {
		t.Fatalf("meta %+v, incident %s", meta, id)
	}
	clip, err := audio.DecodeBytes(wavBytes, audio.Options{})
	if err != nil {
		t.Fatalf("clip is not audio: %v", err)
	}
	// The detection came at the first hop (0.5 s), so the ring held
	// between the hop and all 2 s sent; and it is the audio that was sent.
	if d := float64(len(clip.Samples)) / audio.SampleRate; d < 0.5 || d > 2.01 {
		t.Fatalf("clip is %.2f s", d)
	}
	sent := pcm(t, 2)
	for i := 0; i < 100; i++ {
		want := float32(int16(uint16(sent[2*i])|uint16(sent[2*i+1])<<8)) / 32768
		if diff := clip.Samples[i] - want; diff > 1e-3 || diff < -1e-3 {
			t.Fatalf("sample %d: %v, sent %v", i, clip.Samples[i], want)
		}
	}

	// Another user can neither label nor see her evidence.
	e.errCode(http.StatusNotFound, CodeNotFound, "POST", "/incidents/"+id+"/feedback", otherTok, map[string]any{"feedback": "real"})
	e.must(http.StatusOK, "POST", "/incidents/"+id+"/feedback", tok, map[string]any{"feedback": "false_alarm"}, nil)
	if _, meta, err = ev.Get(ctx, keys[0]); err != nil || meta.Label != evidence.FalseAlarm {
		t.Fatalf("after feedback: label %q, %v", meta.Label, err)
	}

	// Withdrawing consent deletes every clip of hers, and keeps no new ones.
	e.must(http.StatusOK, "PUT", "/me/settings", tok, map[string]any{"evidence_consent": false}, &set)
	if set.EvidenceConsent || set.DeletedClips != 1 {
		t.Fatalf("withdrawal: %+v", set)
	}
	if keys, _ := ev.List(ctx, ""); len(keys) != 0 {
		t.Fatalf("after withdrawal the store holds %q", keys)
	}
	e.must(http.StatusOK, "POST", "/incidents/"+id+"/cancel", tok, nil, nil)
	e.streamUntilDetection(ctx, tok)
	if keys, _ := ev.List(ctx, ""); len(keys) != 0 {
		t.Fatalf("after withdrawal a detection kept %q", keys)
	}
}

func TestPCMRingKeepsNewestBytes(t *testing.T) {
	r := newPCMRing()
	var all bytes.Buffer
	chunk := make([]byte, 7000)
	for i := 0; all.Len() < 3*evidenceRingBytes; i++ {
		for j := range chunk {
			chunk[j] = byte(i + j)
		}
		r.write(chunk)
		all.Write(chunk)
		want := all.Bytes()[max(all.Len()-evidenceRingBytes, 0):]
		got := r.samples()
		if len(got) != len(want)/2 {
			t.Fatalf("after %d bytes: %d samples, want %d", all.Len(), len(got), len(want)/2)
		}
		last := float32(int16(uint16(want[len(want)-2])|uint16(want[len(want)-1])<<8)) / 32768
		first := float32(int16(uint16(want[0])|uint16(want[1])<<8)) / 32768
		if got[0] != first || got[len(got)-1] != last {
			t.Fatalf("after %d bytes: ends %v..%v, want %v..%v", all.Len(), got[0], got[len(got)-1], first, last)
		}
	}
	r.write(make([]byte, evidenceRingBytes+10))
	if got := r.samples(); len(got) != evidenceRingBytes/2 || got[0] != 0 {
		t.Fatal("one write larger than the ring")
	}
}
