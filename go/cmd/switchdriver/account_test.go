package main

import (
	"strings"
	"testing"

	"switchbench/go/switching"
)

func TestParseRequestAccount(t *testing.T) {
	ops, perf, account, err := parseRequest("500 account")
	if err != nil || ops != 500 || perf || !account {
		t.Fatalf(`"500 account" read as ops=%d perf=%v account=%v err=%v`, ops, perf, account, err)
	}
	if _, _, _, err := parseRequest("500 acount"); err == nil {
		t.Fatal("a misspelt mode was accepted")
	}
	if _, _, account, _ := parseRequest("500 perf"); account {
		t.Fatal(`"500 perf" asked for accounting`)
	}
}

// An accounted run of the channel ping-pong: the account is there, every
// source read, and its parts hold together: the CPUs' time covers the
// process's own CPU time, and the two sources of that time agree within a
// few ticks (getrusage is tick-sampled, schedstat is not).
func TestAccountedChanRun(t *testing.T) {
	s := runAccounted(switching.Bodies["chan"], switching.Params{}, 200_000, false, true)
	if s.Error != "" {
		t.Fatal(s.Error)
	}
	a := s.Account
	if a == nil {
		t.Fatal("no account in an accounted sample")
	}
	if a.RusageError != "" || a.SchedstatError != "" || a.StatError != "" {
		t.Fatalf("a source failed: %q %q %q", a.RusageError, a.SchedstatError, a.StatError)
	}
	if len(a.CPUs) < 1 || a.Threads < 1 || a.RegionNs <= 0 {
		t.Fatalf("empty account: %+v", a)
	}
	var ticks int64
	for _, v := range a.CPUTicks {
		if v < 0 {
			t.Fatalf("a /proc/stat field went back: %v", a.CPUTicks)
		}
		ticks += v
	}
	if ticks == 0 {
		t.Fatal("the CPUs counted no time over the region")
	}
	process := a.UserNs + a.KernelNs
	if process <= 0 || a.OncpuNs <= 0 {
		t.Fatalf("no CPU time: rusage %d ns, schedstat %d ns", process, a.OncpuNs)
	}
	// Both sources count the same threads' time; allow 20 ms (two 100 Hz
	// ticks) and 20% for the tick-sampled side and the reads at the edges.
	diff := process - a.OncpuNs
	if diff < 0 {
		diff = -diff
	}
	if diff > 20_000_000+process/5 {
		t.Fatalf("getrusage says %d ns, schedstat %d ns", process, a.OncpuNs)
	}
}

func TestReadCPUTicksRefusesAMissingCPU(t *testing.T) {
	_, err := readCPUTicks([]int{1 << 20})
	if err == nil || !strings.Contains(err.Error(), "/proc/stat has 0 of the 1") {
		t.Fatalf("want a missing CPU refused, got %v", err)
	}
}

// TestReadOthersLeavesThisProcessOut: the other tasks' sum covers the machine's
// tasks but never this process's own threads, which the threads' figures hold.
func TestReadOthersLeavesThisProcessOut(t *testing.T) {
	others, err := readOthers()
	if err != nil {
		t.Skipf("no other task's schedstat here: %v", err)
	}
	own, err := readTasks()
	if err != nil {
		t.Fatal(err)
	}
	for tid := range own {
		if _, counted := others[tid]; counted {
			t.Errorf("thread %s of this process is counted among the others", tid)
		}
	}
	if onlineCPUs() < 1 {
		t.Errorf("onlineCPUs() = %d, want at least 1", onlineCPUs())
	}
}
