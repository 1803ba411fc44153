package eval

import (
	"math"
	"testing"
)

func TestUARAndAccuracy(t *testing.T) {
	c := newConfusion([]string{"a", "b"})
	// 90 of class a, 10 of class b; predict a for everything: accuracy is
	// 0.9 but UAR is (1 + 0)/2 — why the field reports UAR.
	for i := 0; i < 90; i++ {
		c.add(0, 0)
	}
	for i := 0; i < 10; i++ {
		c.add(1, 0)
	}
	if got := c.accuracy(); math.Abs(got-0.9) > 1e-12 {
		t.Errorf("accuracy %v", got)
	}
	if got := c.uar(); math.Abs(got-0.5) > 1e-12 {
		t.Errorf("UAR %v, want 0.5", got)
	}
}

func TestAUC(t *testing.T) {
	// Perfect ranking, inverted ranking, and a hand-computed mixed case:
	// positives {0.9, 0.4}, negatives {0.5, 0.1}: pairs (0.9>0.5, 0.9>0.1,
	// 0.4<0.5, 0.4>0.1) → 3/4.
	cases := []struct {
		score []float64
		pos   []bool
		want  float64
	}{
		{[]float64{0.9, 0.8, 0.2, 0.1}, []bool{true, true, false, false}, 1},
		{[]float64{0.1, 0.2, 0.8, 0.9}, []bool{true, true, false, false}, 0},
		{[]float64{0.9, 0.4, 0.5, 0.1}, []bool{true, true, false, false}, 0.75},
		{[]float64{0.5, 0.5}, []bool{true, false}, 0.5}, // ties count half
	}
	for _, c := range cases {
		if got := auc(c.score, c.pos); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("auc(%v, %v) = %v, want %v", c.score, c.pos, got, c.want)
		}
	}
}

func TestRecallAtFPR(t *testing.T) {
	neg := make([]float64, 100)
	for i := range neg {
		neg[i] = float64(i) / 100 // 0.00 … 0.99
	}
	pos := []float64{0.99, 0.97, 0.96, 0.5, 0.2}
	// 5 % of 100 negatives may pass: the threshold sits just above 0.94,
	// so 0.95–0.99 (five negatives) pass and three positives are found.
	r, th := recallAtFPR(pos, neg, 0.05)
	if math.Abs(r-0.6) > 1e-12 || th <= 0.94 || th > 0.95 {
		t.Fatalf("recall %v at threshold %v, want 0.6 just above 0.94", r, th)
	}
	fp := 0
	for _, s := range neg {
		if s >= th {
			fp++
		}
	}
	if fp > 5 {
		t.Fatalf("%d false positives at the threshold, allowed 5", fp)
	}
}
