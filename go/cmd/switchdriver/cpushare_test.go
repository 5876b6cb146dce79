package main

import (
	"runtime"
	"testing"
	"time"

	"switchbench/go/switching"
)

// The CPU time of a run is real and bounded by what the process's threads could
// have used: no more than the wall time on every CPU the runtime may run Go code
// on, plus one for the runtime's own threads (sysmon, a thread in a syscall).
func TestRunReportsItsCPUTime(t *testing.T) {
	params := switching.Params{Pairs: 1}
	s := runOnce(switching.Bodies["chan"], params, 20000, false)
	if s.Error != "" {
		t.Fatal(s.Error)
	}
	if s.CPUNs == nil || s.WallNs == nil {
		t.Fatal("the CPU clock was not read")
	}
	cpu, wall := *s.CPUNs, *s.WallNs
	if cpu <= 0 {
		t.Errorf("cpu_ns %d, want > 0", cpu)
	}
	if wall < s.ElapsedNs {
		t.Errorf("wall_ns %d is shorter than the elapsed %d it brackets", wall, s.ElapsedNs)
	}
	limit := wall * int64(runtime.GOMAXPROCS(0)+1)
	if cpu > limit {
		t.Errorf("cpu_ns %d exceeds wall_ns x (GOMAXPROCS+1) = %d", cpu, limit)
	}
}

// A busy region on one goroutine keeps its thread on a CPU: its CPU time is a
// real part of the wall time, and a sleeping region's is a far smaller part.
func TestCPUShareSeesSleeping(t *testing.T) {
	var busy, idle cpuShare
	busy.begin()
	x := 0
	for i := 0; i < 20_000_000; i++ {
		x += i ^ x
	}
	busy.end()
	idle.begin()
	time.Sleep(20 * time.Millisecond)
	idle.end()
	bc, bw := busy.result()
	ic, iw := idle.result()
	if bc == nil || ic == nil {
		t.Fatal("the CPU clock was not read")
	}
	busyShare := float64(*bc) / float64(*bw)
	idleShare := float64(*ic) / float64(*iw)
	if !(idleShare < busyShare/2) {
		t.Errorf("sleeping share %.3f not clearly below busy share %.3f (x=%d)", idleShare, busyShare, x)
	}
}
