package main

import (
	"fmt"
	"strconv"
	"strings"

	"switchbench/go/canary"
)

// CanaryAnswer is the answer to a "canary BYTES WARM LOADS LAPS" request: the mood
// canary's ns per load, or why it could not run (then no figure: the
// orchestrator records it as unavailable, never as 0).
type CanaryAnswer struct {
	CanaryNs float64 `json:"canary_ns,omitempty"`
	Error    string  `json:"error,omitempty"`
}

// canaries holds the chases this process has prepared, by size: each is
// made on its first request (outside any timed value) and kept.
type canaries map[int]*canary.Chase

// isCanaryRequest says whether a serve line asks for the canary.
func isCanaryRequest(line string) bool {
	return strings.HasPrefix(strings.TrimSpace(line), "canary")
}

// answer runs "canary BYTES WARM LOADS LAPS": WARM untimed loads, then LOADS
// timed in LAPS stretches (canary.Chase.NsPerLoad).
func (c canaries) answer(line string) CanaryAnswer {
	const want = "want \"canary BYTES WARM LOADS LAPS\", got %q"
	fields := strings.Fields(line)
	if len(fields) != 5 {
		return CanaryAnswer{Error: fmt.Sprintf(want, line)}
	}
	bytes, errB := strconv.Atoi(fields[1])
	warm, errW := strconv.Atoi(fields[2])
	loads, errL := strconv.Atoi(fields[3])
	laps, errP := strconv.Atoi(fields[4])
	if errB != nil || errW != nil || errL != nil || errP != nil || warm < 0 {
		return CanaryAnswer{Error: fmt.Sprintf(want, line)}
	}
	chase := c[bytes]
	if chase == nil {
		var err error
		if chase, err = canary.New(bytes, 1); err != nil {
			return CanaryAnswer{Error: err.Error()}
		}
		c[bytes] = chase
	}
	ns, err := chase.NsPerLoad(warm, loads, laps)
	if err != nil {
		return CanaryAnswer{Error: err.Error()}
	}
	return CanaryAnswer{CanaryNs: ns}
}
