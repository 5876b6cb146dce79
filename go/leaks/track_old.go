//go:build !go1.24

package leaks

import (
	"errors"
	"sync/atomic"
	"unsafe"
)

// Before Go 1.24 there are no weak pointers and no runtime.AddCleanup, so
// the object scenarios (ticker, finalizer-cycle) report that they cannot be
// measured; the goroutine scenarios need neither.
type tracker struct {
	callbacks atomic.Int64
}

func newTracker(int) *tracker { return &tracker{} }

func trackingErr() error {
	return errors.New("tracking objects needs weak pointers (Go 1.24 or newer)")
}

func (t *tracker) add(unsafe.Pointer) {}
func (t *tracker) live() int          { return 0 }
func handleBytes(int) int64           { return 0 }
func addCleanup(*node, *tracker)      {}
