// Package switching holds the goroutine benchmark bodies. Both the
// testing.B benchmarks (go test -bench .) and the driver program that
// the Python orchestrator runs call these same functions, so the two can
// never measure different things.
package switching

import "fmt"

// Region marks the timed region of a benchmark body. Start is called
// once all goroutines exist and are waiting; Stop as soon as the last
// hand-off is done. Creation and teardown are outside, and so are
// allocating and first touching any working set. The one exception is
// spawn, whose op is a goroutine's creation and exit.
type Region interface {
	Start()
	Stop()
}

// Params shapes a body. Zero values mean the simplest form: one pair.
type Params struct {
	Pairs      int // independent pairs running at once (pairs bodies)
	RingSize   int // goroutines passing one token (ring bodies); buffers in touch.ring
	WorkingSet int // bytes each goroutine touches on every turn (ring bodies, touch.ring)
}

// Body runs n ops (round trips, laps or spawns) and reports its hand-offs.
type Body func(n int, p Params, region Region) Handoffs

// Bodies is every body by the name the driver and the suite use.
var Bodies = map[string]Body{
	"chan":        func(n int, p Params, r Region) Handoffs { return chanRing(n, 2, 0, 0, false, r) },
	"chanbuf1":    func(n int, p Params, r Region) Handoffs { return chanRing(n, 2, 1, 0, false, r) },
	"chan.locked": func(n int, p Params, r Region) Handoffs { return chanRing(n, 2, 0, 0, true, r) },
	"chan.ring": func(n int, p Params, r Region) Handoffs {
		return chanRing(n, p.RingSize, 0, p.WorkingSet, false, r)
	},
	"chan.pairs": func(n int, p Params, r Region) Handoffs { return ChanPairs(n, p.Pairs, r) },
	"cond":       func(n int, p Params, r Region) Handoffs { return CondPingPong(n, r) },
	"gosched":    func(n int, p Params, r Region) Handoffs { return GoschedPingPong(n, r) },
	"spawn":      func(n int, p Params, r Region) Handoffs { return Spawn(n, r) },
	"touch.ring": func(n int, p Params, r Region) Handoffs {
		return TouchRing(n, p.RingSize, p.WorkingSet, r)
	},
}

// Handoffs is what a body reports about its own correctness: hand-offs
// (or completed ops) counted by the goroutines themselves, how many a
// correct run makes, and how many arrived out of turn.
type Handoffs struct {
	Count, Expected, OrderErrors int
}

// Add sums two reports.
func (h Handoffs) Add(o Handoffs) Handoffs {
	return Handoffs{h.Count + o.Count, h.Expected + o.Expected, h.OrderErrors + o.OrderErrors}
}

// Check returns an error unless every expected hand-off happened, in turn.
func (h Handoffs) Check() error {
	if h.Expected < 1 || h.Count != h.Expected || h.OrderErrors != 0 {
		return fmt.Errorf("hand-offs: %d of %d, %d out of turn", h.Count, h.Expected, h.OrderErrors)
	}
	return nil
}
