package leaks

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"strings"
	"testing"
)

// testK is small, and each run has a process of its own (this test binary,
// started again): leaks cannot pile up from one run into the next, as a
// nil-channel leak could never be released.
const testK = 200

// noise allows for goroutines the test framework itself starts or ends
// while a scenario runs.
const noise = 2

const childEnv = "SWITCHBENCH_LEAKS_CHILD"

// TestChild is the child side of run: one scenario, its Result as JSON.
func TestChild(t *testing.T) {
	spec := os.Getenv(childEnv)
	if spec == "" {
		t.Skip("only run as a child of run()")
	}
	f := strings.Fields(spec) // scenario version profile-dir
	r, err := Run(f[0], f[1], testK, Options{ProfileDir: f[2]})
	if err != nil {
		r.Error = err.Error()
	}
	_ = json.NewEncoder(os.Stdout).Encode(r)
}

func run(t *testing.T, scenario, version string) Result {
	t.Helper()
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), childEnv+"="+scenario+" "+version+" "+dir)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", scenario, version, err, out)
	}
	var r Result
	line, _, _ := strings.Cut(string(out), "\n")
	if err := json.Unmarshal([]byte(line), &r); err != nil {
		t.Fatalf("%s %s: %v in %q", scenario, version, err, out)
	}
	if r.Error != "" {
		t.Fatalf("%s %s: %s", scenario, version, r.Error)
	}
	for _, m := range []Method{r.Detection.Pprof, r.Detection.GoroutineLeak} {
		if m.Profile == "" {
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, m.Profile))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.HasPrefix(data, []byte{0x1f, 0x8b}) {
			t.Errorf("%s is not gzip", m.Profile)
		}
	}
	if r.Detection.Pprof.Profile != ProfileFile("goroutine", scenario, version) {
		t.Errorf("goroutine profile saved as %q", r.Detection.Pprof.Profile)
	}
	return r
}

func caught(m Method) bool { return m.Caught != nil && *m.Caught }

func hasLeakProfile() bool { return pprof.Lookup("goroutineleak") != nil }

func TestGoroutineLeaks(t *testing.T) {
	waits := map[string]string{"sender": "chan send", "receiver": "chan receive", "nilchan": "chan send (nil chan)"}
	for _, scenario := range []string{"sender", "receiver", "nilchan"} {
		t.Run(scenario+"/leaking", func(t *testing.T) {
			r := run(t, scenario, "leaking")
			if math.Abs(float64(r.GoroutinesLeft-testK)) > noise || math.Abs(r.Slope-1) > 0.02 {
				t.Errorf("left %d goroutines after %d calls, growth %.3f per call; want one per call", r.GoroutinesLeft, testK, r.Slope)
			}
			if r.StackBytesPerLeak == nil || *r.StackBytesPerLeak <= 0 || r.HeapBytesPerLeak == nil || *r.HeapBytesPerLeak <= 0 {
				t.Errorf("a leaked goroutine should cost stack and heap: %v %v", r.StackBytesPerLeak, r.HeapBytesPerLeak)
			}
			if !caught(r.Detection.NumGoroutine) || !caught(r.Detection.Pprof) {
				t.Errorf("not caught: numgoroutine %v, pprof %v", r.Detection.NumGoroutine, r.Detection.Pprof)
			}
			top := r.TopStacks[0]
			if top.Count != testK || top.Wait != waits[scenario] || !strings.Contains(top.Summary, "leaks.") {
				t.Errorf("top stack %+v; want %d goroutines in %q", top, testK, waits[scenario])
			}
			if hasLeakProfile() != caught(r.Detection.GoroutineLeak) {
				t.Errorf("goroutineleak profile: %+v", r.Detection.GoroutineLeak)
			}
		})
		t.Run(scenario+"/fixed", func(t *testing.T) {
			r := run(t, scenario, "fixed")
			if math.Abs(float64(r.GoroutinesLeft)) > noise || math.Abs(r.Slope) > 0.02 {
				t.Errorf("left %d goroutines, growth %.3f per call; want none", r.GoroutinesLeft, r.Slope)
			}
			if caught(r.Detection.NumGoroutine) || caught(r.Detection.Pprof) || caught(r.Detection.GoroutineLeak) {
				t.Errorf("a fixed version was caught: %+v", r.Detection)
			}
		})
	}
}

