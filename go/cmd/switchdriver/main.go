// Command switchdriver runs one goroutine benchmark body for the Python
// orchestrator. It is started once per pyperf worker process and then
// serves samples: each line on stdin is an op count, and each answer on
// stdout is one JSON object describing that timed run.
//
//	switchdriver -body chan -gomaxprocs 1 -serve
//	switchdriver -body chan.pairs -pairs 64 -gomaxprocs 0 -ops 1000
//	switchdriver -body touch.ring -ring-size 8 -working-set 16384 -ops 1000
//	switchdriver -leaks sender -leak-version leaking -k 1000 -profile-dir DIR
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"switchbench/go/leaks"
	"switchbench/go/perfcount"
	"switchbench/go/switching"
)

// testBodies misbehave on purpose, so the suite's tests can check that a
// hung or crashing case is killed and reported while the run goes on.
var testBodies = map[string]switching.Body{
	"test.hang": func(int, switching.Params, switching.Region) switching.Handoffs {
		time.Sleep(24 * time.Hour)
		return switching.Handoffs{}
	},
	"test.crash": func(int, switching.Params, switching.Region) switching.Handoffs {
		panic("test.crash: crashing on purpose")
	},
}

// Sample is one timed run, in the same shape as the C side's sb_result.
type Sample struct {
	Ops              int   `json:"ops"`
	ElapsedNs        int64 `json:"elapsed_ns"`
	Handoffs         int   `json:"handoffs"`
	ExpectedHandoffs int   `json:"expected_handoffs"`
	OrderErrors      int   `json:"order_errors"`
	VoluntaryCtx     int64 `json:"voluntary_ctx"`
	InvoluntaryCtx   int64 `json:"involuntary_ctx"`
	GOMAXPROCS       int   `json:"gomaxprocs"`
	// perf counters over the region, in perfcount.Names order; null where
	// unavailable, with the reason in CounterErrors.
	Counters      [perfcount.N]*int64 `json:"counters"`
	CounterErrors [perfcount.N]string `json:"counter_errors"`
	Error         string              `json:"error,omitempty"`
}

// rusageRegion times the region and counts the OS context switches of the
// whole process over it. getrusage(RUSAGE_SELF) covers every thread the
// runtime owns (Ms, sysmon, GC workers), which is what a goroutine switch
// may cost the OS.
type rusageRegion struct {
	countPerf           bool
	perf                *perfcount.Region
	counted             perfcount.Result
	start               time.Time
	elapsed             time.Duration
	before, after       syscall.Rusage
	beforeErr, afterErr error
}

func (r *rusageRegion) Start() {
	r.perf = perfcount.Start(r.countPerf)
	r.beforeErr = syscall.Getrusage(syscall.RUSAGE_SELF, &r.before)
	r.start = time.Now()
}

func (r *rusageRegion) Stop() {
	r.elapsed = time.Since(r.start)
	r.afterErr = syscall.Getrusage(syscall.RUSAGE_SELF, &r.after)
	r.counted = r.perf.Stop()
}

func runOnce(body switching.Body, params switching.Params, ops int, countPerf bool) Sample {
	s := Sample{Ops: ops, GOMAXPROCS: runtime.GOMAXPROCS(0)}
	if ops < 1 {
		s.Error = fmt.Sprintf("ops must be at least 1, got %d", ops)
		return s
	}
	r := rusageRegion{countPerf: countPerf}
	h := body(ops, params, &r)
	s.ElapsedNs = r.elapsed.Nanoseconds()
	s.Handoffs, s.ExpectedHandoffs, s.OrderErrors = h.Count, h.Expected, h.OrderErrors
	s.VoluntaryCtx = r.after.Nvcsw - r.before.Nvcsw
	s.InvoluntaryCtx = r.after.Nivcsw - r.before.Nivcsw
	s.CounterErrors = r.counted.Err
	for i := range s.Counters {
		if r.counted.Err[i] == "" {
			v := r.counted.Value[i]
			s.Counters[i] = &v
		}
	}
	if r.beforeErr != nil || r.afterErr != nil {
		s.Error = fmt.Sprintf("getrusage failed: %v %v", r.beforeErr, r.afterErr)
	} else if err := h.Check(); err != nil {
		s.Error = err.Error()
	}
	return s
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "switchdriver: "+format+"\n", args...)
	os.Exit(2)
}

