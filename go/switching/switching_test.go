package switching

import (
	"runtime"
	"strings"
	"testing"
	"time"
)

type countingRegion struct{ started, stopped int }

func (r *countingRegion) Start() { r.started++ }
func (r *countingRegion) Stop()  { r.stopped++ }

func withGOMAXPROCS(n int, f func()) {
	old := runtime.GOMAXPROCS(n)
	defer runtime.GOMAXPROCS(old)
	f()
}

// Every body, every GOMAXPROCS, a few loop counts: the hand-offs all
// happen, in turn, and the timed region is entered and left once.
func TestEveryBodyHandsOffInTurn(t *testing.T) {
	params := Params{Pairs: 3, RingSize: 5, WorkingSet: 4096}
	for name, body := range Bodies {
		for _, procs := range []int{1, 2} {
			withGOMAXPROCS(procs, func() {
				for _, n := range []int{1, 2, 300} {
					var r countingRegion
					h := body(n, params, &r)
					if err := h.Check(); err != nil {
						t.Errorf("%s GOMAXPROCS=%d n=%d: %v", name, procs, n, err)
					}
					if r.started != 1 || r.stopped != 1 {
						t.Errorf("%s: region started %d and stopped %d times, want 1 and 1",
							name, r.started, r.stopped)
					}
				}
			})
		}
	}
}

func TestExpectedCounts(t *testing.T) {
	cases := []struct {
		name string
		p    Params
		n    int
		want int
	}{
		{"chan", Params{}, 10, 20},
		{"chan.ring", Params{RingSize: 7}, 10, 70},
		{"chan.pairs", Params{Pairs: 4}, 10, 80},
		{"cond", Params{}, 10, 20},
		{"gosched", Params{}, 10, 20},
		{"spawn", Params{}, 10, 10},
		{"touch.ring", Params{RingSize: 7, WorkingSet: 4096}, 10, 70},
	}
	for _, c := range cases {
		if got := Bodies[c.name](c.n, c.p, &countingRegion{}).Expected; got != c.want {
			t.Errorf("%s: expected %d hand-offs, want %d", c.name, got, c.want)
		}
	}
}

func TestCheckRejectsMiscounts(t *testing.T) {
	for _, h := range []Handoffs{{9, 10, 0}, {11, 10, 0}, {10, 10, 1}, {0, 0, 0}} {
		if h.Check() == nil {
			t.Errorf("Check accepted %+v", h)
		}
	}
	if err := (Handoffs{10, 10, 0}).Check(); err != nil {
		t.Errorf("Check rejected a correct count: %v", err)
	}
}

func TestNoGoroutineLeftBehind(t *testing.T) {
	before := runtime.NumGoroutine()
	for _, body := range Bodies {
		body(50, Params{Pairs: 2, RingSize: 3}, &countingRegion{})
	}
	// A joined goroutine still has to exit after its last signal, which
	// can take a while on a busy machine (or under -race): wait up to a
	// deadline, which a goroutine blocked for good never meets.
	for deadline := time.Now().Add(2 * time.Second); runtime.NumGoroutine() > before && time.Now().Before(deadline); {
		runtime.Gosched()
		time.Sleep(time.Millisecond)
	}
	if after := runtime.NumGoroutine(); after > before {
		t.Errorf("goroutines before %d, after %d: a body did not join its goroutines", before, after)
	}
}

func TestLockedHandOffsNeedOSThreads(t *testing.T) {
	// With both sides locked, the runtime must run them on two OS threads.
	withGOMAXPROCS(1, func() {
		h := Bodies["chan.locked"](100, Params{}, &countingRegion{})
		if err := h.Check(); err != nil {
			t.Fatal(err)
		}
	})
}

// hookRegion runs a function at Start and another at Stop, to look at the
// process from inside the region's edges.
type hookRegion struct{ start, stop func() }

func (r hookRegion) Start() {
	if r.start != nil {
		r.start()
	}
}