func TestGoroutineLeakProfileAvailability(t *testing.T) {
	r := run(t, "sender", "fixed")
	m := r.Detection.GoroutineLeak
	if hasLeakProfile() {
		if !m.Available || m.Caught == nil || m.Profile == "" {
			t.Errorf("goroutineleak profile present but not used: %+v", m)
		}
		return
	}
	if m.Available || m.Caught != nil || !strings.Contains(m.Reason, "GOEXPERIMENT=goroutineleakprofile") {
		t.Errorf("an unavailable profile must say so, with no verdict: %+v", m)
	}
}

func objectRun(t *testing.T, scenario, version string) Result {
	t.Helper()
	if err := trackingErr(); err != nil {
		t.Skip(err)
	}
	r := run(t, scenario, version)
	if r.RetainedObjects == nil || r.Unit != UnitObject {
		t.Fatalf("no object count: %+v", r)
	}
	if math.Abs(float64(r.GoroutinesLeft)) > noise || caught(r.Detection.NumGoroutine) {
		t.Errorf("no goroutine is involved, yet %d were left", r.GoroutinesLeft)
	}
	return r
}

func TestTickers(t *testing.T) {
	for _, scenario := range []string{"ticker", "ticker-go123"} {
		t.Run(scenario, func(t *testing.T) {
			leaking := objectRun(t, scenario, "leaking")
			fixed := objectRun(t, scenario, "fixed")
			if *fixed.RetainedObjects != 0 {
				t.Errorf("stopped tickers retained: %d", *fixed.RetainedObjects)
			}
			// Before Go 1.23's timers (asynctimerchan=1) the runtime holds an
			// unstopped ticker for ever; since, an unreachable one is freed.
			want := 0
			if leaking.Godebug == "asynctimerchan=1" {
				want = testK
			}
			if *leaking.RetainedObjects != want || math.Abs(leaking.Slope-float64(want)/testK) > 0.02 {
				t.Errorf("%s: %d of %d unstopped tickers retained (growth %.3f); want %d",
					leaking.Godebug, *leaking.RetainedObjects, testK, leaking.Slope, want)
			}
			if want > 0 && (leaking.HeapBytesPerLeak == nil || *leaking.HeapBytesPerLeak <= 0) {
				t.Errorf("a retained ticker should cost heap: %v", leaking.HeapBytesPerLeak)
			}
		})
	}
}

func TestTickerGo123UsesNewTimers(t *testing.T) {
	if err := trackingErr(); err != nil {
		t.Skip(err)
	}
	r := run(t, "ticker-go123", "leaking")
	if r.Godebug != "asynctimerchan=0" {
		t.Errorf("ticker-go123 ran with %s", r.Godebug)
	}
	if r.TimerOldSemanticsEvents != nil && *r.TimerOldSemanticsEvents != 0 {
		t.Errorf("%d timers used the old semantics", *r.TimerOldSemanticsEvents)
	}
}

func TestFinalizerCycle(t *testing.T) {
	leaking := objectRun(t, "finalizer-cycle", "leaking")
	if *leaking.RetainedObjects != testK || *leaking.CallbacksRun != 0 {
		t.Errorf("retained %d of %d cycles, %d finalizers ran; want all retained, none run",
			*leaking.RetainedObjects, testK, *leaking.CallbacksRun)
	}
	if leaking.HeapBytesPerLeak == nil || *leaking.HeapBytesPerLeak < payloadBytes {
		t.Errorf("each cycle holds a %d-byte payload, measured %v per leak", payloadBytes, leaking.HeapBytesPerLeak)
	}
	fixed := objectRun(t, "finalizer-cycle", "fixed")
	if *fixed.RetainedObjects != 0 || *fixed.CallbacksRun != testK || math.Abs(fixed.Slope) > 0.02 {
		t.Errorf("with cleanups: %d retained, %d cleanups ran; want 0 and %d", *fixed.RetainedObjects, *fixed.CallbacksRun, testK)
	}
}

