package eval

import "sort"

// confusion counts true×predicted over labels.
type confusion struct {
	Labels []string
	M      [][]int
}

func newConfusion(labels []string) *confusion {
	c := &confusion{Labels: labels, M: make([][]int, len(labels))}
	for i := range c.M {
		c.M[i] = make([]int, len(labels))
	}
	return c
}

func (c *confusion) add(truth, pred int) { c.M[truth][pred]++ }

func (c *confusion) merge(o *confusion) {
	for i := range c.M {
		for j := range c.M[i] {
			c.M[i][j] += o.M[i][j]
		}
	}
}

// uar is the unweighted average recall over classes that occur.
func (c *confusion) uar() float64 {
	sum, n := 0.0, 0
	for i, row := range c.M {
		tot := 0
		for _, v := range row {
			tot += v
		}
		if tot == 0 {
			continue
		}
		sum += float64(row[i]) / float64(tot)
		n++
	}
	if n == 0 {
		return 0
	}
	return sum / float64(n)
}

func (c *confusion) accuracy() float64 {
	ok, tot := 0, 0
	for i, row := range c.M {
		for j, v := range row {
			tot += v
			if i == j {
				ok += v
			}
		}
	}
	if tot == 0 {
		return 0
	}
	return float64(ok) / float64(tot)
}

// auc is the area under the ROC curve of score for pos vs the rest
// (Mann–Whitney U with ties counted half).
func auc(score []float64, pos []bool) float64 {
	type sp struct {
		s float64
		p bool
	}
	v := make([]sp, len(score))
	for i := range score {
		v[i] = sp{score[i], pos[i]}
	}
	sort.Slice(v, func(i, j int) bool { return v[i].s < v[j].s })
	var np, nn float64
	rankSum := 0.0
	for i := 0; i < len(v); {
		j := i
		for j < len(v) && v[j].s == v[i].s {
			j++
		}
		avg := float64(i+j+1) / 2 // ranks are 1-based
		for k := i; k < j; k++ {
			if v[k].p {
				rankSum += avg
				np++
			} else {
				nn++
			}
		}
		i = j
	}
	if np == 0 || nn == 0 {
		return 0
	}
	return (rankSum - np*(np+1)/2) / (np * nn)
}

// recallAtFPR is the recall of pos scores at the lowest threshold whose
// false-positive rate over neg scores is at most fpr.
func recallAtFPR(pos, neg []float64, fpr float64) (recall, threshold float64) {
	if len(pos) == 0 {
		return 0, 1
	}
	n := append([]float64(nil), neg...)
	sort.Sort(sort.Reverse(sort.Float64Slice(n)))
	// Allowed false positives.
	allowed := int(fpr * float64(len(n)))
	threshold = 0
	if allowed < len(n) {
		// Scores strictly above the (allowed+1)-th highest negative.
		threshold = n[allowed] + 1e-12
	}
	hit := 0
	for _, s := range pos {
		if s >= threshold {
			hit++
		}
	}
	return float64(hit) / float64(len(pos)), threshold
}
