package switching

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// ring is a token ring over channels, split so that everything but the
// laps happens outside the timed region: prepareRing makes the channels,
// allocates and first-touches every side's working set and starts sides
// 1..size-1; run is side 0's laps and the token's last return; finish
// joins the sides and adds up what they counted.
type ring struct {
	laps    int
	inbox   []chan int     // inbox[me] is where side me waits for the token
	bufs    [][]byte       // bufs[me] is side me's working set
	results []sideResult   // results[me] is written by side me once its laps are done
	exited  sync.WaitGroup // sides 1..size-1 have written their results
}

// sideResult is what one side counted. sum is the checksum of its
// touching: kept so that neither a ring side nor touch.ring can have the
// read half of touch optimised away while the other keeps it.
type sideResult struct {
	h   Handoffs
	sum int
}

// checksumSink receives every checksum; nothing reads it. It is atomic
// so that bodies run at once from different goroutines do not race on it.
var checksumSink atomic.Int64

// prepareRing makes a ring of size sides over channels of the given
// capacity and returns once sides 1..size-1 have started and reached the
// receive on their inbox, where they wait for the token. Every working
// set, side 0's included, is allocated and touched here, so that the page
// faults and the allocation are not timed. locked: sides 1..size-1 hold
// runtime.LockOSThread; side 0's goroutine must lock its own thread.
func prepareRing(laps, size, capacity, workingSet int, locked bool) *ring {
	r := &ring{
		laps:    laps,
		inbox:   make([]chan int, size),
		bufs:    make([][]byte, size),
		results: make([]sideResult, size),
	}
	for me := range size {
		r.inbox[me] = make(chan int, capacity)
		r.bufs[me] = make([]byte, workingSet)
		touch(r.bufs[me])
	}
	var waiting sync.WaitGroup
	waiting.Add(size - 1)
	r.exited.Add(size - 1)
	for me := 1; me < size; me++ {
		go func() {
			defer r.exited.Done()
			if locked {
				runtime.LockOSThread()
				defer runtime.UnlockOSThread()
			}
			// Nothing is left between here and the receive on inbox[me].
			waiting.Done()
			r.results[me] = r.turns(me)
		}()
	}
	waiting.Wait()
	return r
}

// turns is side me's part of every lap: wait for the token, check it
// arrived in turn, touch the working set, pass the token on. Side 0
// holds the token at the start, so it does not wait on its first lap.
func (r *ring) turns(me int) sideResult {
	var res sideResult
	size := len(r.inbox)
	in, next, buf := r.inbox[me], r.inbox[(me+1)%size], r.bufs[me]
	want := me
	for lap := 0; lap < r.laps; lap++ {
		seq := 0
		if me != 0 || lap != 0 {
			seq = <-in
		}
		if seq != want {
			res.h.OrderErrors++
		}
		want += size
		if len(buf) > 0 {
			res.sum += touch(buf)
		}
		res.h.Count++
		next <- seq + 1
	}
	return res
}

// run is what the timed region covers: side 0's laps, on the calling
// goroutine, and the last hand-off of the last lap, the token coming home.
func (r *ring) run() {
	r.results[0] = r.turns(0)
	<-r.inbox[0]
}

// finish waits for sides 1..size-1 to return and adds up their counts.
func (r *ring) finish() Handoffs {
	r.exited.Wait()
	var h Handoffs
	sum := 0
	for _, res := range r.results {
		h = h.Add(res.h)
		sum += res.sum
	}
	checksumSink.Add(int64(sum))
	h.Expected = r.laps * len(r.inbox)
	return h
}

// chanRing passes a token round a ring of size goroutines over channels
// of the given capacity, laps times. The calling goroutine is side 0. Each
// receive blocks until the previous side sends, so every message is one
// hand-off of control; a ping-pong is a ring of 2 and a lap a round trip.
// locked: every side holds runtime.LockOSThread, so each hand-off must
// also move the P to another OS thread.
func chanRing(laps, size, capacity, workingSet int, locked bool, region Region) Handoffs {
	if size < 2 || laps < 1 {
		return Handoffs{}
	}
	if locked {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
	}
	r := prepareRing(laps, size, capacity, workingSet, locked)
	region.Start()
	r.run()
	region.Stop()
	return r.finish()
}

// ChanPingPong is the core case: two goroutines, unbuffered channels.
func ChanPingPong(roundTrips int, region Region) Handoffs {
	return chanRing(roundTrips, 2, 0, 0, false, region)
}

// ChanPairs runs `pairs` independent channel ping-pongs at once, each of
// roundTrips round trips; the region covers all of them, start to finish.
// Every pair is made before the region: both of its goroutines exist, the
// partner waiting for the token and side 0 for the shared start signal.
func ChanPairs(roundTrips, pairs int, region Region) Handoffs {
	if pairs < 1 || roundTrips < 1 {
		return Handoffs{}
	}
	rings := make([]*ring, pairs)
	for i := range rings {
		rings[i] = prepareRing(roundTrips, 2, 0, 0, false)
	}
	start := make(chan struct{})
	var waiting, done sync.WaitGroup
	waiting.Add(pairs)
	done.Add(pairs)
	for _, r := range rings {
		go func() {
			defer done.Done()
			waiting.Done()
			<-start
			r.run()
		}()
	}
	waiting.Wait()

	region.Start()
	close(start)
	done.Wait()
	region.Stop()

	var h Handoffs
	for _, r := range rings {
		h = h.Add(r.finish())
	}
	return h
}