func main() {
	bodyName := flag.String("body", "", "benchmark body")
	procs := flag.Int("gomaxprocs", 1, "GOMAXPROCS for the run; 0 means every CPU")
	pairs := flag.Int("pairs", 1, "independent pairs (chan.pairs)")
	ringSize := flag.Int("ring-size", 2, "goroutines in the ring (chan.ring), buffers touched in turn (touch.ring)")
	workingSet := flag.Int("working-set", 0, "bytes each goroutine touches per turn (chan.ring), bytes per buffer (touch.ring, at least 64)")
	serve := flag.Bool("serve", false, "read op counts from stdin, one per line (\"N\" or \"N perf\" to read perf counters too), and answer each with a JSON sample")
	ops := flag.Int("ops", 0, "run once with this many ops and exit")
	park := flag.Int("park", 0, "park this many goroutines, print what they cost in memory, and exit")
	grow := flag.Int("grow", 0, "grow one goroutine's stack to this many bytes, print the cost, and exit")
	maxStack := flag.Int("max-stack", 0, "with -grow: debug.SetMaxStack to this many bytes first")
	leakScenario := flag.String("leaks", "", "run one goroutine-leak scenario ("+strings.Join(leaks.Scenarios(), ", ")+"), print what it left as JSON, and exit")
	leakVersion := flag.String("leak-version", "leaking", "with -leaks: leaking or fixed")
	leakK := flag.Int("k", 1000, "with -leaks: how many times the scenario runs")
	profileDir := flag.String("profile-dir", "", "with -leaks: save the goroutine profiles (.pb.gz) here")
	flag.Parse()

	if *leakScenario != "" {
		r, err := leaks.Run(*leakScenario, *leakVersion, *leakK, leaks.Options{ProfileDir: *profileDir})
		if err != nil {
			r.Error = err.Error()
		}
		_ = json.NewEncoder(os.Stdout).Encode(r)
		if err != nil {
			fail("leak scenario %s (%s): %v", *leakScenario, *leakVersion, err)
		}
		return
	}

	if *grow > 0 {
		_ = json.NewEncoder(os.Stdout).Encode(switching.GrowStack(*grow, *maxStack))
		return
	}

	if *park > 0 {
		m, err := switching.ParkGoroutines(*park)
		_ = json.NewEncoder(os.Stdout).Encode(m)
		if err != nil {
			fail("measuring parked goroutines: %v", err)
		}
		return
	}

	body, ok := switching.Bodies[*bodyName]
	if test, isTest := testBodies[*bodyName]; isTest {
		body, ok = test, true
	}
	if !ok {
		names := make([]string, 0, len(switching.Bodies))
		for name := range switching.Bodies {
			names = append(names, name)
		}
		sort.Strings(names)
		fail("unknown -body %q (known: %s)", *bodyName, strings.Join(names, ", "))
	}
	if *procs < 0 || *pairs < 1 || *ringSize < 2 || *workingSet < 0 {
		fail("need -gomaxprocs >= 0, -pairs >= 1, -ring-size >= 2, -working-set >= 0")
	}
	if *procs == 0 {
		*procs = runtime.NumCPU()
	}
	runtime.GOMAXPROCS(*procs)
	params := switching.Params{Pairs: *pairs, RingSize: *ringSize, WorkingSet: *workingSet}

	out := json.NewEncoder(os.Stdout)
	if !*serve {
		s := runOnce(body, params, *ops, true)
		_ = out.Encode(s)
		if s.Error != "" {
			os.Exit(1)
		}
		return
	}
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		// "N" times N ops; "N perf" also reads the perf counters.
		fields := strings.Fields(in.Text())
		var n int
		var err error
		if len(fields) > 0 {
			n, err = strconv.Atoi(fields[0])
		}
		countPerf := len(fields) == 2 && fields[1] == "perf"
		if len(fields) == 0 || err != nil || len(fields) > 2 || (len(fields) == 2 && !countPerf) {
			_ = out.Encode(Sample{Error: fmt.Sprintf("want \"OPS\" or \"OPS perf\", got %q", in.Text())})
			continue
		}
		if err := out.Encode(runOnce(body, params, n, countPerf)); err != nil {
			os.Exit(1)
		}
	}
}
