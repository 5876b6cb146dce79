package leaks

import (
	"runtime"
	"time"
	"unsafe"
)

// sink keeps what a scenario computes observable, so the compiler cannot
// drop the work; only the running goroutine of one scenario writes it.
var sink int

// A scenario's iteration is one call of the function that leaks (or, in its
// fixed version, does not). Nothing here keeps a handle on what it starts:
// a leaked goroutine is reachable from nothing but its own stack, as in a
// real program, which is also what the runtime's goroutineleak profile needs
// to see it. The driver runs each scenario in its own process instead.

// generateLeaking streams 0, 1, 2, ... and never learns that its consumer
// has stopped: after the consumer breaks out of range, the next send
// blocks forever.
func generateLeaking() <-chan int {
	ch := make(chan int)
	go func() {
		for i := 0; ; i++ {
			ch <- i
		}
	}()
	return ch
}

// generate stops when done is closed.
func generate(done <-chan struct{}) <-chan int {
	ch := make(chan int)
	go func() {
		defer close(ch)
		for i := 0; ; i++ {
			select {
			case ch <- i:
			case <-done:
				return
			}
		}
	}()
	return ch
}

// firstThree is the consumer: it wants three values and breaks out.
func firstThree(ch <-chan int) {
	for v := range ch {
		sink += v
		if v == 2 {
			break
		}
	}
}

func senderLeaking(*tracker) { firstThree(generateLeaking()) }

func senderFixed(*tracker) {
	done := make(chan struct{})
	defer close(done)
	firstThree(generate(done))
}

// receiverLeaking hands jobs to a worker and returns without closing the
// jobs channel (an early return is the usual way), so the worker's range
// waits forever.
func receiverLeaking(*tracker) {
	jobs := make(chan int)
	go func() {
		for j := range jobs {
			sink += j
		}
	}()
	for i := 0; i < 3; i++ {
		jobs <- i
	}
}

func receiverFixed(*tracker) {
	jobs := make(chan int)
	defer close(jobs)
	go func() {
		for j := range jobs {
			sink += j
		}
	}()
	for i := 0; i < 3; i++ {
		jobs <- i
	}
}

// request's results channel is never made in the leaking version: a send
// on a nil channel blocks forever, and nothing can ever release it.
type request struct {
	results chan int
}

func nilchanLeaking(*tracker) {
	var r request
	go func() { r.results <- 42 }()
}

func nilchanFixed(*tracker) {
	r := request{results: make(chan int, 1)}
	go func() { r.results <- 42 }()
	sink += <-r.results
}

// tickerPeriod is long enough that no ticker fires while a scenario runs:
// what is measured is what an idle, forgotten ticker holds.
const tickerPeriod = time.Hour

func tickerBody(tr *tracker, stop bool) {
	t := time.NewTicker(tickerPeriod)
	tr.add(unsafe.Pointer(t))
	select {
	case <-t.C:
		sink++
	default:
	}
	if stop {
		t.Stop()
	}
}

func tickerLeaking(tr *tracker) { tickerBody(tr, false) }
func tickerFixed(tr *tracker)   { tickerBody(tr, true) }

// payloadBytes is what each object of the finalizer cycle holds on to.
const payloadBytes = 64 << 10

// node is one half of a two-node reference cycle.
type node struct {
	peer    *node
	payload []byte
}

func newCycle() *node {
	a := &node{payload: make([]byte, payloadBytes)}
	// Write every page, as real data would: untouched fresh pages would
	// count on the heap without ever becoming resident.
	for i := 0; i < len(a.payload); i += 4096 {
		a.payload[i] = 1
	}
	a.peer = &node{peer: a}
	return a
}

// finalizerLeaking sets a finalizer on an object in a cycle. The collector
// must keep everything reachable from an object with a finalizer alive
// until the finalizer has run, and the cycle leads back to the object, so
// the finalizer never runs and nothing in the cycle is ever freed.
func finalizerLeaking(tr *tracker) {
	a := newCycle()
	tr.add(unsafe.Pointer(a))
	runtime.SetFinalizer(a, func(*node) { tr.callbacks.Add(1) })
}

// finalizerFixed attaches a cleanup instead (see track_weak.go): a cleanup
// does not get the object, so the cycle is collected and the cleanup runs.
func finalizerFixed(tr *tracker) {
	a := newCycle()
	tr.add(unsafe.Pointer(a))
	addCleanup(a, tr)
}
