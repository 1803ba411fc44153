package features

import (
	"encoding/binary"
	"math"
	"testing"
)

// FuzzFrontend feeds arbitrary float32 bit patterns (NaN, Inf, denormals,
// huge values) in arbitrary chunks: no panic, every LLD and functional
// finite. go test ./internal/features -fuzz FuzzFrontend
func FuzzFrontend(f *testing.F) {
	f.Add([]byte{}, uint8(7))
	f.Add(make([]byte, 4*2000), uint8(160))
	seed := make([]byte, 4*3000)
	for i := 0; i < 3000; i++ {
		binary.LittleEndian.PutUint32(seed[4*i:], math.Float32bits(float32(math.Sin(float64(i)*0.09))))
	}
	f.Add(seed, uint8(33))
	f.Add([]byte{0, 0, 0xc0, 0x7f, 0, 0, 0x80, 0x7f, 1, 0, 0, 0}, uint8(1))
	f.Fuzz(func(t *testing.T, data []byte, chunk uint8) {
		x := make([]float32, len(data)/4)
		for i := range x {
			x[i] = math.Float32frombits(binary.LittleEndian.Uint32(data[4*i:]))
		}
		// Repeat short inputs so that some frames complete.
		for len(x) > 0 && len(x) < 2000 {
			x = append(x, x...)
		}
		fe := NewFrontend()
		var llds []float32
		step := int(chunk) + 1
		for rest := x; len(rest) > 0; {
			n := min(step, len(rest))
			llds = fe.Write(llds, rest[:n])
			rest = rest[n:]
		}
		for i, v := range llds {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				t.Fatalf("LLD %s = %v", lldNames[i%NumLLD], v)
			}
		}
		for i, v := range NewSummarizer().Functionals(nil, llds) {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				t.Fatalf("%s = %v", functionalNames[i], v)
			}
		}
	})
}
