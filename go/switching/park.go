package switching

import (
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"sync"
	"time"
)

// Memory is what N parked goroutines cost the process.
type Memory struct {
	Requested        int   `json:"requested"`
	Created          int   `json:"created"`
	RSSBefore        int64 `json:"rss_before"`
	RSSAfter         int64 `json:"rss_after"`
	VMBefore         int64 `json:"vm_before"`
	VMAfter          int64 `json:"vm_after"`
	StackInuseBefore int64 `json:"stack_inuse_before"`
	StackInuseAfter  int64 `json:"stack_inuse_after"`
	SysBefore        int64 `json:"sys_before"`
	SysAfter         int64 `json:"sys_after"`
	CreateNs         int64 `json:"create_ns"` // from the first go statement until all are parked
}

// statm reads the process's resident and virtual bytes.
func statm() (rss, vm int64, err error) {
	data, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0, 0, err
	}
	var size, resident int64
	if _, err := fmt.Sscan(string(data), &size, &resident); err != nil {
		return 0, 0, err
	}
	page := int64(os.Getpagesize())
	return resident * page, size * page, nil
}

// ParkGoroutines starts n goroutines that block on one channel, measures
// the process with all of them parked, then releases them.
func ParkGoroutines(n int) (Memory, error) {
	m := Memory{Requested: n}
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	m.StackInuseBefore, m.SysBefore = int64(ms.StackInuse), int64(ms.Sys)
	var err error
	if m.RSSBefore, m.VMBefore, err = statm(); err != nil {
		return m, err
	}
	release := make(chan struct{})
	var parked, done sync.WaitGroup
	parked.Add(n)
	done.Add(n)
	start := time.Now()
	for i := 0; i < n; i++ {
		go func() {
			defer done.Done()
			parked.Done()
			<-release
		}()
	}
	parked.Wait()
	m.CreateNs = time.Since(start).Nanoseconds()
	m.Created = n
	runtime.ReadMemStats(&ms)
	m.StackInuseAfter, m.SysAfter = int64(ms.StackInuse), int64(ms.Sys)
	m.RSSAfter, m.VMAfter, err = statm()
	close(release)
	done.Wait()
	return m, err
}

// Growth is what growing one goroutine's stack to a depth costs.
type Growth struct {
	TargetBytes     int   `json:"target_bytes"`
	Depth           int   `json:"depth"`
	FirstNs         int64 `json:"first_ns"`  // the first descent: the stack grows (and is copied)
	SecondNs        int64 `json:"second_ns"` // the same descent again: the stack is already big
	StackInuseDelta int64 `json:"stack_inuse_delta"`
}

// frameBytes is about what one recurse frame takes on the stack.
const frameBytes = 1024 + 64

//go:noinline
func recurse(depth int) byte {
	var pad [1024]byte
	pad[depth%len(pad)] = byte(depth)
	if depth == 0 {
		return pad[0]
	}
	return recurse(depth-1) + pad[depth%len(pad)]
}

// GrowStack recurses in a fresh goroutine deep enough to need targetBytes
// of stack, twice, timing both descents. maxStack > 0 sets
// debug.SetMaxStack first: past it the runtime stops the whole process
// with "goroutine stack exceeds ... limit", which the caller reports.
func GrowStack(targetBytes, maxStack int) Growth {
	if maxStack > 0 {
		debug.SetMaxStack(maxStack)
	}
	g := Growth{TargetBytes: targetBytes, Depth: targetBytes / frameBytes}
	done := make(chan struct{})
	go func() {
		defer close(done)
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		start := time.Now()
		recurse(g.Depth)
		g.FirstNs = time.Since(start).Nanoseconds()
		runtime.ReadMemStats(&after)
		start = time.Now()
		recurse(g.Depth)
		g.SecondNs = time.Since(start).Nanoseconds()
		g.StackInuseDelta = int64(after.StackInuse) - int64(before.StackInuse)
	}()
	<-done
	return g
}
