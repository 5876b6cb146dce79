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
	for _, n := range procs {
		b.Run(fmt.Sprintf("p%d", n), func(b *testing.B) {
			withGOMAXPROCS(n, func() {
				if err := Bodies[name](b.N, p, benchRegion{b}).Check(); err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*switchesPerOp), "ns/switch")
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
