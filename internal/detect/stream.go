package detect

import (
	"time"
	"unsafe"

	"github.com/empowerher/empowerher/internal/features"
	"github.com/empowerher/empowerher/internal/model"
)

// Defaults for StreamConfig's zero fields.
const (
	DefaultWindow   = 2 * time.Second
	DefaultHop      = 500 * time.Millisecond
	DefaultSmooth   = 2
	DefaultCooldown = 10 * time.Second
)

// Stream is the live detector for one audio stream: samples in, one
// Update per hop out, and an Alarm when a distressed outburst is found.
// Its state is bounded (StateBytes) whatever the stream's length.
//
// One outburst gives one alarm: an alarm needs the smoothed score (the
// mean of the last Smooth windows, unvoiced windows counting as 0) at or
// over the threshold; then no alarm is raised again until the score has
// fallen below the threshold and the cooldown has passed.
type Stream struct {
	d   *Detector
	cfg StreamConfig

	fe    *features.Frontend
	sum   *features.Summarizer
	pred  *model.Predictor
	probs []float64

	// Ring of the last window's LLD frames and their activity.
	ring     []float32 // windowFrames × NumLLD
	active   []bool
	frames   int // LLD frames seen
	lin      []float32
	lld      []float32 // frames produced by the last Write chunk
	fun      []float32
	pending  []float32 // samples of the current LLD hop (for the level)
	floor    streamFloor
	hopDB    float64 // running level of the current Update hop
	hopN     int
	scores   []float64 // last Smooth window scores
	classAcc []float64 // probabilities summed over the smoothing run
	runStart float64   // start time of the run over threshold
	inRun    bool
	// runAlarmed: the current run raised (or was folded into) an alarm.
	runAlarmed bool
	lastEnd    float64 // when the last alarmed run ended (cooldown reference)
	alarmed    bool
	// Activity of the level frames (one per LLD hop), by level-frame index; LLD frame
	// f takes level frame f's activity (the frontend lags a few frames).
	levelActs   []bool
	levelFrames int
	samples     int64
}

// NewStream starts a stream.
func (d *Detector) NewStream(cfg StreamConfig) *Stream {
	if cfg.Window <= 0 {
		cfg.Window = DefaultWindow
	}
	if cfg.Hop <= 0 {
		cfg.Hop = DefaultHop
	}
	if cfg.Smooth <= 0 {
		cfg.Smooth = DefaultSmooth
	}
	if cfg.Cooldown <= 0 {
		cfg.Cooldown = DefaultCooldown
	}
	win := int(cfg.Window.Seconds()*framesPerSecond + 0.5)
	s := &Stream{
		d: d, cfg: cfg,
		fe:        features.NewFrontend(),
		sum:       features.NewSummarizer(),
		pred:      d.m.NewPredictor(),
		probs:     make([]float64, len(d.m.Classes)),
		ring:      make([]float32, win*features.NumLLD),
		active:    make([]bool, win),
		levelActs: make([]bool, win),
		lin:       make([]float32, 0, win*features.NumLLD),
		lld:       make([]float32, 0, 4*features.NumLLD),
		fun:       make([]float32, 0, features.NumFunctionals),
		pending:   make([]float32, 0, features.HopSize),
		scores:    make([]float64, 0, cfg.Smooth),
		classAcc:  make([]float64, len(d.m.Classes)),
	}
	return s
}

// Reset forgets the stream's past, as after a reconnect.
func (s *Stream) Reset() {
	s.fe.Reset()
	s.frames, s.samples, s.hopN = 0, 0, 0
	s.pending = s.pending[:0]
	s.floor = streamFloor{}
	s.scores = s.scores[:0]
	clear(s.classAcc)
	s.inRun, s.runAlarmed, s.alarmed, s.lastEnd = false, false, false, 0
	s.levelFrames = 0
}

// Threshold is the smoothed score at which the stream alarms.
func (s *Stream) Threshold() float64 { return s.d.m.StreamThreshold }

func (s *Stream) winFrames() int { return len(s.active) }
func (s *Stream) hopFrames() int { return max(int(s.cfg.Hop.Seconds()*framesPerSecond+0.5), 1) }

