// Package dataset turns the corpora into training matrices: decoding
// (Load), augmentation (noise at 0–20 dB SNR from the same fold group,
// gain, telephone band, speed), 2 s windows over the active part of each
// recording, and features (Build).
package dataset
