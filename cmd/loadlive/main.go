// Command loadlive opens many live listening streams (GET /live) against
// a running `empowerher serve` and sends real-time 16 kHz PCM on each, to
// measure whether the server keeps up: every hop's update should arrive
// within one hop of the audio that completed it. See docs/benchmarks.md.
//
//	empowerher serve --live-streams-per-user 1000 &
//	loadlive -url ws://127.0.0.1:8080/live -token TOKEN -streams 500 -duration 30s -pid $(pgrep -n empowerher)
package main

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"github.com/empowerher/empowerher/internal/audio"
)

const rate = 16000

type result struct {
	latencies []time.Duration
	updates   int
	voiced    int
	frames    int
	err       error
}

func main() {
	url := flag.String("url", "ws://127.0.0.1:8080/live", "live listening WebSocket `URL`")
	token := flag.String("token", os.Getenv("EMPOWERHER_TOKEN"), "API `TOKEN` (Bearer); default $EMPOWERHER_TOKEN")
	streams := flag.Int("streams", 500, "concurrent streams")
	dur := flag.Duration("duration", 30*time.Second, "audio sent per stream (real time)")
	frame := flag.Duration("frame", 100*time.Millisecond, "audio per WebSocket message")
	ramp := flag.Duration("ramp", 5*time.Second, "spread the stream starts over this")
	wav := flag.String("wav", "", "16 kHz WAV `FILE` to loop (default: a synthetic voiced signal)")
	pid := flag.Int("pid", 0, "server process `PID` whose RSS growth per stream is reported")
	late := flag.Duration("late", 500*time.Millisecond, "an update later than this after its audio was sent counts as late")
	flag.Parse()

	src, err := source(*wav)
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadlive:", err)
		os.Exit(1)
	}
	rssBefore := rss(*pid)
	cpuBefore := cpuSeconds(*pid)
	fsz := int(frame.Seconds() * rate)
	var wg sync.WaitGroup
	results := make([]result, *streams)
	var open atomic.Int64
	var peakRSS atomic.Int64
	start := time.Now()
	for i := range *streams {
		wg.Add(1)
		go func() {
			defer wg.Done()
			time.Sleep(time.Duration(float64(*ramp) * float64(i) / float64(*streams)))
			results[i] = stream(*url, *token, src, i*fsz*7%len(src), fsz, *frame, *dur, &open)
		}()
	}
	// Sample the server's RSS while every stream is open.
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				if open.Load() == int64(*streams) {
					if r := rss(*pid); r > peakRSS.Load() {
						peakRSS.Store(r)
					}
				}
			}
		}
	}()
	wg.Wait()
	close(done)
	wall := time.Since(start)
	cpuUsed := cpuSeconds(*pid) - cpuBefore

	var all []time.Duration
	var updates, voiced, frames, failed, lateN int
	var firstErr error
	for _, r := range results {
		if r.err != nil {
			failed++
			if firstErr == nil {
				firstErr = r.err
			}
		}
		updates += r.updates
		voiced += r.voiced
		frames += r.frames
		for _, l := range r.latencies {
			if l > *late {
				lateN++
			}
		}
		all = append(all, r.latencies...)
	}
	sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
	q := func(p float64) time.Duration {
		if len(all) == 0 {
			return 0
		}
		return all[min(len(all)-1, int(p*float64(len(all))))]
	}
	fmt.Printf("streams %d (failed %d), %v of audio each, wall %v\n", *streams, failed, *dur, wall.Round(time.Millisecond))
	fmt.Printf("frames sent %d, hop updates received %d (%.0f%% voiced, i.e. fully analysed), late (> %v) %d\n",
		frames, updates, 100*float64(voiced)/float64(max(updates, 1)), *late, lateN)
	fmt.Printf("update latency after its audio was sent: p50 %v p99 %v max %v\n",
		q(0.5).Round(time.Millisecond), q(0.99).Round(time.Millisecond), q(1).Round(time.Millisecond))
	if *pid > 0 && peakRSS.Load() > 0 {
		fmt.Printf("server RSS: %d MiB idle, %d MiB with all streams open: %.0f KiB per stream\n",
			rssBefore>>20, peakRSS.Load()>>20, float64(peakRSS.Load()-rssBefore)/1024/float64(*streams))
		fmt.Printf("server CPU: %.1f s in %.1f s of wall time (%.2f cores; %.2f ms per stream-second of audio)\n",
			cpuUsed, wall.Seconds(), cpuUsed/wall.Seconds(), 1000*cpuUsed/(float64(*streams)*dur.Seconds()))
	}
	if firstErr != nil {
		fmt.Println("first error:", firstErr)
		os.Exit(1)
	}
}

