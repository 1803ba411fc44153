package main

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
)

// progressBar draws one updating line on stderr: stage, bar, percent,
// elapsed time. It redraws at most ten times a second.
type progressBar struct {
	mu    sync.Mutex
	w     io.Writer
	start time.Time
	last  time.Time
	stage string
}

func newProgressBar(w io.Writer) *progressBar {
	return &progressBar{w: w, start: time.Now()}
}

func (p *progressBar) update(stage string, frac float64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	if stage == p.stage && frac < 1 && now.Sub(p.last) < 100*time.Millisecond {
		return
	}
	if stage != p.stage && p.stage != "" {
		fmt.Fprintln(p.w)
	}
	p.stage, p.last = stage, now
	frac = min(max(frac, 0), 1)
	const width = 30
	n := int(frac * width)
	fmt.Fprintf(p.w, "\r%-22s [%s%s] %3.0f%%  %s", stage, strings.Repeat("#", n), strings.Repeat(".", width-n), frac*100, now.Sub(p.start).Round(time.Second))
}

func (p *progressBar) done() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stage != "" {
		fmt.Fprintln(p.w)
	}
}
