package server

import (
	"sync"
	"time"
)

// maxBuckets bounds the limiter's memory: past it, idle buckets are
// dropped, and if every bucket is busy the oldest half goes (a flood of
// fresh addresses must not grow the map without bound).
const maxBuckets = 100_000

type bucket struct {
	tokens float64
	last   time.Time
}

// limiter is a token bucket per key (client IP or user).
type limiter struct {
	mu      sync.Mutex
	rate    float64 // tokens per second
	burst   float64
	now     func() time.Time
	buckets map[string]*bucket
}

func newLimiter(rate float64, burst int, now func() time.Time) *limiter {
	return &limiter{rate: rate, burst: float64(burst), now: now, buckets: map[string]*bucket{}}
}

// allow takes a token for key; when none is left it says how long until one is.
func (l *limiter) allow(key string) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	b := l.buckets[key]
	if b == nil {
		if len(l.buckets) >= maxBuckets {
			l.sweep(now)
		}
		b = &bucket{tokens: l.burst, last: now}
		l.buckets[key] = b
	}
	if el := now.Sub(b.last).Seconds(); el > 0 {
		b.tokens = min(l.burst, b.tokens+el*l.rate)
		b.last = now
	}
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	return false, time.Duration((1 - b.tokens) / l.rate * float64(time.Second))
}

func (l *limiter) sweep(now time.Time) {
	full := time.Duration(l.burst / l.rate * float64(time.Second))
	for k, b := range l.buckets {
		if now.Sub(b.last) >= full {
			delete(l.buckets, k)
		}
	}
	if len(l.buckets) < maxBuckets/2 {
		return
	}
	n := 0
	for k := range l.buckets { // map order is random: drop an arbitrary half
		delete(l.buckets, k)
		if n++; n >= maxBuckets/2 {
			break
		}
	}
}
