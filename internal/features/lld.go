package features

import "strconv"

// Stream geometry.
const (
	SampleRate = 16000
	// HopSize is the distance between LLD frames: 20 ms. Other packages
	// derive frame counts and times from it (FrameRate frames per second).
	HopSize = 320
	// FrameRate is LLD frames per second (50).
	FrameRate = SampleRate / HopSize
	// WindowSize is the spectral analysis window: 32 ms, periodic Hann,
	// so that consecutive 20 ms frames overlap and every sample is seen.
	WindowSize = 512
	// FFTSize is the spectral FFT length (31.25 Hz bins).
	FFTSize = 512
	// pitchWindow is the F0/jitter/shimmer window: 40 ms, centred on the
	// same instant as the spectral window, so that one period of 60 Hz
	// fits 2.4 times.
	pitchWindow = 640
	// Lookahead is how many samples past a frame's 32 ms window the
	// Frontend needs before it can emit that frame (half the pitch window
	// minus half the spectral window).
	Lookahead = (pitchWindow - WindowSize) / 2
)

// NumMel log-mel bands (HTK mel scale, 20–8000 Hz) and NumMFCC cepstra
// (c1…c12; c0, the absolute level, is left out on purpose).
const (
	NumMel  = 40
	NumMFCC = 12
)

// Indices into one LLD frame. Level-dependent: only LLDLoudness (a dB
// quantity; the Summarizer uses it relative to each span's own 95th
// percentile). Everything else is a ratio, a shape or a frequency.
const (
	LLDLoudness        = iota               // dB-like: (10/0.3)·log10 Σ_b E_b^0.3 (Stevens' power law over mel bands)
	LLDF0                                   // Hz, 0 when unvoiced (YIN)
	LLDVoicingProb                          // 1 − CMND at the chosen lag, in [0,1]
	LLDHNR                                  // dB, from the normalised autocorrelation at the F0 period
	LLDJitter                               // local jitter (mean |ΔT| / mean T), 0 when unvoiced
	LLDShimmer                              // local shimmer (mean |ΔA| / mean A), 0 when unvoiced
	LLDH1H2                                 // dB, first minus second harmonic level, 0 when unvoiced
	LLDRoughness                            // fraction of envelope energy modulated at 30–150 Hz
	LLDFlux                                 // spectral flux of the L2-normalised mel magnitude spectrum
	LLDCentroid                             // Hz
	LLDRolloff                              // Hz below which 85 % of the power lies
	LLDFlatness                             // geometric/arithmetic mean of mel band powers, [0,1]
	LLDSlope0_500                           // dB/kHz, regression of the log power spectrum 0–500 Hz
	LLDSlope500_1500                        // dB/kHz, 500–1500 Hz
	LLDAlphaRatio                           // dB, energy 50–1000 Hz over 1–5 kHz
	LLDHammarberg                           // dB, strongest peak 0–2 kHz over strongest 2–5 kHz
	LLDEnergyRatio1k4k                      // fraction of power in 1–4 kHz (screams, cries)
	LLDEnergyRatio4k8k                      // fraction of power in 4–8 kHz (fricatives, hiss)
	LLDZCR                                  // zero crossings per second
	LLDMFCC1                                // first of NumMFCC cepstra c1…c12 (DCT-II ortho of dB log-mel)
	LLDLogMel0         = LLDMFCC1 + NumMFCC // first of NumMel log-mel bands, dB relative to the frame's mean band level
	NumLLD             = LLDLogMel0 + NumMel
)

var lldNames = func() []string {
	n := []string{
		"loudness_db", "f0_hz", "voicing_prob", "hnr_db", "jitter_local", "shimmer_local",
		"h1_h2_db", "roughness", "spectral_flux", "spectral_centroid_hz", "spectral_rolloff85_hz",
		"spectral_flatness", "spectral_slope_0_500", "spectral_slope_500_1500", "alpha_ratio_db",
		"hammarberg_db", "energy_ratio_1k_4k", "energy_ratio_4k_8k", "zcr",
	}
	for i := 1; i <= NumMFCC; i++ {
		n = append(n, "mfcc"+strconv.Itoa(i))
	}
	for i := 0; i < NumMel; i++ {
		n = append(n, "logmel"+strconv.Itoa(i)+"_rel_db")
	}
	if len(n) != NumLLD {
		panic("features: LLD name table out of date")
	}
	return n
}()

// LLDNames returns the name of each value in an LLD frame (a new slice).
func LLDNames() []string { return append([]string(nil), lldNames...) }
