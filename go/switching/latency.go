package switching

import (
	"errors"
	"math"
	"runtime/metrics"
	"sync"
	"time"
)

// The latency of single hand-offs between two goroutines over unbuffered
// channels, the mechanism of the "chan" body (a ring of two, one inbox per
// side), on a code path of its own so that the throughput body carries no
// timestamps.
//
// The clock is the monotonic one: time.Since of a time.Time taken before
// the region reads the runtime's nanotime, which on Linux is
// clock_gettime(CLOCK_MONOTONIC) through the vDSO, the clock the C
// latencies use. The giver reads it just before it sends, and the reading
// travels in the channel's element; the receiver reads it again as soon as
// its receive returns. The difference is that hand-off's latency.

// schedLatencies is the runtime's histogram of the time goroutines spent
// runnable before they ran.
const schedLatencies = "/sched/latencies:seconds"

// SchedBucket is one bucket of the runtime's histogram: [Low, High) seconds
// and how many scheduling events fell in it. nil stands for an infinite
// boundary (JSON has no infinity).
type SchedBucket struct {
	Low   *float64 `json:"low_s"`
	High  *float64 `json:"high_s"`
	Count uint64   `json:"count"`
}

// LatencyRun is what one run of ChanLatency measured beside the latencies.
type LatencyRun struct {
	// Sched holds the buckets of /sched/latencies:seconds whose counts rose
	// over the run: the difference of two reads, one just before the first
	// hand-off and one just after the last.
	Sched []SchedBucket `json:"sched"`
	// SchedError says why the runtime's histogram could not be read, or "".
	SchedError string `json:"sched_error"`
}

// ChanLatency runs len(latency) hand-offs between two goroutines and puts
// hand-off k's latency, in ns, into latency[k]. Every buffer is allocated
// before the first hand-off: nothing is allocated while hand-offs are timed.
func ChanLatency(latency []int64) (LatencyRun, error) {
	n := len(latency)
	if n < 2 {
		return LatencyRun{}, errors.New("ChanLatency: need at least 2 hand-offs")
	}
	// received[s][j]: the j-th hand-off side s received, each side writing a
	// slice of its own.
	received := [2][]int64{make([]int64, n/2), make([]int64, (n+1)/2)}
	inbox := [2]chan int64{make(chan int64), make(chan int64)}
	before := []metrics.Sample{{Name: schedLatencies}}
	after := []metrics.Sample{{Name: schedLatencies}}
	base := time.Now()

	var ready, done sync.WaitGroup
	ready.Add(1)
	done.Add(1)
	go func() { // side 1: receives the even hand-offs, gives the odd ones
		defer done.Done()
		in, out, mine := inbox[1], inbox[0], received[1]
		ready.Done()
		for k := 0; k < n; k += 2 {
			then := <-in
			mine[k/2] = int64(time.Since(base)) - then
			if k+1 < n {
				out <- int64(time.Since(base))
			}
		}
	}()
	ready.Wait()
	metrics.Read(before)
	in, out, mine := inbox[0], inbox[1], received[0]
	for k := 0; k < n; k += 2 { // side 0: gives the even hand-offs, receives the odd ones
		out <- int64(time.Since(base))
		if k+1 < n {
			then := <-in
			mine[k/2] = int64(time.Since(base)) - then
		}
	}
	done.Wait()
	metrics.Read(after)
	for k := range latency {
		latency[k] = received[1-k%2][k/2]
	}
	run := LatencyRun{Sched: schedDelta(before[0], after[0])}
	if !SchedAvailable() {
		run.SchedError = "this Go runtime has no " + schedLatencies
	}
	return run, nil
}

// schedDelta is the buckets whose counts rose between two reads of the
// runtime's histogram; none where the runtime does not have it.
func schedDelta(before, after metrics.Sample) []SchedBucket {
	if before.Value.Kind() != metrics.KindFloat64Histogram ||
		after.Value.Kind() != metrics.KindFloat64Histogram {
		return nil
	}
	a, b := before.Value.Float64Histogram(), after.Value.Float64Histogram()
	if len(a.Counts) != len(b.Counts) {
		return nil
	}
	var out []SchedBucket
	for i := range b.Counts {
		if d := b.Counts[i] - a.Counts[i]; d > 0 {
			out = append(out, SchedBucket{finite(b.Buckets[i]), finite(b.Buckets[i+1]), d})
		}
	}
	return out
}

func finite(x float64) *float64 {
	if math.IsInf(x, 0) || math.IsNaN(x) {
		return nil
	}
	return &x
}

// SchedAvailable says whether this runtime has /sched/latencies:seconds.
func SchedAvailable() bool {
	for _, d := range metrics.All() {
		if d.Name == schedLatencies {
			return true
		}
	}
	return false
}

// ClockGaps fills gap with back-to-back pairs of the clock read the
// latencies use (time.Since of one base): the clock's own share of every
// measured latency.
func ClockGaps(gap []int64) {
	base := time.Now()
	for i := range gap {
		a := int64(time.Since(base))
		gap[i] = int64(time.Since(base)) - a
	}
}
