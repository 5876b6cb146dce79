package main

import (
	"time"

	"golang.org/x/sys/unix"
)

// cpuShare reads the process's CPU time (every thread the runtime owns) and the
// wall clock around a region. Their ratio tells how much of the region's wall time
// the process was on a CPU: steal time and other tasks on the case's CPUs lower it,
// so the analysis can use it as a per-value covariate of CPU contention.
// The wall clock is read outside the CPU clock, so that the wall bracket holds
// the CPU one; with one P the share may still pass 1 a little, since the runtime's
// other threads (sysmon, GC workers) count too.
type cpuShare struct {
	wallStart, wallEnd time.Time
	cpuStart, cpuEnd   unix.Timespec
	err                error
}

func (c *cpuShare) begin() {
	c.wallStart = time.Now()
	c.err = unix.ClockGettime(unix.CLOCK_PROCESS_CPUTIME_ID, &c.cpuStart)
}

func (c *cpuShare) end() {
	err := unix.ClockGettime(unix.CLOCK_PROCESS_CPUTIME_ID, &c.cpuEnd)
	c.wallEnd = time.Now()
	if c.err == nil {
		c.err = err
	}
}

// result is the CPU time and the wall time of the bracket in ns; both nil where
// the CPU clock could not be read (unavailable, never 0).
func (c *cpuShare) result() (cpuNs, wallNs *int64) {
	if c.err != nil {
		return nil, nil
	}
	cpu := c.cpuEnd.Nano() - c.cpuStart.Nano()
	wall := c.wallEnd.Sub(c.wallStart).Nanoseconds()
	return &cpu, &wall
}
