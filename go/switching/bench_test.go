package switching

import (
	"fmt"
	"runtime"
	"testing"
)

// benchRegion adapts testing.B to Region: only the switching loop is timed.
type benchRegion struct{ b *testing.B }

func (r benchRegion) Start() { r.b.ResetTimer() }
func (r benchRegion) Stop()  { r.b.StopTimer() }

func withGOMAXPROCS(n int, f func()) {
	old := runtime.GOMAXPROCS(n)
	defer runtime.GOMAXPROCS(old)
	f()
}

// BenchmarkChanPingPong matches the suite's go.chan.p1 and go.chan.p2
// cases. One op is one round trip; ns/switch is reported alongside.
func BenchmarkChanPingPong(b *testing.B) {
	for _, procs := range []int{1, 2} {
		b.Run(placementName(procs), func(b *testing.B) {
			withGOMAXPROCS(procs, func() {
				h := ChanPingPong(b.N, benchRegion{b})
				if err := h.Check(b.N); err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*SwitchesPerRoundTrip), "ns/switch")
			})
		})
	}
}

func placementName(procs int) string { return fmt.Sprintf("p%d", procs) }
