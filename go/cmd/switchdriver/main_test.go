package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"runtime"
	"strconv"
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

// driverRun parses args as the command line would and runs the mode they
// pick, returning the exit status, the JSON lines on stdout and stderr.
// Bodies run at the test's own GOMAXPROCS, so setting it changes nothing.
func driverRun(t *testing.T, stdin string, args ...string) (int, []map[string]any, string) {
	t.Helper()
	args = append([]string{"-gomaxprocs", strconv.Itoa(runtime.GOMAXPROCS(0))}, args...)
	var stdout, stderr bytes.Buffer
	status := run(parseFlags(args), strings.NewReader(stdin), &stdout, &stderr)
	var lines []map[string]any
	for _, line := range strings.Split(strings.TrimSuffix(stdout.String(), "\n"), "\n") {
		if line == "" {
			continue
		}
		var v map[string]any
		if err := json.Unmarshal([]byte(line), &v); err != nil {
			t.Fatalf("stdout line %q is not JSON: %v", line, err)
		}
		lines = append(lines, v)
	}
	return status, lines, stderr.String()
}

// -serve answers every line, a bad one with a sample carrying only the
// error, and goes on; a bad op count is a failed sample of that count.
// The end of stdin ends it with status 0.
func TestServeAnswersEveryLine(t *testing.T) {
	status, lines, stderr := driverRun(t, "5\n\nabc\n3 perf\n3 x\n1 2 3\n0\n  7  \n", "-body", "chan", "-serve")
	if status != 0 || stderr != "" {
		t.Fatalf("status %d, stderr %q", status, stderr)
	}
	want := []struct {
		ops   float64
		error string
	}{
		{5, ""},
		{0, `want "OPS", "OPS perf" or "OPS account", got ""`},
		{0, `want "OPS", "OPS perf" or "OPS account", got "abc"`},
		{3, ""},
		{0, `want "OPS", "OPS perf" or "OPS account", got "3 x"`},
		{0, `want "OPS", "OPS perf" or "OPS account", got "1 2 3"`},
		{0, "ops must be at least 1, got 0"},
		{7, ""},
	}
	if len(lines) != len(want) {
		t.Fatalf("%d answers to %d lines: %v", len(lines), len(want), lines)
	}
	for i, w := range want {
		got, _ := lines[i]["error"].(string)
		if lines[i]["ops"] != w.ops || got != w.error {
			t.Errorf("answer %d: ops %v, error %q; want ops %v, error %q", i, lines[i]["ops"], got, w.ops, w.error)
		}
		if w.error == "" && lines[i]["handoffs"] != 2*w.ops {
			t.Errorf("answer %d: %v hand-offs for %v round trips", i, lines[i]["handoffs"], w.ops)
		}
	}
	// Without "perf" the counters are not read; with it they are tried.
	if errs := lines[0]["counter_errors"].([]any); errs[0] != "not counted in this run" {
		t.Errorf("plain request: counter error %q", errs[0])
	}
	if errs := lines[3]["counter_errors"].([]any); errs[0] == "not counted in this run" {
		t.Error("\"perf\" request: the counters were not tried")
	}
}

// failingWriter fails every write, as stdout does once the reader is gone.
type failingWriter struct{ writes int }

func (w *failingWriter) Write([]byte) (int, error) {
	w.writes++
	return 0, errors.New("reader gone")
}

// A sample that cannot be written stops -serve with status 1; an error
// answer that cannot be written does not. The JSON encoder keeps its first
// write error and writes nothing after it, so a failed error answer makes
// the next sample fail too.
func TestServeStopsWhenASampleCannotBeWritten(t *testing.T) {
	var out failingWriter
	status := serveSamples(switching.Bodies["chan"], switching.Params{}, strings.NewReader("x\nx\n"), &out)
	if status != 0 || out.writes != 1 {
		t.Errorf("bad lines only: status %d after %d writes, want 0 after 1", status, out.writes)
	}
	out = failingWriter{}
	status = serveSamples(switching.Bodies["chan"], switching.Params{}, strings.NewReader("5\n5\n"), &out)
	if status != 1 || out.writes != 1 {
		t.Errorf("samples: status %d after %d writes, want 1 after 1", status, out.writes)
	}
	out = failingWriter{}
	status = serveSamples(switching.Bodies["chan"], switching.Params{}, strings.NewReader("x\n5\n5\n"), &out)
	if status != 1 || out.writes != 1 {
		t.Errorf("a bad line, then samples: status %d after %d writes, want 1 after 1", status, out.writes)
	}
}

