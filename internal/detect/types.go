package detect

import "time"

// ClassProb is one class's probability.
type ClassProb struct {
	Class string  `json:"class"`
	P     float64 `json:"p"`
}

// Window is one analysis window of a clip's timeline.
type Window struct {
	StartS float64 `json:"start_s"`
	EndS   float64 `json:"end_s"`
	Score  float64 `json:"score"`
	Voiced bool    `json:"voiced"`
}

// Result is the detector's verdict on a whole clip.
type Result struct {
	Distress     bool        `json:"distress"`
	Score        float64     `json:"score"` // calibrated P(angry|fearful|scream|cry)
	Label        string      `json:"label"` // most probable class
	Classes      []ClassProb `json:"emotions"`
	DurationS    float64     `json:"duration_s"`
	Voiced       bool        `json:"voiced"` // false: no voice found
	Timeline     []Window    `json:"timeline"`
	ModelVersion string      `json:"model_version"`
}

// StreamConfig shapes a live stream. Zero fields take defaults.
type StreamConfig struct {
	Window   time.Duration // analysis window, default 2 s
	Hop      time.Duration // default 0.5 s
	Smooth   int           // windows averaged, default 3
	Cooldown time.Duration // quiet time after an alarm, default 10 s
}

// Alarm is one distressed outburst found in a stream.
type Alarm struct {
	StartS float64 `json:"start_s"`
	EndS   float64 `json:"end_s"`
	Score  float64 `json:"score"`
	Label  string  `json:"label"`
}

// Update is what a stream reports after each hop.
type Update struct {
	TimeS  float64 `json:"time_s"` // stream time at the end of the hop
	Level  float64 `json:"level"`  // dBFS of the last hop
	Score  float64 `json:"score"`  // smoothed distress score
	Voiced bool    `json:"voiced"`
	Alarm  *Alarm  `json:"alarm,omitempty"`
}