func (r hookRegion) Stop() {
	if r.stop != nil {
		r.stop()
	}
}

// settledGoroutines waits for goroutines that earlier tests left exiting
// to be gone, and returns how many remain.
func settledGoroutines() int {
	n := runtime.NumGoroutine()
	for i := 0; i < 50; i++ {
		runtime.Gosched()
		time.Sleep(time.Millisecond)
		now := runtime.NumGoroutine()
		if now == n && i >= 5 {
			break
		}
		n = now
	}
	return n
}

// bodyGoroutineStates returns the scheduler state ("chan receive",
// "runnable", ...) of every goroutine a body in this package started.
// The test's own goroutines run under testing.tRunner and are left out.
func bodyGoroutineStates() []string {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	var states []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		if !strings.Contains(g, "created by switchbench/go/switching.") ||
			strings.Contains(g, "testing.tRunner") {
			continue
		}
		header, _, _ := strings.Cut(g, "\n")
		_, state, _ := strings.Cut(header, "[")
		state, _, _ = strings.Cut(state, "]")
		state, _, _ = strings.Cut(state, ",") // drop ", 2 minutes" and the like
		states = append(states, state)
	}
	return states
}

// The scaling sweep's contract: every pair exists before the region. Each
// pair is two goroutines, the partner and side 0, so Start must see at
// least 2*pairs more goroutines than there were before the body ran.
func TestPairsStartedBeforeRegion(t *testing.T) {
	const pairs = 8
	for _, procs := range allProcs {
		withGOMAXPROCS(procs, func() {
			before := settledGoroutines()
			during := -1
			h := ChanPairs(100, pairs, hookRegion{start: func() { during = runtime.NumGoroutine() }})
			if err := h.Check(); err != nil {
				t.Fatal(err)
			}
			if during-before < 2*pairs {
				t.Errorf("GOMAXPROCS=%d: %d goroutines at Start, %d before: want at least %d more (a partner and a side 0 per pair)",
					procs, during, before, 2*pairs)
			}
		})
	}
}

// On one P a goroutine that signals it is ready runs on until it blocks,
// so at Start every goroutine a body started must sit in its natural
// wait: a channel receive, a sync.Cond wait, or (gosched) runnable after
// yielding. None may be missing or still setting up.
func TestGoroutinesWaitingAtStart(t *testing.T) {
	p := Params{Pairs: 8, RingSize: 5, WorkingSet: 16 << 10}
	want := map[string]int{
		"chan": 1, "chanbuf1": 1, "chan.locked": 1, "chan.ring": p.RingSize - 1,
		"chan.pairs": 2 * p.Pairs, "cond": 1, "gosched": 1, "spawn": 0, "touch.ring": 0,
	}
	natural := map[string]bool{"chan receive": true, "sync.Cond.Wait": true, "runnable": true}
	for name, body := range Bodies {
		w, ok := want[name]
		if !ok {
			t.Errorf("%s: no count of its goroutines in this test", name)
			continue
		}
		withGOMAXPROCS(1, func() {
			settledGoroutines()
			var states []string
			h := body(20, p, hookRegion{start: func() { states = bodyGoroutineStates() }})
			if err := h.Check(); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			waiting := 0
			for _, s := range states {
				if natural[s] {
					waiting++
				}
			}
			if waiting != w || len(states) != w {
				t.Errorf("%s: at Start %d goroutines of the body, %d of them waiting (%v); want %d, all waiting",
					name, len(states), waiting, states, w)
			}
		})
	}
}

