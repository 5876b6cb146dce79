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
	"errors"
	"flag"
	"fmt"
	"io"
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
	// Account: where the region's time went (account.go), for "N account" only.
	Account *Account `json:"account,omitempty"`
	// CPUNs: the process's CPU time (CLOCK_PROCESS_CPUTIME_ID) over the region, and
	// WallNs the wall time of that same bracket (just outside it); null where the CPU
	// clock could not be read. Their ratio is the run's CPU share (cpushare.go).
	CPUNs  *int64 `json:"cpu_ns"`
	WallNs *int64 `json:"wall_ns"`
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
	account             *accountRegion // nil: no accounting (every timed sample)
	share               cpuShare
}

func (r *rusageRegion) Start() {
	if r.account != nil {
		r.account.begin()
	}
	r.perf = perfcount.Start(r.countPerf)
	r.beforeErr = syscall.Getrusage(syscall.RUSAGE_SELF, &r.before)
	r.share.begin()
	r.start = time.Now()
}

func (r *rusageRegion) Stop() {
	r.elapsed = time.Since(r.start)
	r.share.end()
	r.afterErr = syscall.Getrusage(syscall.RUSAGE_SELF, &r.after)
	r.counted = r.perf.Stop()
	if r.account != nil {
		r.account.end()
	}
}

func runOnce(body switching.Body, params switching.Params, ops int, countPerf bool) Sample {
	return runAccounted(body, params, ops, countPerf, false)
}

