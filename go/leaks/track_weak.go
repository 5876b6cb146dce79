//go:build go1.24

package leaks

import (
	"runtime"
	"sync/atomic"
	"unsafe"
	"weak"
)

// tracker sees whether each object a scenario made is still alive, without
// keeping it alive: a weak pointer reads nil once the collector has freed
// the object.
type tracker struct {
	ptrs      []weak.Pointer[byte]
	callbacks atomic.Int64 // finalizers or cleanups that have run
}

func newTracker(k int) *tracker { return &tracker{ptrs: make([]weak.Pointer[byte], 0, k)} }

// trackingErr says why objects cannot be tracked; nil: they can.
func trackingErr() error { return nil }

func (t *tracker) add(p unsafe.Pointer) { t.ptrs = append(t.ptrs, weak.Make((*byte)(p))) }

// live counts the tracked objects the last collection did not free.
func (t *tracker) live() int {
	n := 0
	for _, p := range t.ptrs {
		if p.Value() != nil {
			n++
		}
	}
	return n
}

// handleBytes measures what tracking n objects costs the heap by itself
// (each weak pointer allocates a small handle), so that it can be taken out
// of the bytes a leak retains. The objects stay alive across both readings.
func handleBytes(n int) int64 {
	objs := make([]*[4]uintptr, n)
	for i := range objs {
		objs[i] = new([4]uintptr)
	}
	ptrs := make([]weak.Pointer[byte], 0, n)
	before := liveHeap()
	for _, o := range objs {
		ptrs = append(ptrs, weak.Make((*byte)(unsafe.Pointer(o))))
	}
	after := liveHeap()
	runtime.KeepAlive(objs)
	runtime.KeepAlive(ptrs)
	return after - before
}

// addCleanup is the fix for the finalizer cycle: the cleanup is handed a
// counter, never the object, so the object and its cycle can be freed.
func addCleanup(a *node, tr *tracker) {
	runtime.AddCleanup(a, func(c *atomic.Int64) { c.Add(1) }, &tr.callbacks)
}
