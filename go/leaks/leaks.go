// Package leaks measures what a leaked goroutine (or a leaked object) costs
// and whether the ways users look for leaks find it.
//
// Each scenario has a leaking and a fixed version. Run calls one of them K
// times, counts what is left after garbage collection (goroutines, or
// objects tracked through weak pointers), fits the growth per iteration,
// reads what the leak holds on the heap and in goroutine stacks, and then
// tries three detectors: a NumGoroutine growth test, the goroutine profile
// of runtime/pprof, and the runtime's goroutineleak profile (present only
// in a binary built with GOEXPERIMENT=goroutineleakprofile).
//
// A nil-channel leak can never be released, so nothing here tries to
// release any: run one scenario per process (the driver does).
package leaks

import (
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sort"
	"strings"
	"time"
)

// Unit is what a scenario leaks, and so what its growth is counted in.
const (
	UnitGoroutine = "goroutine"
	UnitObject    = "object"
)

type scenario struct {
	unit    string
	leaking func(*tracker)
	fixed   func(*tracker)
	// godebug is set in GODEBUG while the scenario runs ("" for none).
	godebug string
	// callbacks: the scenario counts finalizers or cleanups run.
	callbacks bool
}

var scenarios = map[string]scenario{
	"sender":   {unit: UnitGoroutine, leaking: senderLeaking, fixed: senderFixed},
	"receiver": {unit: UnitGoroutine, leaking: receiverLeaking, fixed: receiverFixed},
	"nilchan":  {unit: UnitGoroutine, leaking: nilchanLeaking, fixed: nilchanFixed},
	// ticker runs under the timer semantics this module gets by default
	// (go.mod's go line picks the default of GODEBUG asynctimerchan);
	// ticker-go123 under those of Go 1.23 and later (asynctimerchan=0),
	// which a module whose go.mod says go 1.23 or newer gets.
	"ticker":          {unit: UnitObject, leaking: tickerLeaking, fixed: tickerFixed},
	"ticker-go123":    {unit: UnitObject, leaking: tickerLeaking, fixed: tickerFixed, godebug: "asynctimerchan=0"},
	"finalizer-cycle": {unit: UnitObject, leaking: finalizerLeaking, fixed: finalizerFixed, callbacks: true},
}

