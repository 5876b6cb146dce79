package switching

import (
	"runtime"
	"testing"
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
	// Finished goroutines may take a moment to be accounted as exited.
	for i := 0; i < 100 && runtime.NumGoroutine() > before; i++ {
		runtime.Gosched()
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
