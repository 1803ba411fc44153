// Package evidence keeps audio clips around detections, with the user's
// consent, so that an incident has evidence and so that the user's
// "false alarm" / "real" marks can become training data.
//
// The server decides consent; this package only stores. Every clip is
// encrypted at rest with AES-256-GCM under a configured key before it
// leaves the process, so neither the local disk nor the S3 bucket ever
// holds plaintext audio or metadata. Two backends share one format: a
// local directory (the default) and S3 or an S3-compatible server.
//
// Retention is by backend modification time, which is the clip's creation
// time because clip objects are never rewritten: labels live in a small
// separate object next to the clip. That keeps Sweep a cheap listing
// instead of a download of every clip.
//
// Export writes the labelled clips as a plaintext training set
// (docs/retraining.md) and OpenDataset reads such a set back, locally or
// from s3://, as an fs.FS for the trainer.
package evidence