// Write feeds samples and calls fn after each hop.
func (s *Stream) Write(samples []float32, fn func(Update)) {
	// Levels per LLD hop for the voice-activity gate.
	for len(samples) > 0 {
		take := min(features.HopSize-len(s.pending), len(samples))
		chunk := samples[:take]
		samples = samples[take:]
		s.pending = append(s.pending, chunk...)
		if len(s.pending) < features.HopSize {
			s.feed(chunk, fn)
			continue
		}
		db := frameDB(s.pending)
		s.pending = s.pending[:0]
		s.levelActs[s.levelFrames%len(s.levelActs)] = s.floor.active(db)
		s.levelFrames++
		s.hopDB += db
		s.hopN++
		s.feed(chunk, fn)
	}
}

func (s *Stream) feed(chunk []float32, fn func(Update)) {
	s.samples += int64(len(chunk))
	s.lld = s.fe.Write(s.lld[:0], chunk)
	nl := features.NumLLD
	for off := 0; off+nl <= len(s.lld); off += nl {
		slot := s.frames % s.winFrames()
		copy(s.ring[slot*nl:(slot+1)*nl], s.lld[off:off+nl])
		s.active[slot] = s.frames < s.levelFrames && s.levelActs[s.frames%len(s.levelActs)]
		s.frames++
		if s.frames%s.hopFrames() == 0 {
			s.hop(fn)
		}
	}
}

// hop scores the window ending at the latest frame.
func (s *Stream) hop(fn func(Update)) {
	win := s.winFrames()
	n := min(s.frames, win)
	now := float64(s.frames) / framesPerSecond
	// Linearize the ring, oldest frame first.
	nl := features.NumLLD
	s.lin = s.lin[:0]
	start := s.frames - n
	acts := 0
	for f := start; f < s.frames; f++ {
		slot := f % win
		s.lin = append(s.lin, s.ring[slot*nl:(slot+1)*nl]...)
		if s.active[slot] {
			acts++
		}
	}
	voiced := n >= framesPerSecond && float64(acts)/float64(n) >= minActiveFraction
	score := 0.0
	if voiced {
		s.fun = s.sum.Functionals(s.fun[:0], s.lin)
		score = s.pred.Predict(s.fun, s.probs)
	}
	if len(s.scores) == s.cfg.Smooth {
		copy(s.scores, s.scores[1:])
		s.scores = s.scores[:len(s.scores)-1]
	}
	s.scores = append(s.scores, score)
	smooth := 0.0
	for _, v := range s.scores {
		smooth += v
	}
	smooth /= float64(s.cfg.Smooth)

	u := Update{TimeS: now, Score: round4(smooth), Voiced: voiced, Level: -120}
	if s.hopN > 0 {
		u.Level = round4(s.hopDB / float64(s.hopN))
	}
	s.hopDB, s.hopN = 0, 0

	th := s.d.m.StreamThreshold
	if voiced {
		for c, p := range s.probs {
			s.classAcc[c] += p
		}
	}
	switch {
	case smooth >= th && !s.inRun:
		s.inRun = true
		s.runStart = max(now-float64(n)/framesPerSecond, 0)
	case smooth < th && s.inRun:
		s.inRun = false
		clear(s.classAcc)
	}
	if s.inRun && !s.runAlarmed {
		s.runAlarmed = true
		// A run that starts within the cooldown belongs to the outburst
		// already alarmed: it only extends the cooldown.
		if !s.alarmed || now-s.lastEnd >= s.cfg.Cooldown.Seconds() {
			s.alarmed = true
			u.Alarm = &Alarm{StartS: round4(s.runStart), EndS: now, Score: round4(smooth), Label: s.d.m.Classes[argmax(s.classAcc)]}
		}
	}
	if s.inRun {
		s.lastEnd = now // the cooldown counts from the end of the outburst
	} else {
		s.runAlarmed = false
	}
	if fn != nil {
		fn(u)
	}
}

// StateBytes is the memory the stream holds, excluding the model (shared).
func (s *Stream) StateBytes() int {
	f32 := int(unsafe.Sizeof(float32(0)))
	n := int(unsafe.Sizeof(*s))
	n += (cap(s.ring) + cap(s.lin) + cap(s.lld) + cap(s.fun) + cap(s.pending)) * f32
	n += cap(s.active) + cap(s.levelActs) + (cap(s.probs)+cap(s.scores)+cap(s.classAcc))*8
	n += s.fe.StateBytes() + summarizerBytes(s.sum) + s.pred.StateBytes()
	return n
}

// summarizerBytes is the Summarizer's scratch, measured by its size.
func summarizerBytes(s *features.Summarizer) int { return int(unsafe.Sizeof(*s)) }