// stream sends dur of audio in real time and measures each update's
// delay after the frame that completed its hop was sent.
func stream(url, token string, src []int16, off, fsz int, frame, dur time.Duration, open *atomic.Int64) (res result) {
	ctx, cancel := context.WithTimeout(context.Background(), dur+30*time.Second)
	defer cancel()
	h := http.Header{}
	if token != "" {
		h.Set("Authorization", "Bearer "+token)
	}
	c, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{HTTPHeader: h})
	if err != nil {
		res.err = err
		return res
	}
	defer c.CloseNow()
	open.Add(1)
	defer open.Add(-1)
	nFrames := int(dur / frame)
	sent := make([]time.Time, nFrames)
	var mu sync.Mutex
	recvDone := make(chan struct{})
	go func() {
		defer close(recvDone)
		for {
			_, b, err := c.Read(ctx)
			if err != nil {
				return
			}
			var m struct {
				Type   string  `json:"type"`
				T      float64 `json:"t"`
				Voiced bool    `json:"voiced"`
			}
			if json.Unmarshal(b, &m) != nil || m.Type != "update" {
				continue
			}
			now := time.Now()
			// The hop ending at stream time T was completed by the frame
			// holding sample T·rate−1.
			idx := (int(math.Round(m.T*rate)) - 1) / fsz
			mu.Lock()
			if idx >= 0 && idx < len(sent) && !sent[idx].IsZero() {
				res.latencies = append(res.latencies, now.Sub(sent[idx]))
			}
			res.updates++
			if m.Voiced {
				res.voiced++
			}
			mu.Unlock()
		}
	}()
	buf := make([]byte, 2*fsz)
	t0 := time.Now()
	for i := range nFrames {
		if d := time.Until(t0.Add(time.Duration(i) * frame)); d > 0 {
			time.Sleep(d)
		}
		for k := range fsz {
			binary.LittleEndian.PutUint16(buf[2*k:], uint16(src[(off+i*fsz+k)%len(src)]))
		}
		mu.Lock()
		sent[i] = time.Now()
		mu.Unlock()
		if err := c.Write(ctx, websocket.MessageBinary, buf); err != nil {
			res.err = err
			break
		}
		res.frames++
	}
	time.Sleep(time.Second) // the last updates
	c.Close(websocket.StatusNormalClosure, "done")
	cancel()
	<-recvDone
	return res
}

// source is the audio every stream loops: a WAV file, or a voiced
// synthetic signal (harmonic voice with a syllable-rate envelope and a
// noise floor) so that the detector does its full work on every window.
func source(path string) ([]int16, error) {
	var x []float32
	if path != "" {
		clip, err := audio.DecodeFile(path, audio.Options{})
		if err != nil {
			return nil, err
		}
		x = clip.Samples // always audio.SampleRate (16 kHz)
	} else {
		r := rand.New(rand.NewPCG(1, 1))
		x = make([]float32, 20*rate)
		for i := range x {
			t := float64(i) / rate
			f0 := 180 + 40*math.Sin(2*math.Pi*0.3*t)
			env := math.Max(0, math.Sin(2*math.Pi*3*t))
			v := 0.0
			for h := 1; h <= 10; h++ {
				v += math.Sin(2*math.Pi*f0*float64(h)*t) / float64(h)
			}
			x[i] = float32(0.25*env*v + 0.003*r.NormFloat64())
		}
	}
	out := make([]int16, len(x))
	for i, v := range x {
		out[i] = int16(max(-1, min(1, v)) * 32767)
	}
	return out, nil
}

// rss reads a process's resident set size in bytes (0 when unknown).
func rss(pid int) int64 {
	if pid <= 0 {
		return 0
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmRSS:") {
			f := strings.Fields(line)
			if len(f) >= 2 {
				kb, _ := strconv.ParseInt(f[1], 10, 64)
				return kb << 10
			}
		}
	}
	return 0
}

// cpuSeconds is a process's user+system CPU time (0 when unknown).
func cpuSeconds(pid int) float64 {
	if pid <= 0 {
		return 0
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	// Fields after the command name (which may hold spaces) start at ")".
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseFloat(f[11], 64)
	st, _ := strconv.ParseFloat(f[12], 64)
	return (ut + st) / 100 // USER_HZ is 100 on Linux
}