// regionAllocs runs a body and returns the bytes allocated between Start
// and Stop, and how many OS threads (Ms) the runtime created meanwhile.
func regionAllocs(body Body, n int, p Params) (bytes uint64, threads int, h Handoffs) {
	var start, stop runtime.MemStats
	var threadsAtStart, threadsAtStop int
	h = body(n, p, hookRegion{
		start: func() {
			threadsAtStart = threadsCreated()
			runtime.ReadMemStats(&start)
		},
		stop: func() {
			runtime.ReadMemStats(&stop)
			threadsAtStop = threadsCreated()
		},
	})
	return stop.TotalAlloc - start.TotalAlloc, threadsAtStop - threadsAtStart, h
}

// threadsCreated is how many Ms the runtime has ever made.
func threadsCreated() int {
	n, _ := runtime.ThreadCreateProfile(nil)
	return n
}

// Working sets are allocated and first touched before the region: a ring
// of RingSize sides must not allocate even one side's buffer inside it.
// chan.pairs makes its channels and goroutines before it too.
func TestNothingAllocatedInRegion(t *testing.T) {
	p := Params{Pairs: 64, RingSize: 4, WorkingSet: 64 << 10}
	for _, name := range []string{"chan.ring", "touch.ring", "chan.pairs", "chan", "chan.locked", "cond", "gosched"} {
		for _, procs := range allProcs {
			withGOMAXPROCS(procs, func() {
				// When hand-offs need one more spare OS thread than the
				// process has yet had (locked ones above all), the runtime
				// allocates an M mid-run, about 5 KiB. That is the
				// runtime's pool growing, not the body's set-up, so such a
				// run is done again; the suite throws its first sample
				// away as a warm-up for the same reason.
				var bytes uint64
				for try := 0; try < 5; try++ {
					var threads int
					var h Handoffs
					bytes, threads, h = regionAllocs(Bodies[name], 50, p)
					if err := h.Check(); err != nil {
						t.Fatalf("%s: %v", name, err)
					}
					if threads == 0 {
						break
					}
				}
				// A little slack for the runtime's own bookkeeping;
				// one working set, or a channel per pair, is far over it.
				if bytes > 1024 {
					t.Errorf("%s GOMAXPROCS=%d: %d bytes allocated in the region, want none", name, procs, bytes)
				}
			})
		}
	}
}

func TestTouchRingCounts(t *testing.T) {
	for _, c := range []struct {
		p    Params
		n    int
		want Handoffs
	}{
		{Params{RingSize: 8, WorkingSet: 16 << 10}, 10, Handoffs{Count: 80, Expected: 80}},
		{Params{RingSize: 1, WorkingSet: 64}, 3, Handoffs{Count: 3, Expected: 3}},
		{Params{RingSize: 8, WorkingSet: 100}, 1, Handoffs{Count: 8, Expected: 8}},
		{Params{RingSize: 0, WorkingSet: 4096}, 10, Handoffs{}},
		{Params{RingSize: 8, WorkingSet: 63}, 10, Handoffs{}},
		{Params{RingSize: 8, WorkingSet: 0}, 10, Handoffs{}},
	} {
		var r countingRegion
		if got := Bodies["touch.ring"](c.n, c.p, &r); got != c.want {
			t.Errorf("touch.ring n=%d %+v: got %+v, want %+v", c.n, c.p, got, c.want)
		}
		if c.want.Expected > 0 && (r.started != 1 || r.stopped != 1) {
			t.Errorf("touch.ring %+v: region started %d and stopped %d times", c.p, r.started, r.stopped)
		}
	}
}

// touch must write every cache line, once per call, and hand back a sum
// that depends on what it wrote.
func TestTouchWritesEveryLine(t *testing.T) {
	buf := make([]byte, 64*5+1)
	if got := touch(buf); got != 6 {
		t.Errorf("first touch summed %d, want 6", got)
	}
	if got := touch(buf); got != 12 {
		t.Errorf("second touch summed %d, want 12", got)
	}
	for i, b := range buf {
		want := byte(0)
		if i%64 == 0 {
			want = 2 // the first byte of every line, written by both calls
		}
		if b != want {
			t.Errorf("byte %d is %d, want %d", i, b, want)
		}
	}
}