// Scenarios lists the scenario names, sorted.
func Scenarios() []string {
	names := make([]string, 0, len(scenarios))
	for name := range scenarios {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// Checkpoint is the state after Iter iterations (and, for object
// scenarios, a collection).
type Checkpoint struct {
	Iter       int  `json:"iter"`
	Goroutines int  `json:"goroutines"`
	Retained   *int `json:"retained"` // tracked objects still alive; null for goroutine scenarios
}

// Method is one way of looking for the leak.
type Method struct {
	Available bool     `json:"available"`
	Caught    *bool    `json:"caught"` // null when unavailable
	Value     *float64 `json:"value"`  // what the rule compares
	Rule      string   `json:"rule"`
	Reason    string   `json:"reason,omitempty"` // why unavailable
	Profile   string   `json:"profile,omitempty"`
}

// Detection is what each method found.
type Detection struct {
	NumGoroutine  Method `json:"numgoroutine"`
	Pprof         Method `json:"pprof"`
	GoroutineLeak Method `json:"goroutineleak"`
}

// Stack is one stack of the goroutine profile with the goroutines on it.
type Stack struct {
	Count int `json:"count"`
	// Wait is the most common wait reason of those goroutines, from the
	// debug=2 dump ("" where none matched).
	Wait    string   `json:"wait"`
	Frames  []string `json:"frames"` // function names, innermost first, runtime frames left out
	Summary string   `json:"summary"`
}

// Result is one scenario run.
type Result struct {
	Scenario     string `json:"scenario"`
	Version      string `json:"version"`
	GoVersion    string `json:"go_version"`
	GoExperiment string `json:"goexperiment"`
	// Godebug is the asynctimerchan setting the run's timers saw.
	Godebug string `json:"godebug"`
	K       int    `json:"k"`
	Unit    string `json:"unit"`

	GoroutinesBefore        int     `json:"goroutines_before"`
	GoroutinesAfter         int     `json:"goroutines_after"`
	GoroutinesLeft          int     `json:"goroutines_left"`
	LeakedGoroutinesPerIter float64 `json:"leaked_goroutines_per_iter"`
	RetainedObjects         *int    `json:"retained_objects"` // null for goroutine scenarios
	// Leaked is what is left in the scenario's unit; LeakedPerIter and Slope
	// are per iteration in that unit.
	Leaked         int          `json:"leaked"`
	LeakedPerIter  float64      `json:"leaked_per_iter"`
	Slope          float64      `json:"slope"`
	GoroutineSlope float64      `json:"goroutine_slope"`
	Checkpoints    []Checkpoint `json:"checkpoints"`

	HeapBeforeBytes   int64    `json:"heap_before_bytes"`
	HeapAfterBytes    int64    `json:"heap_after_bytes"`
	TrackingBytes     int64    `json:"tracking_bytes"` // the weak handles' own heap, taken out of the delta
	StackBeforeBytes  int64    `json:"stack_before_bytes"`
	StackAfterBytes   int64    `json:"stack_after_bytes"`
	HeapBytesPerLeak  *float64 `json:"heap_bytes_per_leak"`  // null when nothing leaked
	StackBytesPerLeak *float64 `json:"stack_bytes_per_leak"` // null when nothing leaked, and for objects
	CallbacksRun      *int64   `json:"callbacks_run"`        // finalizers or cleanups run (finalizer-cycle)
	// TimerOldSemanticsEvents counts timers made with the pre-Go 1.23
	// semantics during the run (runtime/metrics); null where not reported.
	TimerOldSemanticsEvents *int64 `json:"timer_old_semantics_events"`
	ElapsedNs               int64  `json:"elapsed_ns"`

	Detection Detection `json:"detection"`
	TopStacks []Stack   `json:"top_stacks"`
	Error     string    `json:"error,omitempty"`
}

// Options of a run.
type Options struct {
	// ProfileDir receives the profiles as .pb.gz files; "" writes none
	// (they are still read for the summary).
	ProfileDir string
	// Settle bounds each wait for goroutines to block or exit, and for
	// finalizers or cleanups to run; 0 means two seconds.
	Settle time.Duration
}

// NumGoroutineThreshold is the growth per iteration above which the
// NumGoroutine test calls it a leak: halfway between a function that leaks
// one goroutine per call (1) and one that leaks none (0).
const NumGoroutineThreshold = 0.5

// Run runs one version ("leaking" or "fixed") of a scenario k times and
// measures what is left.
func Run(name, version string, k int, opt Options) (Result, error) {
	r := Result{Scenario: name, Version: version, K: k, GoVersion: runtime.Version(), GoExperiment: buildSetting("GOEXPERIMENT")}
	s, ok := scenarios[name]
	if !ok {
		return r, fmt.Errorf("unknown scenario %q (known: %s)", name, strings.Join(Scenarios(), ", "))
	}
	body := s.leaking
	switch version {
	case "leaking":
	case "fixed":
		body = s.fixed
	default:
		return r, fmt.Errorf("unknown version %q (want leaking or fixed)", version)
	}
	if k < 4 {
		return r, fmt.Errorf("k must be at least 4, got %d", k)
	}
	r.Unit = s.unit
	if s.unit == UnitObject {
		if err := trackingErr(); err != nil {
			return r, err
		}
	}
	if opt.Settle <= 0 {
		opt.Settle = 2 * time.Second
	}
	if s.godebug != "" {
		restore := setGodebug(s.godebug)
		defer restore()
	}
	r.Godebug = "asynctimerchan=" + godebugValue("asynctimerchan")

	tr := newTracker(k)
	if s.unit == UnitObject {
		r.TrackingBytes = handleBytes(k)
	}
	oldTimers := timerOldSemanticsEvents()
	quiesce(opt.Settle)
	runtime.GC()
	r.GoroutinesBefore = runtime.NumGoroutine()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	r.HeapBeforeBytes, r.StackBeforeBytes = int64(ms.HeapAlloc), int64(ms.StackInuse)

	xs := []float64{0}
	goroutines := []float64{float64(r.GoroutinesBefore)}
	leaked := []float64{0}
	start := time.Now()
	next := 1
	for i := 1; i <= k; i++ {
		body(tr)
		if i != k*next/4 {
			continue
		}
		next++
		quiesce(opt.Settle)
		c := Checkpoint{Iter: i, Goroutines: runtime.NumGoroutine()}
		xs = append(xs, float64(i))
		goroutines = append(goroutines, float64(c.Goroutines))
		if s.unit == UnitObject {
			runtime.GC()
			n := tr.live()
			c.Retained = &n
			leaked = append(leaked, float64(n))
		} else {
			leaked = append(leaked, float64(c.Goroutines-r.GoroutinesBefore))
		}
		r.Checkpoints = append(r.Checkpoints, c)
	}
	r.ElapsedNs = time.Since(start).Nanoseconds()
	r.Slope = slope(xs, leaked)
	r.GoroutineSlope = slope(xs, goroutines)

	quiesce(opt.Settle)
	runtime.GC()
	runtime.GC()
	if s.callbacks {
		// Finalizers and cleanups run after the collection that queued
		// them; wait (boundedly) for one per freed object.
		freed := int64(k - tr.live())
		deadline := time.Now().Add(opt.Settle)
		for tr.callbacks.Load() < freed && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
		n := tr.callbacks.Load()
		r.CallbacksRun = &n
		quiesce(opt.Settle)
		runtime.GC()
	}
	r.GoroutinesAfter = runtime.NumGoroutine()
	runtime.ReadMemStats(&ms)
	r.HeapAfterBytes, r.StackAfterBytes = int64(ms.HeapAlloc), int64(ms.StackInuse)
	r.GoroutinesLeft = r.GoroutinesAfter - r.GoroutinesBefore
	r.LeakedGoroutinesPerIter = float64(r.GoroutinesLeft) / float64(k)
	if s.unit == UnitObject {
		n := tr.live()
		r.RetainedObjects = &n
		r.Leaked = n
	} else {
		r.Leaked = r.GoroutinesLeft
	}
	r.LeakedPerIter = float64(r.Leaked) / float64(k)
	if r.Leaked > 0 {
		heap := float64(r.HeapAfterBytes-r.HeapBeforeBytes-r.TrackingBytes) / float64(r.Leaked)
		r.HeapBytesPerLeak = &heap
		// A leaked object has no stack: whatever StackInuse did meanwhile
		// is the runtime's own business, not the leak's.
		if s.unit == UnitGoroutine {
			stack := float64(r.StackAfterBytes-r.StackBeforeBytes) / float64(r.Leaked)
			r.StackBytesPerLeak = &stack
		}
	}
	if n, ok := timerOldSemanticsEventsOK(); ok && oldTimers != nil {
		d := n - *oldTimers
		r.TimerOldSemanticsEvents = &d
	}

	slopeValue := r.GoroutineSlope
	r.Detection.NumGoroutine = Method{
		Available: true,
		Caught:    boolPtr(slopeValue > NumGoroutineThreshold),
		Value:     &slopeValue,
		Rule:      fmt.Sprintf("least-squares growth of runtime.NumGoroutine over %d checkpoints > %g per iteration", len(xs), NumGoroutineThreshold),
	}
	var err error
	r.Detection.Pprof, r.TopStacks, err = goroutineProfile(name, version, k, opt.ProfileDir)
	if err != nil {
		return r, err
	}
	r.Detection.GoroutineLeak, err = goroutineLeakProfile(name, version, k, opt.ProfileDir)
	runtime.KeepAlive(tr)
	return r, err
}

func boolPtr(b bool) *bool { return &b }

// slope is the least-squares slope of ys over xs.
func slope(xs, ys []float64) float64 {
	n := float64(len(xs))
	var sx, sy, sxx, sxy float64
	for i := range xs {
		sx += xs[i]
		sy += ys[i]
		sxx += xs[i] * xs[i]
		sxy += xs[i] * ys[i]
	}
	d := n*sxx - sx*sx
	if d == 0 {
		return 0
	}
	return (n*sxy - sx*sy) / d
}

// quiesce waits until no goroutine but the caller is runnable, so that
// every goroutine a scenario started has either exited or blocked where it
// will stay. The scheduler's own counts (runtime/metrics, Go 1.26) say so
// directly; without them, NumGoroutine holding still for 20 polls in a row
// is taken as the sign. Never longer than limit.
func quiesce(limit time.Duration) {
	samples := []metrics.Sample{
		{Name: "/sched/goroutines/runnable:goroutines"},
		{Name: "/sched/goroutines/running:goroutines"},
	}
	deadline := time.Now().Add(limit)
	quiet, last, same := 0, -1, 0
	for time.Now().Before(deadline) {
		metrics.Read(samples)
		if samples[0].Value.Kind() == metrics.KindUint64 && samples[1].Value.Kind() == metrics.KindUint64 {
			if samples[0].Value.Uint64() == 0 && samples[1].Value.Uint64() <= 1 {
				quiet++
			} else {
				quiet = 0
			}
			if quiet >= 3 {
				return
			}
		} else {
			n := runtime.NumGoroutine()
			if n == last {
				same++
			} else {
				last, same = n, 0
			}
			if same >= 20 {
				return
			}
		}
		time.Sleep(time.Millisecond)
	}
}

// buildSetting reads one setting of the binary's build information.
func buildSetting(key string) string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return ""
	}
	for _, s := range info.Settings {
		if s.Key == key {
			return s.Value
		}
	}
	return ""
}