func TestBadArguments(t *testing.T) {
	for _, args := range [][]string{{"nope", "leaking"}, {"sender", "half"}} {
		if _, err := Run(args[0], args[1], testK, Options{}); err == nil {
			t.Errorf("Run(%q, %q) did not fail", args[0], args[1])
		}
	}
	if _, err := Run("sender", "fixed", 3, Options{}); err == nil {
		t.Error("k=3 accepted")
	}
}

func TestSlope(t *testing.T) {
	xs := []float64{0, 25, 50, 75, 100}
	if s := slope(xs, []float64{3, 28, 53, 78, 103}); math.Abs(s-1) > 1e-12 {
		t.Errorf("slope %g, want 1", s)
	}
	if s := slope(xs, []float64{7, 7, 7, 7, 7}); s != 0 {
		t.Errorf("slope %g, want 0", s)
	}
}

func TestParseProfiles(t *testing.T) {
	counts := "goroutine profile: total 4\n" +
		"3 @ 0x1 0x2\n#\t0x4c6f64\tsb/go/leaks.f.func1+0x24\t/x/f.go:20\n#\t0x4c6f99\tsb/go/leaks.g+0x10\t/x/f.go:30\n\n" +
		"1 @ 0x3\n#\t0x5\truntime/pprof.writeRuntimeProfile+0x1\t/y.go:1\n\n"
	stacks := parseCounts(counts)
	if len(stacks) != 2 || stacks[0].Count != 3 || strings.Join(stacks[0].Frames, ",") != "sb/go/leaks.f.func1,sb/go/leaks.g" {
		t.Fatalf("parsed %+v", stacks)
	}
	dump := "goroutine 1 [running]:\nruntime/pprof.writeRuntimeProfile(0x1)\n\t/y.go:1 +0x1\n\n" +
		"goroutine 7 [chan send (nil chan), 2 minutes]:\nsb/go/leaks.f.func1()\n\t/x/f.go:20 +0x24\nsb/go/leaks.g(...)\n\t/x/f.go:30\ncreated by sb/go/leaks.h in goroutine 1\n\t/x/f.go:40 +0x1\n"
	waits := parseDump(dump)
	if got := mostCommon(waits["sb/go/leaks.f.func1\nsb/go/leaks.g"]); got != "chan send (nil chan)" {
		t.Errorf("wait reason %q from %v", got, waits)
	}
	stacks[0].Wait = "chan send (nil chan)"
	if got := summary(stacks[0]); got != "3 × [chan send (nil chan)] leaks.f.func1 ← leaks.g" {
		t.Errorf("summary %q", got)
	}
	if n, err := profileTotal("goroutineleak profile: total 12\n1 @ 0x1\n"); err != nil || n != 12 {
		t.Errorf("total %d, %v", n, err)
	}
	if _, err := profileTotal("nonsense"); err == nil {
		t.Error("a profile without a total was read")
	}
}

func TestGodebugValue(t *testing.T) {
	t.Setenv("GODEBUG", "asynctimerchan=1,foo=2,asynctimerchan=2")
	if v := godebugValue("asynctimerchan"); v != "2" {
		t.Errorf("got %q, want the last setting", v)
	}
	restore := setGodebug("asynctimerchan=0")
	if v := godebugValue("asynctimerchan"); v != "0" {
		t.Errorf("after setGodebug: %q", v)
	}
	restore()
	if os.Getenv("GODEBUG") != "asynctimerchan=1,foo=2,asynctimerchan=2" {
		t.Errorf("GODEBUG not restored: %q", os.Getenv("GODEBUG"))
	}
}
