package switching

import (
	"runtime"
	"testing"
)

type nopRegion struct{ started, stopped int }

func (r *nopRegion) Start() { r.started++ }
func (r *nopRegion) Stop()  { r.stopped++ }

func TestChanPingPongAlternates(t *testing.T) {
	for _, procs := range []int{1, 2} {
		withGOMAXPROCS(procs, func() {
			for _, n := range []int{1, 2, 1000} {
				var r nopRegion
				h := ChanPingPong(n, &r)
				if err := h.Check(n); err != nil {
					t.Errorf("GOMAXPROCS=%d n=%d: %v", procs, n, err)
				}
				if r.started != 1 || r.stopped != 1 {
					t.Errorf("GOMAXPROCS=%d: region started %d and stopped %d times, want 1 and 1", procs, r.started, r.stopped)
				}
			}
		})
	}
}

func TestCheckRejectsMiscounts(t *testing.T) {
	bad := []Handoffs{
		{SideA: 9, SideB: 10},
		{SideA: 10, SideB: 11},
		{SideA: 10, SideB: 10, OrderErrors: 1},
	}
	for _, h := range bad {
		if h.Check(10) == nil {
			t.Errorf("Check accepted %+v for 10 round trips", h)
		}
	}
	if err := (Handoffs{SideA: 10, SideB: 10}).Check(10); err != nil {
		t.Errorf("Check rejected a correct count: %v", err)
	}
}

func TestNoGoroutineLeftBehind(t *testing.T) {
	before := runtime.NumGoroutine()
	ChanPingPong(100, &nopRegion{})
	if after := runtime.NumGoroutine(); after > before {
		t.Errorf("goroutines before %d, after %d: the partner was not joined", before, after)
	}
}
