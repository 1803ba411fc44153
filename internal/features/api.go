package features

// The contract the rest of EmpowerHer relies on. The implementation
// (lld.go, frontend.go, pitch.go, roughness.go, functionals.go,
// extract.go) keeps these names and meanings.
//
//	const SampleRate = 16000
//	const HopSize = 320            // 20 ms between LLD frames
//	const FrameRate = SampleRate / HopSize // 50 LLD frames per second
//	const NumLLD                   // values per LLD frame (71)
//	func LLDNames() []string
//
//	// Frontend turns a stream of samples into LLD frames. It keeps
//	// bounded state (at most one analysis window of samples plus a few
//	// frames of history) and allocates nothing per call once warm.
//	type Frontend struct{ ... }
//	func NewFrontend() *Frontend
//	func (f *Frontend) Reset()
//	// Write appends the LLD frames completed by samples to dst (NumLLD
//	// values each, flat) and returns it.
//	func (f *Frontend) Write(dst []float32, samples []float32) []float32
//
//	// Functionals summarises n LLD frames (flat, NumLLD each) into
//	// NumFunctionals values appended to dst. Scratch space lives in f.
//	const NumFunctionals           // 347
//	func FunctionalNames() []string
//	type Summarizer struct{ ... }  // reusable scratch
//	func NewSummarizer() *Summarizer
//	func (s *Summarizer) Functionals(dst []float32, llds []float32) []float32
//
//	// Extract is Frontend+Functionals over a whole clip.
//	func Extract(samples []float32) []float32
//
//	// MeanMFCC40 is the prototype's recipe (librosa-style 40 MFCCs,
//	// averaged over time), kept only to measure the baseline.
//	func MeanMFCC40(samples []float32) []float32
//
// Compatible additions:
//
//	func (f *Frontend) StateBytes() int   // ≈ 25 KB per stream
//	const WindowSize, FFTSize, Lookahead, NumMel, NumMFCC
//	const LLDLoudness, LLDF0, … LLDMFCC1, LLDLogMel0   // indices into a frame
