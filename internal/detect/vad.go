package detect

import (
	"math"

	"sort"

	"github.com/empowerher/empowerher/internal/features"
)

// The voice-activity gate is energy against a noise floor that follows
// the recording, so it works at any level and ignores steady noise (an
// air conditioner, traffic hum); whether active sound is a voice is the
// model's job (its background class).
const (
	activeAboveFloorDB = 12  // a frame is active this far above the floor
	absoluteFloorDB    = -75 // nothing quieter than this is ever active
	minActiveFraction  = 0.15
	// The floor rises 2 dB/s: slow to take a new noise for the floor.
	floorRiseDB = 2.0 / features.FrameRate
)

// frameDB is the level of one hop of samples in dBFS.
func frameDB(x []float32) float64 {
	if len(x) == 0 {
		return -120
	}
	s := 0.0
	for _, v := range x {
		s += float64(v) * float64(v)
	}
	return 10 * math.Log10(s/float64(len(x))+1e-12)
}

// clipActivity returns the active flag of every frame of a whole clip. The floor is the clip's 10th percentile, or 25 dB under its 95th
// where that is lower, so a clip that is sound from end to end (a
// scream, a steady noise) is active and left to the model to judge.
func clipActivity(x []float32) []bool {
	const hop = features.HopSize
	n := len(x) / hop
	db := make([]float64, n)
	for f := range db {
		db[f] = frameDB(x[f*hop : (f+1)*hop])
	}
	active := make([]bool, n)
	if n == 0 {
		return active
	}
	sorted := append([]float64(nil), db...)
	sort.Float64s(sorted)
	floor := min(sorted[n/10], sorted[n*95/100]-25)
	for f, v := range db {
		active[f] = v > floor+activeAboveFloorDB && v > absoluteFloorDB
	}
	return active
}

// streamFloor tracks the noise floor of a live stream: it falls at once
// to a quieter frame and rises slowly.
type streamFloor struct {
	floor float64
	init  bool
}

func (s *streamFloor) active(db float64) bool {
	if !s.init || db < s.floor {
		s.floor, s.init = db, true
	} else {
		s.floor += floorRiseDB
	}
	return db > s.floor+activeAboveFloorDB && db > absoluteFloorDB
}
