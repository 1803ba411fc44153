// Package detect is the distress detector: whole clips (Analyze) and
// live streams (Stream: voice-activity gate, sliding windows, smoothing,
// cooldown) over the same model and features. A Stream keeps bounded
// state, so a server can run hundreds of them.
package detect
