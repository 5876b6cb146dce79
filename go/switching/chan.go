package switching

import (
	"runtime"
	"sync"
)

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
	inbox := make([]chan int, size)
	for i := range inbox {
		inbox[i] = make(chan int, capacity)
	}
	results := make(chan Handoffs, size)
	ready := sync.WaitGroup{}
	ready.Add(size - 1)

	side := func(me int) Handoffs {
		var h Handoffs
		buf := make([]byte, workingSet)
		touch(buf)
		next := inbox[(me+1)%size]
		want := me
		for lap := 0; lap < laps; lap++ {
			seq := 0 // side 0 holds the token at the start
			if me != 0 || lap != 0 {
				seq = <-inbox[me]
			}
			if seq != want {
				h.OrderErrors++
			}
			want += size
			if workingSet > 0 {
				touch(buf)
			}
			h.Count++
			next <- seq + 1
		}
		return h
	}
	for me := 1; me < size; me++ {
		go func(me int) {
			if locked {
				runtime.LockOSThread()
				defer runtime.UnlockOSThread()
			}
			ready.Done()
			results <- side(me)
		}(me)
	}
	if locked {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
	}
	ready.Wait()

	region.Start()
	h := side(0)
	<-inbox[0] // the last hand-off of the last lap: the token comes home
	region.Stop()

	for i := 1; i < size; i++ {
		h = h.Add(<-results)
	}
	h.Expected = laps * size
	return h
}

// ChanPingPong is the core case: two goroutines, unbuffered channels.
func ChanPingPong(roundTrips int, region Region) Handoffs {
	return chanRing(roundTrips, 2, 0, 0, false, region)
}

// ChanPairs runs `pairs` independent channel ping-pongs at once, each of
// roundTrips round trips; the region covers all of them, start to finish.
func ChanPairs(roundTrips, pairs int, region Region) Handoffs {
	if pairs < 1 {
		return Handoffs{}
	}
	start := make(chan struct{})
	var ready, done sync.WaitGroup
	ready.Add(pairs)
	done.Add(pairs)
	results := make(chan Handoffs, pairs)
	for i := 0; i < pairs; i++ {
		go func() {
			defer done.Done()
			ready.Done()
			<-start
			results <- chanRing(roundTrips, 2, 0, 0, false, nopRegion{})
		}()
	}
	ready.Wait()
	region.Start()
	close(start)
	done.Wait()
	region.Stop()
	var h Handoffs
	for i := 0; i < pairs; i++ {
		h = h.Add(<-results)
	}
	return h
}

type nopRegion struct{}

func (nopRegion) Start() {}
func (nopRegion) Stop()  {}
