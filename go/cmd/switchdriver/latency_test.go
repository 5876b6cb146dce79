package main

import (
	"bytes"
	"encoding/json"
	"runtime"
	"testing"
)

// -latency N prints one JSON line with N positive latencies, the clock
// pairs, and the GOMAXPROCS it ran at.
func TestLatencyModePrintsEveryHandoff(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	var stdout, stderr bytes.Buffer
	if code := run(options{latency: 501, gomaxprocs: 1}, nil, &stdout, &stderr); code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	var r latencyReport
	if err := json.Unmarshal(stdout.Bytes(), &r); err != nil {
		t.Fatalf("not one JSON report: %v", err)
	}
	if r.Handoffs != 501 || len(r.LatencyNs) != 501 || r.GOMAXPROCS != 1 {
		t.Fatalf("asked 501 hand-offs at GOMAXPROCS=1, got %d (%d values) at %d",
			r.Handoffs, len(r.LatencyNs), r.GOMAXPROCS)
	}
	for k, v := range r.LatencyNs {
		if v <= 0 {
			t.Fatalf("hand-off %d: %d ns", k, v)
		}
	}
	if len(r.ClockGapNs) != clockPairs {
		t.Errorf("%d clock pairs, want %d", len(r.ClockGapNs), clockPairs)
	}
}
