// Command switchdriver runs one goroutine benchmark body for the Python
// orchestrator. It is started once per pyperf worker process and then
// serves samples: each line on stdin is a round-trip count, and each
// answer on stdout is one JSON object describing that timed run.
//
//	switchdriver -body chan -gomaxprocs 1 -serve
//	switchdriver -body chan -gomaxprocs 2 -round-trips 100000
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"switchbench/go/switching"
)

// bodies maps the -body flag to a benchmark body.
var bodies = map[string]func(int, switching.Region) switching.Handoffs{
	"chan": switching.ChanPingPong,
}

// Sample is one timed run, in the same shape as the C side's sb_result.
type Sample struct {
	RoundTrips     int    `json:"round_trips"`
	ElapsedNs      int64  `json:"elapsed_ns"`
	HandoffsA      int    `json:"handoffs_a"`
	HandoffsB      int    `json:"handoffs_b"`
	OrderErrors    int    `json:"order_errors"`
	VoluntaryCtx   int64  `json:"voluntary_ctx"`
	InvoluntaryCtx int64  `json:"involuntary_ctx"`
	GOMAXPROCS     int    `json:"gomaxprocs"`
	Error          string `json:"error,omitempty"`
}

// rusageRegion times the region and counts the OS context switches of the
// whole process over it. getrusage(RUSAGE_SELF) covers every thread the
// runtime owns (Ms, sysmon, GC workers), which is what a goroutine switch
// may cost the OS.
type rusageRegion struct {
	start               time.Time
	elapsed             time.Duration
	before, after       syscall.Rusage
	beforeErr, afterErr error
}

func (r *rusageRegion) Start() {
	r.beforeErr = syscall.Getrusage(syscall.RUSAGE_SELF, &r.before)
	r.start = time.Now()
}

func (r *rusageRegion) Stop() {
	r.elapsed = time.Since(r.start)
	r.afterErr = syscall.Getrusage(syscall.RUSAGE_SELF, &r.after)
}

func runOnce(body func(int, switching.Region) switching.Handoffs, roundTrips int) Sample {
	s := Sample{RoundTrips: roundTrips, GOMAXPROCS: runtime.GOMAXPROCS(0)}
	if roundTrips < 1 {
		s.Error = fmt.Sprintf("round trips must be at least 1, got %d", roundTrips)
		return s
	}
	var r rusageRegion
	h := body(roundTrips, &r)
	s.ElapsedNs = r.elapsed.Nanoseconds()
	s.HandoffsA, s.HandoffsB, s.OrderErrors = h.SideA, h.SideB, h.OrderErrors
	s.VoluntaryCtx = r.after.Nvcsw - r.before.Nvcsw
	s.InvoluntaryCtx = r.after.Nivcsw - r.before.Nivcsw
	switch {
	case r.beforeErr != nil || r.afterErr != nil:
		s.Error = fmt.Sprintf("getrusage failed: %v %v", r.beforeErr, r.afterErr)
	case h.Check(roundTrips) != nil:
		s.Error = h.Check(roundTrips).Error()
	}
	return s
}

func main() {
	bodyName := flag.String("body", "", "benchmark body: chan")
	procs := flag.Int("gomaxprocs", 1, "GOMAXPROCS for the run")
	serve := flag.Bool("serve", false, "read round-trip counts from stdin, one per line, and answer each with a JSON sample")
	roundTrips := flag.Int("round-trips", 0, "run once with this many round trips and exit")
	flag.Parse()

	body, ok := bodies[*bodyName]
	if !ok {
		fmt.Fprintf(os.Stderr, "switchdriver: unknown -body %q (known: chan)\n", *bodyName)
		os.Exit(2)
	}
	if *procs < 1 {
		fmt.Fprintf(os.Stderr, "switchdriver: -gomaxprocs must be at least 1, got %d\n", *procs)
		os.Exit(2)
	}
	runtime.GOMAXPROCS(*procs)

	out := json.NewEncoder(os.Stdout)
	if !*serve {
		s := runOnce(body, *roundTrips)
		_ = out.Encode(s)
		if s.Error != "" {
			os.Exit(1)
		}
		return
	}
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		line := strings.TrimSpace(in.Text())
		n, err := strconv.Atoi(line)
		if err != nil {
			_ = out.Encode(Sample{Error: fmt.Sprintf("not a round-trip count: %q", line)})
			continue
		}
		if err := out.Encode(runOnce(body, n)); err != nil {
			os.Exit(1)
		}
	}
}
