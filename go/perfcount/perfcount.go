// Package perfcount counts perf events (perf_event_open(2)) for every
// thread of this process over a timed region: the Go twin of c/counters.c.
//
// Goroutines move between OS threads, so the counters are opened on every
// thread the process has when the region starts. A thread created inside
// the region is not counted; that makes the sums unknowable, so every
// counter is then reported unavailable rather than too small.
package perfcount

import (
	"encoding/binary"
	"fmt"
	"os"
	"strconv"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Names are the counters in the order the C side and the suite use.
var Names = [N]string{
	"context_switches", "cpu_migrations", "task_clock_ns", "page_faults",
	"cycles", "instructions", "branch_misses", "cache_misses",
}

// N is the number of counters.
const N = 8

var events = [N]struct {
	typ    uint32
	config uint64
}{
	{unix.PERF_TYPE_SOFTWARE, unix.PERF_COUNT_SW_CONTEXT_SWITCHES},
	{unix.PERF_TYPE_SOFTWARE, unix.PERF_COUNT_SW_CPU_MIGRATIONS},
	{unix.PERF_TYPE_SOFTWARE, unix.PERF_COUNT_SW_TASK_CLOCK},
	{unix.PERF_TYPE_SOFTWARE, unix.PERF_COUNT_SW_PAGE_FAULTS},
	{unix.PERF_TYPE_HARDWARE, unix.PERF_COUNT_HW_CPU_CYCLES},
	{unix.PERF_TYPE_HARDWARE, unix.PERF_COUNT_HW_INSTRUCTIONS},
	{unix.PERF_TYPE_HARDWARE, unix.PERF_COUNT_HW_BRANCH_MISSES},
	{unix.PERF_TYPE_HARDWARE, unix.PERF_COUNT_HW_CACHE_MISSES},
}

// Result is one region's counts. Value[i] is meaningful only when Err[i] is "".
type Result struct {
	Value [N]int64
	Err   [N]string
}

// Region holds the open counters of every thread between Start and Stop.
type Region struct {
	tids  []int
	fds   [][N]int
	start [][N]uint64
	err   [N]string
}

func threads() ([]int, error) {
	entries, err := os.ReadDir("/proc/self/task")
	if err != nil {
		return nil, err
	}
	tids := make([]int, 0, len(entries))
	for _, e := range entries {
		if tid, err := strconv.Atoi(e.Name()); err == nil {
			tids = append(tids, tid)
		}
	}
	return tids, nil
}

func open(i, tid int) (int, error) {
	attr := unix.PerfEventAttr{
		Type:   events[i].typ,
		Config: events[i].config,
		// Kernel work is part of a thread switch's cost: count it, or
		// report the counter unavailable, never user-space only.
		Bits: unix.PerfBitExcludeHv,
	}
	attr.Size = uint32(unsafe.Sizeof(attr))
	return unix.PerfEventOpen(&attr, tid, -1, -1, unix.PERF_FLAG_FD_CLOEXEC)
}

func read(fd int) (uint64, error) {
	var buf [8]byte
	if n, err := unix.Read(fd, buf[:]); err != nil || n != 8 {
		return 0, fmt.Errorf("reading a counter: %v (%d bytes)", err, n)
	}
	return binary.LittleEndian.Uint64(buf[:]), nil
}

// Start opens the counters on every thread and reads their start values.
// With enabled false nothing is opened: an active per-thread perf counter
// makes every context switch dearer, so timed runs go without.
func Start(enabled bool) *Region {
	r := &Region{}
	if !enabled {
		for i := range r.err {
			r.err[i] = "not counted in this run"
		}
		return r
	}
	if os.Getenv("SWITCHBENCH_NO_PERF") != "" {
		for i := range r.err {
			r.err[i] = "perf_event_open disabled (SWITCHBENCH_NO_PERF)"
		}
		return r
	}
	tids, err := threads()
	if err != nil {
		for i := range r.err {
			r.err[i] = "listing threads: " + err.Error()
		}
		return r
	}
	r.tids = tids
	r.fds = make([][N]int, len(tids))
	r.start = make([][N]uint64, len(tids))
	for t, tid := range tids {
		for i := 0; i < N; i++ {
			r.fds[t][i] = -1
			if r.err[i] != "" {
				continue
			}
			fd, err := open(i, tid)
			if err != nil {
				r.err[i] = "perf_event_open: " + err.Error()
				continue
			}
			r.fds[t][i] = fd
		}
	}
	for t := range tids {
		for i := 0; i < N; i++ {
			if fd := r.fds[t][i]; fd >= 0 && r.err[i] == "" {
				if v, err := read(fd); err != nil {
					r.err[i] = err.Error()
				} else {
					r.start[t][i] = v
				}
			}
		}
	}
	return r
}

// Stop reads the end values, closes the counters and returns the sums.
func (r *Region) Stop() Result {
	res := Result{Err: r.err}
	for t := range r.tids {
		for i := 0; i < N; i++ {
			fd := r.fds[t][i]
			if fd < 0 || res.Err[i] != "" {
				continue
			}
			if v, err := read(fd); err != nil {
				res.Err[i] = err.Error()
			} else {
				res.Value[i] += int64(v - r.start[t][i])
			}
		}
	}
	r.close()
	if now, err := threads(); err == nil && len(now) > len(r.tids) && len(r.tids) > 0 {
		for i := range res.Err {
			if res.Err[i] == "" {
				res.Err[i] = "a thread started inside the timed region and was not counted"
			}
		}
	}
	return res
}

func (r *Region) close() {
	for t := range r.fds {
		for i := 0; i < N; i++ {
			if r.fds[t][i] >= 0 {
				unix.Close(r.fds[t][i])
				r.fds[t][i] = -1
			}
		}
	}
}