// godebugValue is a GODEBUG setting as the process sees it: GODEBUG in the
// environment wins, then the default the main module's go line chose
// (DefaultGODEBUG), then Go's own default, which is "0" for every setting
// named here.
func godebugValue(key string) string {
	for _, source := range []string{os.Getenv("GODEBUG"), buildSetting("DefaultGODEBUG")} {
		value, found := "", false
		for _, kv := range strings.Split(source, ",") {
			if k, v, ok := strings.Cut(strings.TrimSpace(kv), "="); ok && k == key {
				value, found = v, true // the last one wins, as in the runtime
			}
		}
		if found {
			return value
		}
	}
	return "0"
}

// setGodebug adds settings to GODEBUG for the rest of the run; the runtime
// and the time package read a changed GODEBUG at once.
func setGodebug(settings string) (restore func()) {
	old, had := os.LookupEnv("GODEBUG")
	next := settings
	if old != "" {
		next = old + "," + settings
	}
	_ = os.Setenv("GODEBUG", next)
	return func() {
		if had {
			_ = os.Setenv("GODEBUG", old)
		} else {
			_ = os.Unsetenv("GODEBUG")
		}
	}
}

const timerMetric = "/godebug/non-default-behavior/asynctimerchan:events"

func timerOldSemanticsEventsOK() (int64, bool) {
	s := []metrics.Sample{{Name: timerMetric}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0, false
	}
	return int64(s[0].Value.Uint64()), true
}

func timerOldSemanticsEvents() *int64 {
	if n, ok := timerOldSemanticsEventsOK(); ok {
		return &n
	}
	return nil
}

// liveHeap is the heap in use right after a full collection.
func liveHeap() int64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapAlloc)
}
