package switching

import (
	"fmt"
	"os"
	"runtime"
	"sync"
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
	for i := 0; i < n; i++ {
		go func() {
			defer done.Done()
			parked.Done()
			<-release
		}()
	}
	parked.Wait()
	m.Created = n
	runtime.ReadMemStats(&ms)
	m.StackInuseAfter, m.SysAfter = int64(ms.StackInuse), int64(ms.Sys)
	m.RSSAfter, m.VMAfter, err = statm()
	close(release)
	done.Wait()
	return m, err
}