// -ops takes one sample; its exit status says whether the sample failed.
func TestOnceExitsWithTheSamplesOutcome(t *testing.T) {
	status, lines, _ := driverRun(t, "", "-body", "chan", "-ops", "20")
	if status != 0 || len(lines) != 1 || lines[0]["handoffs"] != 40.0 {
		t.Errorf("20 ops: status %d, %v", status, lines)
	}
	status, lines, _ = driverRun(t, "", "-body", "chan")
	if status != 1 || len(lines) != 1 || lines[0]["error"] != "ops must be at least 1, got 0" {
		t.Errorf("no -ops: status %d, %v", status, lines)
	}
}

// A body that does not exist, or a shape no body can take, is status 2
// with the reason on stderr and nothing on stdout. The list of bodies
// leaves the test-only ones out, though they can be asked for.
func TestBadBodyOrShapeFails(t *testing.T) {
	status, lines, stderr := driverRun(t, "", "-body", "nope", "-ops", "1")
	if status != 2 || len(lines) != 0 || !strings.HasPrefix(stderr, `switchdriver: unknown -body "nope" (known: chan, `) {
		t.Errorf("unknown body: status %d, %v, stderr %q", status, lines, stderr)
	}
	if strings.Contains(stderr, "test.") {
		t.Errorf("the known bodies include test-only ones: %q", stderr)
	}
	status, lines, stderr = driverRun(t, "", "-body", "chan.pairs", "-pairs", "0", "-ops", "1")
	want := "switchdriver: need -gomaxprocs >= 0, -pairs >= 1, -ring-size >= 2, -working-set >= 0\n"
	if status != 2 || len(lines) != 0 || stderr != want {
		t.Errorf("-pairs 0: status %d, %v, stderr %q", status, lines, stderr)
	}
	for name := range switching.TestOnlyBodies {
		if _, err := lookUpBody(name); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		if _, real := switching.Bodies[name]; real {
			t.Errorf("%s is among the real bodies too", name)
		}
	}
}

// -park prints what the parked goroutines cost, with status 0.
func TestParkPrintsTheCost(t *testing.T) {
	status, lines, stderr := driverRun(t, "", "-park", "100")
	if status != 0 || stderr != "" || len(lines) != 1 || lines[0]["created"] != 100.0 {
		t.Errorf("status %d, %v, stderr %q", status, lines, stderr)
	}
}

// -grow prints what growing the stack cost, with status 0.
func TestGrowPrintsTheCost(t *testing.T) {
	status, lines, stderr := driverRun(t, "", "-grow", "65536")
	if status != 0 || stderr != "" || len(lines) != 1 || lines[0]["target_bytes"] != 65536.0 {
		t.Errorf("status %d, %v, stderr %q", status, lines, stderr)
	}
}

// -leaks that cannot run its scenario prints the error both in the JSON
// line and on stderr, with status 2. (The scenarios themselves are tested
// in go/leaks, each in a process of its own.)
func TestLeaksThatCannotRunFail(t *testing.T) {
	status, lines, stderr := driverRun(t, "", "-leaks", "sender", "-leak-version", "x")
	wantErr := `unknown version "x" (want leaking or fixed)`
	if status != 2 || len(lines) != 1 || lines[0]["error"] != wantErr {
		t.Errorf("status %d, %v", status, lines)
	}
	if stderr != "switchdriver: leak scenario sender (x): "+wantErr+"\n" {
		t.Errorf("stderr %q", stderr)
	}
}

// -leaks, -grow and -park win over a body, in that order.
func TestModesTakeTurnsInOrder(t *testing.T) {
	if _, lines, _ := driverRun(t, "", "-leaks", "nope", "-grow", "4096", "-park", "1", "-body", "chan", "-ops", "1"); len(lines) != 1 || lines[0]["scenario"] != "nope" {
		t.Errorf("-leaks with the others: %v", lines)
	}
	if _, lines, _ := driverRun(t, "", "-grow", "4096", "-park", "1", "-body", "chan", "-ops", "1"); len(lines) != 1 || lines[0]["target_bytes"] != 4096.0 {
		t.Errorf("-grow with -park and a body: %v", lines)
	}
	if _, lines, _ := driverRun(t, "", "-park", "1", "-body", "chan", "-ops", "1"); len(lines) != 1 || lines[0]["requested"] != 1.0 {
		t.Errorf("-park with a body: %v", lines)
	}
}
