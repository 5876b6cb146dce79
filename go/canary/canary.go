// Package canary is the mood canary of the Go side: a fixed memory-latency
// pointer chase timed beside each benchmark value, so that the analysis can
// take the machine's momentary state (contention in the memory hierarchy it
// shares with neighbours) out of the values. It is the same chase as
// c/canary.c: one random cycle (Sattolo's algorithm) through the cache
// lines of a buffer, every load depending on the one before.
package canary

import (
	"errors"
	"fmt"
	"runtime"
	"slices"
	"time"
)

// lineWords is one 64-byte cache line in uint64 words: each line holds the
// index of the next line's first word, the rest of it is never read.
const lineWords = 8

// Chase is one prepared buffer. Made once per process; not safe for use
// by two goroutines at once.
type Chase struct {
	buf []uint64
	at  uint64 // where the last chase stopped: the next goes on from there
}

// New prepares a chase through bytes of memory (at least two lines), the
// cycle drawn from seed: the same seed gives the same cycle.
func New(bytes int, seed uint64) (*Chase, error) {
	lines := bytes / (lineWords * 8)
	if lines < 2 {
		return nil, errors.New("canary: the buffer must hold at least two 64-byte lines")
	}
	order := make([]uint64, lines)
	for i := range order {
		order[i] = uint64(i)
	}
	state := seed | 1
	for i := lines - 1; i > 0; i-- {
		// xorshift64*, as c/canary.c: enough to shuffle.
		state ^= state >> 12
		state ^= state << 25
		state ^= state >> 27
		j := int((state * 2685821657736338717) % uint64(i))
		order[i], order[j] = order[j], order[i]
	}
	buf := make([]uint64, lines*lineWords)
	for i := range order {
		buf[order[i]*lineWords] = order[(i+1)%lines] * lineWords
	}
	return &Chase{buf: buf, at: order[0] * lineWords}, nil
}

// MaxLaps is the most stretches one chase may be timed in, as in c/canary.c.
const MaxLaps = 64

// NsPerLoad walks warm dependent loads of the chase untimed (to bring the
// buffer back into cache, as c/canary.c does), then times loads more in laps
// equal stretches, on the calling goroutine locked to its OS thread for the
// while, and returns the median stretch's ns per load: an interrupt or a
// preemption lands in one stretch and is left out, while a mood of the
// machine (lasting milliseconds) slows them all.
func (c *Chase) NsPerLoad(warm, loads, laps int) (float64, error) {
	if laps < 1 || laps > MaxLaps || loads < laps {
		return 0, fmt.Errorf("canary: want 1 to %d laps and at least a load a lap, got %d loads in %d laps", MaxLaps, loads, laps)
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	buf, at := c.buf, c.at
	for i := 0; i < warm; i++ {
		at = buf[at]
	}
	perLap := loads / laps
	perLoad := make([]float64, laps) // made before the first stretch is timed
	for lap := range perLoad {
		start := time.Now()
		for i := 0; i < perLap; i++ {
			at = buf[at]
		}
		elapsed := time.Since(start)
		if elapsed <= 0 {
			return 0, errors.New("canary: the clock did not advance")
		}
		perLoad[lap] = float64(elapsed.Nanoseconds()) / float64(perLap)
	}
	c.at = at
	slices.Sort(perLoad)
	if laps%2 == 1 {
		return perLoad[laps/2], nil
	}
	return (perLoad[laps/2-1] + perLoad[laps/2]) / 2, nil
}
