package switching

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// CondPingPong hands a turn between two goroutines with a sync.Mutex and
// one sync.Cond per side: the Go twin of the C condvar case.
func CondPingPong(roundTrips int, region Region) Handoffs {
	var mu sync.Mutex
	changed := [2]*sync.Cond{sync.NewCond(&mu), sync.NewCond(&mu)}
	turn, seq := 0, 0
	partnerDone := make(chan Handoffs)

	side := func(me, rounds int) Handoffs {
		var h Handoffs
		for i := 0; i < rounds; i++ {
			mu.Lock()
			for turn != me {
				changed[me].Wait()
			}
			if seq != 2*i+me {
				h.OrderErrors++
			}
			seq++
			h.Count++
			turn = 1 - me
			changed[1-me].Signal()
			mu.Unlock()
		}
		return h
	}
	started := make(chan struct{})
	go func() {
		close(started)
		partnerDone <- side(1, roundTrips)
	}()
	<-started

	region.Start()
	h := side(0, roundTrips)
	mu.Lock()
	for turn != 0 {
		changed[0].Wait()
	}
	mu.Unlock()
	region.Stop()
	h = h.Add(<-partnerDone)
	h.Expected = 2 * roundTrips
	return h
}

// GoschedPingPong: two runnable goroutines on one P take turns by calling
// runtime.Gosched until the turn is theirs. Every Gosched that finds the
// turn elsewhere is one switch to the other goroutine; a hand-off is
// counted once the turn has actually moved.
func GoschedPingPong(roundTrips int, region Region) Handoffs {
	var turn atomic.Int32
	seq := 0
	partnerDone := make(chan Handoffs)
	side := func(me int32, rounds int) Handoffs {
		var h Handoffs
		for i := 0; i < rounds; i++ {
			for turn.Load() != me {
				runtime.Gosched()
			}
			if seq != 2*i+int(me) {
				h.OrderErrors++
			}
			seq++
			h.Count++
			turn.Store(1 - me)
		}
		return h
	}
	started := make(chan struct{})
	go func() {
		close(started)
		partnerDone <- side(1, roundTrips)
	}()
	<-started

	region.Start()
	h := side(0, roundTrips)
	for turn.Load() != 0 {
		runtime.Gosched()
	}
	region.Stop()
	h = h.Add(<-partnerDone)
	h.Expected = 2 * roundTrips
	return h
}

// Spawn creates a goroutine, lets it run and exit, and joins it through a
// sync.WaitGroup, n times: the cost of one goroutine's whole life.
func Spawn(n int, region Region) Handoffs {
	var ran atomic.Int64
	var wg sync.WaitGroup
	region.Start()
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			ran.Add(1)
			wg.Done()
		}()
		wg.Wait()
	}
	region.Stop()
	return Handoffs{Count: int(ran.Load()), Expected: n}
}
