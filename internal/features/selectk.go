package features

import "math"

// Percentiles by selection rather than sorting: the Summarizer needs three
// order statistics per contour, and Hoare's quickselect finds them in
// O(n) (sorting was 60 % of its time).

// selectK reorders a so that a[k] is its k-th smallest value, with
// a[:k] ≤ a[k] ≤ a[k+1:]. Values are finite (the Frontend never emits NaN).
//
// Lomuto partitioning written without a data-dependent branch (the
// element is always swapped, the boundary advances by a conditional
// move): on contours of a few hundred values a mispredicted branch per
// element is what a Hoare partition spends its time on. Elements equal to
// the pivot are gathered in a second pass when k lies above it, so that
// constant contours (silence, a held F0) stay linear.
func selectK(a []float32, k int) {
	lo, hi := 0, len(a)-1
	for hi-lo >= 16 {
		// Median of three as pivot, moved to a[hi].
		mid := lo + (hi-lo)/2
		if a[mid] < a[lo] {
			a[mid], a[lo] = a[lo], a[mid]
		}
		if a[hi] < a[lo] {
			a[hi], a[lo] = a[lo], a[hi]
		}
		if a[hi] < a[mid] {
			a[hi], a[mid] = a[mid], a[hi]
		}
		a[mid], a[hi] = a[hi], a[mid]
		pivot := a[hi]
		j := partitionLess(a[lo:hi], pivot) + lo
		a[j], a[hi] = a[hi], a[j]
		switch {
		case k < j:
			hi = j - 1
		case k == j:
			return
		default:
			// a[j+1:hi+1] ≥ pivot; move the elements equal to it first.
			e := partitionLessEq(a[j+1:hi+1], pivot) + j + 1
			if k < e {
				return
			}
			lo = e
		}
	}
	// Insertion sort of the short rest.
	for i := lo + 1; i <= hi; i++ {
		v := a[i]
		j := i
		for ; j > lo && a[j-1] > v; j-- {
			a[j] = a[j-1]
		}
		a[j] = v
	}
}

// partitionLess moves the elements of a below pivot to its front and
// returns how many there are.
func partitionLess(a []float32, pivot float32) int {
	j := 0
	for i, v := range a {
		a[i] = a[j]
		a[j] = v
		// The sign of v − pivot is v < pivot, as an integer (Go emits a
		// branch for the if-form).
		j += int(math.Float32bits(v-pivot) >> 31)
	}
	return j
}

// partitionLessEq is partitionLess for elements ≤ pivot.
func partitionLessEq(a []float32, pivot float32) int {
	j := 0
	for i, v := range a {
		a[i] = a[j]
		a[j] = v
		j += 1 - int(math.Float32bits(pivot-v)>>31) // v ≤ pivot
	}
	return j
}

// percentiles writes the linearly interpolated percentiles ps (ascending,
// in [0,1], at most 8) of a into out, reordering a. The order statistics
// are selected middle first, each within the part the previous ones left
// (for 20/50/80: the median over all, then p20 in the lower and p80 in
// the upper half), which visits about 5n elements instead of about 6n.
func percentiles(out []float32, a []float32, ps ...float64) {
	n := len(a)
	if n == 0 {
		clear(out[:len(ps)])
		return
	}
	var pos [8]int
	var frac [8]float32
	for q, p := range ps {
		x := p * float64(n-1)
		i := min(int(x), n-1)
		pos[q], frac[q] = i, float32(x-float64(i))
	}
	selectPositions(a, 0, n, pos[:len(ps)])
	for q := range ps {
		i := pos[q]
		v := a[i]
		if frac[q] > 0 && i+1 < n {
			// The next order statistic is the smallest element between
			// this position and the next selected one beyond it.
			end := n
			for _, j := range pos[q+1 : len(ps)] {
				if j > i {
					end = j + 1
					break
				}
			}
			next := a[i+1]
			for _, x := range a[i+2 : end] {
				next = min(next, x)
			}
			v += frac[q] * (next - v)
		}
		out[q] = v
	}
}

// selectPositions reorders a[lo:hi] so that each a[k], k in pos
// (ascending, all in [lo,hi)), is its k-th smallest and a is partitioned
// around it.
func selectPositions(a []float32, lo, hi int, pos []int) {
	if len(pos) == 0 {
		return
	}
	mid := len(pos) / 2
	k := pos[mid]
	selectK(a[lo:hi], k-lo)
	left, right := pos[:mid], pos[mid+1:]
	for len(left) > 0 && left[len(left)-1] == k {
		left = left[:len(left)-1]
	}
	for len(right) > 0 && right[0] == k {
		right = right[1:]
	}
	selectPositions(a, lo, k, left)
	selectPositions(a, k+1, hi, right)
}
