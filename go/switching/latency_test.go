package switching

import (
	"runtime"
	"testing"
)

// Every hand-off is recorded, each took some time, and at GOMAXPROCS=1 the
// runtime's histogram saw the region's scheduling.
func TestChanLatencyRecordsEveryHandoff(t *testing.T) {
	for _, procs := range []int{1, 2} {
		withGOMAXPROCS(procs, func() {
			for _, n := range []int{2, 3, 1000} {
				lat := make([]int64, n)
				run, err := ChanLatency(lat)
				if err != nil {
					t.Fatalf("GOMAXPROCS=%d n=%d: %v", procs, n, err)
				}
				for k, v := range lat {
					if v <= 0 {
						t.Fatalf("GOMAXPROCS=%d n=%d: hand-off %d took %d ns, want > 0", procs, n, k, v)
					}
				}
				if run.SchedError == "" && n == 1000 && procs == 1 && len(run.Sched) == 0 {
					t.Errorf("GOMAXPROCS=1: %d hand-offs and no scheduling event in %s", n, schedLatencies)
				}
			}
		})
	}
}

func TestChanLatencyRefusesTooFew(t *testing.T) {
	if _, err := ChanLatency(make([]int64, 1)); err == nil {
		t.Error("ChanLatency of 1 hand-off: no error")
	}
}

// The clock gaps are what two reads cost: never negative, and not all zero
// (the clock moves between two reads on any machine with a ns clock).
func TestClockGaps(t *testing.T) {
	gap := make([]int64, 1000)
	ClockGaps(gap)
	var sum int64
	for _, g := range gap {
		if g < 0 {
			t.Fatalf("a clock gap of %d ns: the monotonic clock went back", g)
		}
		sum += g
	}
	if sum == 0 && runtime.GOOS == "linux" {
		t.Error("1000 pairs of clock reads and the clock never moved")
	}
}