// runAccounted is runOnce, with the time split read around the region when account is set.
func runAccounted(body switching.Body, params switching.Params, ops int, countPerf, account bool) Sample {
	s := Sample{Ops: ops, GOMAXPROCS: runtime.GOMAXPROCS(0)}
	if ops < 1 {
		s.Error = fmt.Sprintf("ops must be at least 1, got %d", ops)
		return s
	}
	r := rusageRegion{countPerf: countPerf}
	if account {
		r.account = &accountRegion{}
	}
	h := body(ops, params, &r)
	if r.account != nil {
		s.Account = &r.account.out
	}
	s.ElapsedNs = r.elapsed.Nanoseconds()
	s.CPUNs, s.WallNs = r.share.result()
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

// Exit statuses. The orchestrator reads the JSON line for what went wrong
// with a sample, and stderr for everything else.
const (
	exitOK = 0
	// exitSampleFailed: the sample says it failed, or could not be written
	// at all (the reader is gone).
	exitSampleFailed = 1
	// exitFailed: bad flags, or a mode that could not measure; stderr says why.
	exitFailed = 2
)

// fail says on stderr why the driver gives up, and returns the status to exit with.
func fail(stderr io.Writer, format string, args ...any) int {
	fmt.Fprintf(stderr, "switchdriver: "+format+"\n", args...)
	return exitFailed
}

// options holds every flag; which of them are set picks the mode.
type options struct {
	body                                    string
	gomaxprocs, pairs, ringSize, workingSet int
	serve                                   bool
	ops                                     int
	park                                    int
	grow, maxStack                          int
	leakScenario, leakVersion               string
	leakK                                   int
	profileDir                              string
	latency                                 int
}

// parseFlags reads the command line. A flag set of its own rather than the
// global one, so that the tests can parse flags too; like the global one it
// exits on a bad flag.
func parseFlags(args []string) options {
	var o options
	fs := flag.NewFlagSet(os.Args[0], flag.ExitOnError)
	fs.StringVar(&o.body, "body", "", "benchmark body")
	fs.IntVar(&o.gomaxprocs, "gomaxprocs", 1, "GOMAXPROCS for the run; 0 means every CPU")
	fs.IntVar(&o.pairs, "pairs", 1, "independent pairs (chan.pairs)")
	fs.IntVar(&o.ringSize, "ring-size", 2, "goroutines in the ring (chan.ring), buffers touched in turn (touch.ring)")
	fs.IntVar(&o.workingSet, "working-set", 0, "bytes each goroutine touches per turn (chan.ring), bytes per buffer (touch.ring, at least 64)")
	fs.BoolVar(&o.serve, "serve", false, "read op counts from stdin, one per line (\"N\" or \"N perf\" to read perf counters too; \"canary BYTES WARM LOADS LAPS\" times the mood canary after WARM untimed loads, in LAPS stretches, and answers the median stretch), and answer each with a JSON sample")
	fs.IntVar(&o.ops, "ops", 0, "run once with this many ops and exit")
	fs.IntVar(&o.park, "park", 0, "park this many goroutines, print what they cost in memory, and exit")
	fs.IntVar(&o.grow, "grow", 0, "grow one goroutine's stack to this many bytes, print the cost, and exit")
	fs.IntVar(&o.maxStack, "max-stack", 0, "with -grow: debug.SetMaxStack to this many bytes first")
	fs.StringVar(&o.leakScenario, "leaks", "", "run one goroutine-leak scenario ("+strings.Join(leaks.Scenarios(), ", ")+"), print what it left as JSON, and exit")
	fs.StringVar(&o.leakVersion, "leak-version", "leaking", "with -leaks: leaking or fixed")
	fs.IntVar(&o.leakK, "k", 1000, "with -leaks: how many times the scenario runs")
	fs.StringVar(&o.profileDir, "profile-dir", "", "with -leaks: save the goroutine profiles (.pb.gz) here")
	fs.IntVar(&o.latency, "latency", 0, "time this many channel hand-offs one by one at -gomaxprocs, print the latencies as JSON, and exit")
	_ = fs.Parse(args) // ExitOnError: a bad flag never returns here
	return o
}

func main() {
	os.Exit(run(parseFlags(os.Args[1:]), os.Stdin, os.Stdout, os.Stderr))
}

// run starts the mode the flags ask for and returns the exit status.
// -leaks, -grow and -park measure something other than a body, and are
// taken in that order; otherwise a body's samples are served (-serve) or
// one is taken (-ops).
func run(o options, stdin io.Reader, stdout, stderr io.Writer) int {
	switch {
	case o.leakScenario != "":
		return runLeakScenario(o.leakScenario, o.leakVersion, o.leakK, o.profileDir, stdout, stderr)
	case o.grow > 0:
		return measureStackGrowth(o.grow, o.maxStack, stdout)
	case o.park > 0:
		return measureParked(o.park, stdout, stderr)
	case o.latency > 0:
		return measureLatency(o.latency, o.gomaxprocs, stdout, stderr)
	}
	body, params, err := setUpBody(o)
	if err != nil {
		return fail(stderr, "%v", err)
	}
	if o.serve {
		return serveSamples(body, params, stdin, stdout)
	}
	return takeOneSample(body, params, o.ops, stdout)
}

// runLeakScenario prints what one leak scenario left. The JSON line is
// written even when the scenario could not run, so that the orchestrator
// finds the error there as well as on stderr.
func runLeakScenario(scenario, version string, k int, profileDir string, stdout, stderr io.Writer) int {
	r, err := leaks.Run(scenario, version, k, leaks.Options{ProfileDir: profileDir})
	if err != nil {
		r.Error = err.Error()
	}
	_ = json.NewEncoder(stdout).Encode(r)
	if err != nil {
		return fail(stderr, "leak scenario %s (%s): %v", scenario, version, err)
	}
	return exitOK
}

// measureStackGrowth prints what growing one goroutine's stack costs. Past
// maxStack the runtime itself stops the process, so nothing here can fail.
func measureStackGrowth(targetBytes, maxStack int, stdout io.Writer) int {
	_ = json.NewEncoder(stdout).Encode(switching.GrowStack(targetBytes, maxStack))
	return exitOK
}

// measureParked prints what n parked goroutines cost in memory; what was
// measured before a failure is printed too.
func measureParked(n int, stdout, stderr io.Writer) int {
	m, err := switching.ParkGoroutines(n)
	_ = json.NewEncoder(stdout).Encode(m)
	if err != nil {
		return fail(stderr, "measuring parked goroutines: %v", err)
	}
	return exitOK
}

// setUpBody finds the body, checks the shape asked of it, and sets
// GOMAXPROCS, which must hold before the body starts its goroutines.
func setUpBody(o options) (switching.Body, switching.Params, error) {
	body, err := lookUpBody(o.body)
	if err != nil {
		return nil, switching.Params{}, err
	}
	if o.gomaxprocs < 0 || o.pairs < 1 || o.ringSize < 2 || o.workingSet < 0 {
		return nil, switching.Params{}, errors.New("need -gomaxprocs >= 0, -pairs >= 1, -ring-size >= 2, -working-set >= 0")
	}
	procs := o.gomaxprocs
	if procs == 0 {
		procs = runtime.NumCPU()
	}
	runtime.GOMAXPROCS(procs)
	return body, switching.Params{Pairs: o.pairs, RingSize: o.ringSize, WorkingSet: o.workingSet}, nil
}

// lookUpBody finds a body by name among the real ones and the test-only
// ones. The error lists only the real ones: the test-only bodies are no
// choice for anyone measuring.
func lookUpBody(name string) (switching.Body, error) {
	if body, ok := switching.Bodies[name]; ok {
		return body, nil
	}
	if body, ok := switching.TestOnlyBodies[name]; ok {
		return body, nil
	}
	names := make([]string, 0, len(switching.Bodies))
	for known := range switching.Bodies {
		names = append(names, known)
	}
	sort.Strings(names)
	return nil, fmt.Errorf("unknown -body %q (known: %s)", name, strings.Join(names, ", "))
}

// takeOneSample runs ops ops once and prints the sample; the exit status
// says whether the sample failed, for a caller that reads no JSON.
func takeOneSample(body switching.Body, params switching.Params, ops int, stdout io.Writer) int {
	s := runOnce(body, params, ops, true)
	_ = json.NewEncoder(stdout).Encode(s)
	if s.Error != "" {
		return exitSampleFailed
	}
	return exitOK
}

// serveSamples answers each request line on stdin with one JSON sample,
// until stdin ends: a pyperf worker keeps one driver for all its samples.
// A line it cannot read is answered with a sample carrying only the error,
// and serving goes on. Only a sample it cannot write stops it, since then
// the reader is gone.
func serveSamples(body switching.Body, params switching.Params, stdin io.Reader, stdout io.Writer) int {
	out := json.NewEncoder(stdout)
	lines := bufio.NewScanner(stdin)
	chases := canaries{}
	for lines.Scan() {
		if isCanaryRequest(lines.Text()) {
			if err := out.Encode(chases.answer(lines.Text())); err != nil {
				return exitSampleFailed
			}
			continue
		}
		ops, countPerf, account, err := parseRequest(lines.Text())
		if err != nil {
			_ = out.Encode(Sample{Error: err.Error()})
			continue
		}
		if err := out.Encode(runAccounted(body, params, ops, countPerf, account)); err != nil {
			return exitSampleFailed
		}
	}
	return exitOK
}

// parseRequest reads one request line: "N" times N ops; "N perf" also
// reads the perf counters; "N account" also reads where the time went
// (account.go). N itself is checked by runOnce, so that a bad count is
// answered as a failed sample of that count.
func parseRequest(line string) (ops int, countPerf, account bool, err error) {
	bad := fmt.Errorf("want \"OPS\", \"OPS perf\" or \"OPS account\", got %q", line)
	fields := strings.Fields(line)
	if len(fields) < 1 || len(fields) > 2 || (len(fields) == 2 && fields[1] != "perf" && fields[1] != "account") {
		return 0, false, false, bad
	}
	if ops, err = strconv.Atoi(fields[0]); err != nil {
		return 0, false, false, bad
	}
	return ops, len(fields) == 2 && fields[1] == "perf", len(fields) == 2 && fields[1] == "account", nil
}
