// Package switching holds the goroutine benchmark bodies. Both the
// testing.B benchmarks (go test -bench .) and the driver program that
// the Python orchestrator runs call these same functions, so the two can
// never measure different things.
package switching

import "fmt"

// Region marks the timed region of a benchmark body. Start is called
// once all goroutines exist and have exchanged a first message; Stop as
// soon as the last hand-off is done. Creation and teardown are outside.
type Region interface {
	Start()
	Stop()
}

// Handoffs is what a body reports about its own correctness: how many
// hand-offs each side performed and how many arrived out of turn.
type Handoffs struct {
	SideA, SideB int
	OrderErrors  int
}

// Check returns an error unless both sides handed off exactly roundTrips
// times and every hand-off arrived in turn.
func (h Handoffs) Check(roundTrips int) error {
	if h.SideA != roundTrips || h.SideB != roundTrips || h.OrderErrors != 0 {
		return fmt.Errorf("hand-offs: side A %d, side B %d, out of turn %d; want %d, %d, 0",
			h.SideA, h.SideB, h.OrderErrors, roundTrips, roundTrips)
	}
	return nil
}

// SwitchesPerRoundTrip is how many goroutine switches one round trip of a
// ping-pong holds: A hands control to B, and B hands it back.
const SwitchesPerRoundTrip = 2
