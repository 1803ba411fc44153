package features

// Roughness: the share of the amplitude envelope's energy that is
// modulated at 30–150 Hz, the "rough" modulation range that makes screams
// alarming (Arnal, Flinker, Kleinschmidt, Giraud & Poeppel, "Human
// screams occupy a privileged niche in the communication soundscape",
// Current Biology 25, 2015). The envelope is the RMS of the signal over
// 2 ms blocks (500 Hz, so modulations up to 250 Hz are represented); the
// newest 128 ms of it (64 blocks, 7.8 Hz resolution) is Hann-windowed and
// transformed, and roughness = E(31–148 Hz) / E(0–250 Hz, DC included).
// Including DC makes it a modulation depth: an unmodulated tone and a
// 4 Hz (syllabic) modulation score ≈ 0, a tone fully modulated at 70 Hz
// scores ≈ 1/3. The window trails the frame centre by about 44 ms.
//
// Caveat: a voice whose F0 is itself below 150 Hz modulates its own
// envelope at F0, which counts as rough; that is Arnal et al.'s measure
// too.
const (
	envBlock = 32 // 2 ms
	envLen   = 64 // 128 ms
	roughLo  = 4  // bin 4 = 31.25 Hz
	roughHi  = 19 // bin 19 = 148.4 Hz
)

type roughnessMeter struct {
	env    [envLen]float32
	fft    *realFFT
	in     [envLen]float32
	re, im [envLen/2 + 1]float32
}

func (r *roughnessMeter) init() { r.fft = newRealFFT(envLen) }

func (r *roughnessMeter) reset() {
	r.env = [envLen]float32{}
}

// push appends the envelope of one hop (HopSize samples).
func (r *roughnessMeter) push(x []float32) {
	const nb = HopSize / envBlock
	copy(r.env[:], r.env[nb:])
	for b := 0; b < nb; b++ {
		// Four accumulators: one would make the sum add-latency bound.
		var s0, s1, s2, s3 float32
		blk := x[b*envBlock : (b+1)*envBlock]
		for i := 0; i+3 < len(blk); i += 4 {
			s0 += blk[i] * blk[i]
			s1 += blk[i+1] * blk[i+1]
			s2 += blk[i+2] * blk[i+2]
			s3 += blk[i+3] * blk[i+3]
		}
		r.env[envLen-nb+b] = sqrt32(((s0 + s1) + (s2 + s3)) * (1.0 / envBlock))
	}
}

func (r *roughnessMeter) measure() float32 {
	for i, v := range r.env {
		r.in[i] = v * tab.hannPitch[i]
	}
	r.fft.transform(r.re[:], r.im[:], r.in[:])
	var total, band float64
	for k, re := range r.re {
		im := r.im[k]
		p := float64(re*re + im*im)
		if k != 0 && k != envLen/2 {
			p *= 2
		}
		total += p
		if k >= roughLo && k <= roughHi {
			band += p
		}
	}
	if total <= 1e-30 {
		return 0
	}
	return float32(band / total)
}
