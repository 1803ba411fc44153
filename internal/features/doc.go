// Package features turns 16 kHz mono audio into frame-level low-level
// descriptors (LLDs: log-mel, MFCC, F0, loudness, spectral shape, HNR,
// jitter, shimmer, roughness) and eGeMAPS-style functionals over them.
//
// Everything here is level-independent by design: a clip recorded 20 dB
// quieter, or through another microphone gain, gives the same functionals
// (within tolerance), because a model must work on microphones it never
// heard. The only level-carrying LLD is loudness_db, and the Summarizer
// uses it relative to each span's own 95th percentile; c0 is not emitted;
// log-mel bands are relative to the frame's mean band level. Powers are
// floored at −200 dB (far below 16-bit quantisation noise, even after
// −40 dB of gain) and, within a frame, 80–100 dB below its strongest
// bin or band, so silence and digital zero give finite values everywhere
// and float32 rounding noise does not leak in; relative loudness is
// clamped at −60 dB, so stretches of digital silence (which stay at the
// floor whatever the gain) do not make a span's functionals level
// dependent.
//
// # Frames
//
// One LLD frame every 20 ms (HopSize = 320 samples; FrameRate = 50 frames
// per second). Frame k is centred on input sample HopSize·k, and a stream
// of n samples gives n/HopSize frames (rounded down). Spectral descriptors
// use a 32 ms periodic-Hann window (512 samples, so consecutive frames
// overlap by 12 ms) and a 512-point FFT (31.25 Hz bins); F0 and voice
// quality a 40 ms window centred on the same instant; roughness the
// trailing 128 ms of the amplitude envelope. Every descriptor is analysed
// on every frame. Nothing here assumes the frame rate: slopes and deltas
// are per second, segment lengths in seconds, and the moving average is
// ±20 ms rounded to frames. NumLLD = 71 values, indices LLD*:
//
//	loudness_db            (10/0.3)·log10 Σ_b E_b^0.3 over the mel bands (Stevens' power law, as openSMILE's eGeMAPS loudness)
//	f0_hz                  YIN (de Cheveigné & Kawahara 2002), CMND threshold 0.2, 60–1000 Hz, 0 when unvoiced; coarse at 4 kHz, refined at 8 kHz
//	voicing_prob           1 − cumulative-mean-normalised difference at the chosen lag
//	hnr_db                 10·log10(ρ/(1−ρ)), ρ the normalised autocorrelation at the period (Boersma 1993), −20…40 dB
//	jitter_local           mean|T_i−T_{i+1}|/mean T of periods found by waveform matching (Praat's local jitter, per 40 ms window)
//	shimmer_local          mean|A_i−A_{i+1}|/mean A, A the per-period RMS
//	h1_h2_db               first minus second harmonic level (uncorrected for formants; peaks refined by a parabola in dB)
//	roughness              envelope energy at 31–148 Hz / all envelope energy incl. DC (Arnal et al. 2015)
//	spectral_flux          Σ (a_t − a_{t−1})², a the L2-normalised mel magnitude vector
//	spectral_centroid_hz, spectral_rolloff85_hz
//	spectral_flatness      geometric/arithmetic mean of per-bin mean band powers (near 1 for white noise, near 0 for a tone)
//	spectral_slope_0_500, spectral_slope_500_1500   dB/kHz, regression of the log power spectrum (eGeMAPS; the DC bin left out)
//	alpha_ratio_db         energy 50–1000 Hz over 1–5 kHz (eGeMAPS)
//	hammarberg_db          strongest bin 0–2 kHz over strongest 2–5 kHz (eGeMAPS)
//	energy_ratio_1k_4k     share of power in 1–4 kHz (screams, cries)
//	energy_ratio_4k_8k     share of power in 4–8 kHz (fricatives, hiss, noise)
//	zcr                    zero crossings per second
//	mfcc1 … mfcc12         DCT-II (orthonormal) of the 40 dB log-mel bands, c0 dropped
//	logmel0_rel_db … logmel39_rel_db   40 HTK-mel triangles (peak 1) over 20–8000 Hz, dB minus the frame's mean
//
// # Functionals
//
// NumFunctionals = 347, named by FunctionalNames, after eGeMAPS (Eyben et
// al. 2016). For each of 31 contours, eight values: mean; std (dB, log and
// signed quantities) or coefficient of variation (positive ratios and
// frequencies, suffix _cv); percentiles 20, 50, 80 and the 20–80 range;
// mean rising and mean falling slope per second of the moving average
// over ±20 ms (3 frames at the 20 ms hop). The contours are loudness (relative to the span's 95th
// percentile, clamped at −60 dB), voicing probability, MFCC 1–12, roughness, flux, centroid,
// roll-off, flatness, both slopes, alpha ratio, Hammarberg index, both
// energy ratios and ZCR over all frames; and over voiced frames only F0
// (semitones re 27.5 Hz), HNR, jitter, shimmer and H1−H2. Then mean and
// std of each log-mel band, the std of each MFCC delta (HTK regression
// over ±2 frames, in units per second), loudness peaks per second (3 dB prominence), voiced
// segments per second, mean and std of voiced and of unvoiced segment
// lengths (seconds), and the voiced-frame ratio.
//
// # Cost
//
// The Frontend allocates nothing per Write and holds about 25 KB per
// stream (StateBytes). Where its time goes, and what keeps it down:
//
//   - a hand-written float32 real FFT (fft.go: radix-4 on a half-size
//     complex FFT, twiddles and bit reversal precomputed; checked against
//     gonum's dsp/fourier in tests, about 4× faster than its FFTPACK);
//   - the YIN autocorrelation computed directly, six lags per pass and
//     only as far as the threshold search goes (an FFT pair before);
//   - the period and refinement searches evaluating four lags per pass,
//     energies from prefix sums;
//   - the mel filterbank as one pass over the bins (each bin on one
//     band's rising and the previous band's falling slope), band sums and
//     maxima fused with the power spectrum, and branch-free, inlinable
//     log2/exp2 (fastmath.go).
//
// The Summarizer takes percentiles by quickselect (median first, then
// p20 and p80 in the halves it leaves) with a branch-free partition, and
// Extract reuses pooled Frontends, Summarizers and LLD buffers, so a warm
// Extract allocates only its result. Benchmarks (they also report CPU
// time per op and the real-time factor, since wall time on a shared
// machine is unreliable):
//
//	go test ./internal/features -run '^$' -bench . -benchmem -cpu 1
//
// On the 2-vCPU build machine under load 10–12: Frontend 0.84–0.91 ms of
// CPU per second of audio (≈ 1100–1190× real time), Summarizer 0.19 ms
// per 4 s span, Extract of 4 s 3.7 ms (≈ 1080×), Extract over real
// RAVDESS clips ≈ 1020–1070×. The per-stage goal (Frontend 0.6 ms/s,
// Extract 2.5 ms per 4 s) is not reached there yet.
//
// MeanMFCC40 is the prototype's baseline recipe (librosa defaults, scaled
// to 16 kHz) and is deliberately level dependent, like the prototype.
package features
