package model

import "testing"

func TestFitIsBitForBitDeterministic(t *testing.T) {
	data := blobs(3, 6, 60, 2)
	cfg := DefaultFit()
	cfg.Hidden = []int{16}
	cfg.Epochs = 5
	a := fit(data.X, 6, data.Y, nil, 3, cfg)
	b := fit(data.X, 6, data.Y, nil, 3, cfg)
	for l := range a.W {
		for i := range a.W[l] {
			if a.W[l][i] != b.W[l][i] {
				t.Fatalf("layer %d w %d differs", l, i)
			}
		}
	}
	cfg.Workers = 1
	a = fit(data.X, 6, data.Y, nil, 3, cfg)
	b = fit(data.X, 6, data.Y, nil, 3, cfg)
	for l := range a.W {
		for i := range a.W[l] {
			if a.W[l][i] != b.W[l][i] {
				t.Fatalf("1 worker: layer %d w %d differs", l, i)
			}
		}
	}
}
