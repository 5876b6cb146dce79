package main

import (
	"strings"
	"testing"

	"switchbench/go/switching"
)

// Every body the driver can be asked for runs and passes its own check
// through runOnce, the path -serve and -ops take.
func TestEveryBodyRunsThroughTheDriver(t *testing.T) {
	params := switching.Params{Pairs: 4, RingSize: 8, WorkingSet: 16 << 10}
	for name, body := range switching.Bodies {
		s := runOnce(body, params, 20, false)
		if s.Error != "" {
			t.Errorf("%s: %s", name, s.Error)
		}
		if s.Handoffs != s.ExpectedHandoffs || s.Handoffs == 0 {
			t.Errorf("%s: %d hand-offs of %d", name, s.Handoffs, s.ExpectedHandoffs)
		}
		if s.ElapsedNs <= 0 {
			t.Errorf("%s: the region was not timed (%d ns)", name, s.ElapsedNs)
		}
	}
	if _, ok := switching.Bodies["touch.ring"]; !ok {
		t.Error("touch.ring is not among the driver's bodies")
	}
}

// touch.ring without a working set to touch has nothing to do; the
// sample must say so instead of reporting a time.
func TestTouchRingWithoutWorkingSetFails(t *testing.T) {
	s := runOnce(switching.Bodies["touch.ring"], switching.Params{RingSize: 8}, 20, false)
	if !strings.Contains(s.Error, "hand-offs: 0 of 0") {
		t.Errorf("got error %q, want the hand-off check to fail", s.Error)
	}
}
