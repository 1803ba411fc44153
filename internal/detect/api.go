package detect

// The contract other packages rely on (types in types.go; implementation
// in detector.go, clip.go and stream.go):
//
//	func New(m *model.Model) (*Detector, error)
//	func Default() (*Detector, error)          // the embedded model
//	func (d *Detector) ModelVersion() string
//	func (d *Detector) Threshold() float64
//	func (d *Detector) Analyze(samples []float32) Result   // 16 kHz mono, safe for concurrent use
//	func (d *Detector) NewStream(cfg StreamConfig) *Stream
//	// Write feeds samples (16 kHz mono) and calls fn for each hop's update.
//	func (s *Stream) Write(samples []float32, fn func(Update))
//	func (s *Stream) Reset()
//	func (s *Stream) StateBytes() int
