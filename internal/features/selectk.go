package features

// Percentiles by selection rather than sorting: the Summarizer needs three
// order statistics per contour, and Hoare's quickselect finds them in
// O(n) (sorting was 60 % of its time).

// selectK reorders a so that a[k] is its k-th smallest value, with
// a[:k] ≤ a[k] ≤ a[k+1:]. Values are finite (the Frontend never emits NaN).
func selectK(a []float32, k int) {
	lo, hi := 0, len(a)-1
	for hi > lo {
		// Median of three as pivot, which keeps sorted and constant
		// contours (common: silence, held F0) linear.
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
		pivot := a[mid]
		i, j := lo, hi
		for i <= j {
			for a[i] < pivot {
				i++
			}
			for a[j] > pivot {
				j--
			}
			if i <= j {
				a[i], a[j] = a[j], a[i]
				i++
				j--
			}
		}
		switch {
		case k <= j:
			hi = j
		case k >= i:
			lo = i
		default:
			return
		}
	}
}

// percentiles writes the linearly interpolated percentiles ps (ascending,
// in [0,1]) of a into out, reordering a.
func percentiles(out []float32, a []float32, ps ...float64) {
	n := len(a)
	if n == 0 {
		clear(out[:len(ps)])
		return
	}
	base := 0
	for q, p := range ps {
		pos := p * float64(n-1)
		i := int(pos)
		if i >= n-1 {
			i = n - 1
		}
		selectK(a[base:], i-base)
		v := a[i]
		if fr := float32(pos - float64(i)); fr > 0 && i+1 < n {
			next := a[i+1]
			for _, x := range a[i+2:] {
				next = min(next, x)
			}
			v += fr * (next - v)
		}
		out[q] = v
		base = i
	}
}
