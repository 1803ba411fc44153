// Package model is the classifier: an ensemble of small MLPs over
// standardized eGeMAPS-style functionals, trained in Go (Train), with a
// Platt-calibrated distress score and a threshold chosen on held-out
// training speakers. Models are stored as deterministic gzip'd JSON
// (Encode/Decode) and one is embedded in the binary (Embedded).
package model
