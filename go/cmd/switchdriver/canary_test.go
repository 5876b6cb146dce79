package main

import "testing"

func TestServeAnswersCanaryRequests(t *testing.T) {
	status, lines, stderr := driverRun(t, "canary 262144 4096 5000 9\n3\ncanary 64 0 10 1\ncanary x 0 1 1\ncanary 262144 0 5000 1\ncanary 262144 0 5000\ncanary 262144 0 5 9\n", "-body", "chan", "-serve")
	if status != 0 || stderr != "" {
		t.Fatalf("status %d, stderr %q", status, stderr)
	}
	if len(lines) != 7 {
		t.Fatalf("%d answers to 7 lines: %v", len(lines), lines)
	}
	// Warmed or not, in laps or in one, a chase of the right form is timed.
	for _, i := range []int{0, 4} {
		ns, _ := lines[i]["canary_ns"].(float64)
		if !(ns > 0) || lines[i]["error"] != nil {
			t.Errorf("answer %d: %v, want a positive canary_ns and no error", i, lines[i])
		}
	}
	if lines[1]["ops"] != 3.0 {
		t.Errorf("a sample between canaries: %v", lines[1])
	}
	// A buffer too small, a number that is none, the old form without LAPS, and
	// fewer loads than laps.
	for _, i := range []int{2, 3, 5, 6} {
		if _, has := lines[i]["canary_ns"]; has || lines[i]["error"] == nil {
			t.Errorf("answer %d: %v, want an error and no canary_ns", i, lines[i])
		}
	}
}
