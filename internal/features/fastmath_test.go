package features

import (
	"math"
	"testing"
)

func TestFastMathAccuracy(t *testing.T) {
	for x := float32(1e-30); x < 1e30; x *= 1.0137 {
		want := math.Log2(float64(x))
		if got := float64(log2f(x)); math.Abs(got-want) > 2e-6*math.Max(1, math.Abs(want)) {
			t.Fatalf("log2f(%g) = %v, want %v", x, got, want)
		}
	}
	for x := float32(-125); x < 125; x += 0.0137 {
		want := math.Exp2(float64(x))
		if got := float64(exp2f(x)); math.Abs(got-want) > 5e-7*want {
			t.Fatalf("exp2f(%g) = %v, want %v", x, got, want)
		}
	}
	if v := log2f(0); v > -126 || v != v {
		t.Fatalf("log2f(0) = %v", v)
	}
}
