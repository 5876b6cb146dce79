// Command minimal is the suite's go.chan.p1 case with no harness: two
// goroutines ping-pong over unbuffered channels, and the loop is timed
// with time.Now and time.Since, nothing else. bench/overhead.py sets its
// figure beside the suite's to make the harness's own cost visible.
//
//	minimal -n 100000 -repeat 20 -gomaxprocs 1
//	minimal -timer
//
// Each timed loop prints one JSON line: round_trips, elapsed_ns and
// ns_per_switch (a round trip is two switches). -timer instead prints one
// JSON line on time.Now: what one call costs, per batch of calls, and the
// smallest non-zero step between two successive reads.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"runtime"
	"time"
)

type loop struct {
	RoundTrips  int     `json:"round_trips"`
	ElapsedNs   int64   `json:"elapsed_ns"`
	NsPerSwitch float64 `json:"ns_per_switch"`
	GOMAXPROCS  int     `json:"gomaxprocs"`
}

type timer struct {
	Clock      string    `json:"clock"`
	BatchCalls int       `json:"batch_calls"`
	CallNs     []float64 `json:"call_ns"`
	Reads      int       `json:"reads"`
	MinStepNs  int64     `json:"min_step_ns"`
}

func pingPong(n, repeat, warmup int, out *json.Encoder) error {
	ping, pong := make(chan int), make(chan int)
	go func() {
		for v := range ping {
			pong <- v
		}
	}()
	defer close(ping)
	for i := 0; i < warmup; i++ {
		ping <- i
		<-pong
	}
	for r := 0; r < repeat; r++ {
		start := time.Now()
		for i := 0; i < n; i++ {
			ping <- i
			<-pong
		}
		elapsed := time.Since(start)
		err := out.Encode(loop{
			RoundTrips:  n,
			ElapsedNs:   elapsed.Nanoseconds(),
			NsPerSwitch: float64(elapsed.Nanoseconds()) / float64(2*n),
			GOMAXPROCS:  runtime.GOMAXPROCS(0),
		})
		if err != nil {
			return err
		}
	}
	return nil
}

var sink time.Time

func measureTimer(batches, calls, reads int) timer {
	t := timer{Clock: "time.Now", BatchCalls: calls, Reads: reads}
	for b := 0; b < batches; b++ {
		start := time.Now()
		for i := 0; i < calls; i++ {
			sink = time.Now()
		}
		t.CallNs = append(t.CallNs, float64(time.Since(start).Nanoseconds())/float64(calls))
	}
	prev := time.Now()
	for i := 0; i < reads; i++ {
		now := time.Now()
		if step := now.Sub(prev).Nanoseconds(); step > 0 && (t.MinStepNs == 0 || step < t.MinStepNs) {
			t.MinStepNs = step
		}
		prev = now
	}
	return t
}

func main() {
	n := flag.Int("n", 100000, "round trips per timed loop")
	repeat := flag.Int("repeat", 1, "timed loops, one output line each")
	warmup := flag.Int("warmup", 1000, "untimed round trips before the first timed loop")
	procs := flag.Int("gomaxprocs", 1, "GOMAXPROCS (0: leave as it is)")
	timerMode := flag.Bool("timer", false, "measure time.Now instead of the ping-pong")
	batches := flag.Int("batches", 101, "-timer: batches of calls")
	calls := flag.Int("calls", 1000, "-timer: calls per batch")
	reads := flag.Int("reads", 100000, "-timer: successive reads searched for the smallest step")
	flag.Parse()
	if *n < 1 || *repeat < 1 || *warmup < 0 || *procs < 0 || *batches < 1 || *calls < 1 || *reads < 1 {
		fmt.Fprintln(os.Stderr, "minimal: -n, -repeat, -batches, -calls and -reads must be positive")
		os.Exit(2)
	}
	if *procs > 0 {
		runtime.GOMAXPROCS(*procs)
	}
	out := json.NewEncoder(os.Stdout)
	var err error
	if *timerMode {
		err = out.Encode(measureTimer(*batches, *calls, *reads))
	} else {
		err = pingPong(*n, *repeat, *warmup, out)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "minimal:", err)
		os.Exit(1)
	}
}
