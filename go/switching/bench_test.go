package switching

import (
	"fmt"
	"runtime"
	"testing"
)

// benchRegion adapts testing.B to Region: only the timed loop is timed.
type benchRegion struct{ b *testing.B }

func (r benchRegion) Start() { r.b.ResetTimer() }
func (r benchRegion) Stop()  { r.b.StopTimer() }

// benchmarkBody runs one body as a sub-benchmark per GOMAXPROCS. One op is
// one round trip (or lap, or spawn); the per-switch figure is reported as
// ns/switch, to compare with the suite's ns_per_switch.
func benchmarkBody(b *testing.B, name string, p Params, switchesPerOp int, procs ...int) {
	benchmarkBodyPer(b, name, p, switchesPerOp, "ns/switch", procs...)
}

// benchmarkBodyPer is benchmarkBody with its own per-unit metric, for a
// body whose unit is not a switch (touch.ring's is a turn).
func benchmarkBodyPer(b *testing.B, name string, p Params, unitsPerOp int, metric string, procs ...int) {
	for _, n := range procs {
		b.Run(fmt.Sprintf("p%d", n), func(b *testing.B) {
			withGOMAXPROCS(n, func() {
				if err := Bodies[name](b.N, p, benchRegion{b}).Check(); err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*unitsPerOp), metric)
			})
		})
	}
}

// allProcs is p1, p2 and pN (every CPU), without repeats on small machines.
var allProcs = func() []int {
	procs := []int{1, 2}
	if n := runtime.NumCPU(); n > 2 {
		procs = append(procs, n)
	}
	return procs
}()

func BenchmarkChanPingPong(b *testing.B)     { benchmarkBody(b, "chan", Params{}, 2, allProcs...) }
func BenchmarkChanBuf1PingPong(b *testing.B) { benchmarkBody(b, "chanbuf1", Params{}, 2, allProcs...) }
func BenchmarkCondPingPong(b *testing.B)     { benchmarkBody(b, "cond", Params{}, 2, allProcs...) }
func BenchmarkGosched(b *testing.B)          { benchmarkBody(b, "gosched", Params{}, 2, 1) }
func BenchmarkLockedChanPingPong(b *testing.B) {
	benchmarkBody(b, "chan.locked", Params{}, 2, allProcs...)
}
func BenchmarkSpawn(b *testing.B) { benchmarkBody(b, "spawn", Params{}, 1, allProcs...) }

func BenchmarkChanPairs(b *testing.B) {
	for _, pairs := range []int{1, 8, 64} {
		b.Run(fmt.Sprintf("pairs%d", pairs), func(b *testing.B) {
			benchmarkBody(b, "chan.pairs", Params{Pairs: pairs}, 2*pairs, runtime.NumCPU())
		})
	}
}

// ringWorkingSets are the suite's ring sweep, 8 sides each touching this much.
var ringWorkingSets = []int{0, 16 << 10, 64 << 10, 256 << 10}

// BenchmarkChanRing and BenchmarkTouchRing run the same touching, with and
// without the switches: ns/switch of the one less ns/turn of the other
// is what a switch costs beyond touching its working set.
func BenchmarkChanRing(b *testing.B) {
	for _, ws := range ringWorkingSets {
		b.Run(fmt.Sprintf("ws%dk", ws>>10), func(b *testing.B) {
			benchmarkBody(b, "chan.ring", Params{RingSize: 8, WorkingSet: ws}, 8, 1)
		})
	}
}

func BenchmarkTouchRing(b *testing.B) {
	for _, ws := range ringWorkingSets[1:] { // touch.ring needs something to touch
		b.Run(fmt.Sprintf("ws%dk", ws>>10), func(b *testing.B) {
			benchmarkBodyPer(b, "touch.ring", Params{RingSize: 8, WorkingSet: ws}, 8, "ns/turn", 1)
		})
	}
}
