package main

import (
	"encoding/json"
	"io"
	"runtime"

	"switchbench/go/switching"
)

// clockPairs is how many back-to-back clock reads a latency run also times.
const clockPairs = 10000

// latencyReport is the one JSON line of a latency run.
type latencyReport struct {
	Handoffs   int     `json:"handoffs"`
	GOMAXPROCS int     `json:"gomaxprocs"`
	LatencyNs  []int64 `json:"latency_ns"`
	ClockGapNs []int64 `json:"clock_gap_ns"`
	switching.LatencyRun
}

// measureLatency times n channel hand-offs one by one (switching.ChanLatency)
// at the given GOMAXPROCS (0: every CPU), then the clock's own cost, and
// prints both as one JSON line.
func measureLatency(n, gomaxprocs int, stdout, stderr io.Writer) int {
	if gomaxprocs <= 0 {
		gomaxprocs = runtime.NumCPU()
	}
	runtime.GOMAXPROCS(gomaxprocs)
	r := latencyReport{Handoffs: n, GOMAXPROCS: gomaxprocs, LatencyNs: make([]int64, n)}
	run, err := switching.ChanLatency(r.LatencyNs)
	if err != nil {
		return fail(stderr, "latency: %v", err)
	}
	r.LatencyRun = run
	r.ClockGapNs = make([]int64, clockPairs)
	switching.ClockGaps(r.ClockGapNs)
	if err := json.NewEncoder(stdout).Encode(r); err != nil {
		return fail(stderr, "latency: writing the result: %v", err)
	}
	return exitOK
}
