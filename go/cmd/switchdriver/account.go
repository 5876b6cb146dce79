package main

// Where the time of a run goes, for a goroutine body: every thread of this
// process and every CPU it may run on, read just before the region starts
// and just after it stops (outside the clock reads), only when a request
// asks for it ("N account"), so that timed samples pay nothing for it.

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Account is the JSON the orchestrator reads; fields mirror the C side's
// struct sb_account. An *Error field that is not empty makes its figures
// unavailable.
type Account struct {
	// CPUs is every CPU of the process's affinity: a Go program's threads may
	// run on any of them, so the CPU view covers them all.
	CPUs []int `json:"cpus"`
	// Threads is every thread seen at the start or at the end of the region;
	// ThreadsBorn were there only at the end (counted from 0), ThreadsGone
	// only at the start (their schedstat after the start is lost, so the
	// schedstat sum is then short).
	Threads     int `json:"threads"`
	ThreadsBorn int `json:"threads_born"`
	ThreadsGone int `json:"threads_gone"`
	// UserNs and KernelNs: getrusage(RUSAGE_SELF), the whole process (every
	// thread the runtime owns, exited ones included).
	UserNs   int64 `json:"user_ns"`
	KernelNs int64 `json:"kernel_ns"`
	// /proc/self/task/*/schedstat, summed over the threads.
	OncpuNs        int64  `json:"oncpu_ns"`
	RunqWaitNs     int64  `json:"runq_wait_ns"`
	Timeslices     int64  `json:"timeslices"`
	RusageError    string `json:"rusage_error"`
	SchedstatError string `json:"schedstat_error"`
	StatError      string `json:"stat_error"`
	// RegionNs: this driver's clock between its two /proc/stat reads.
	RegionNs int64 `json:"region_ns"`
	// CPUTicks: /proc/stat deltas summed over CPUs, in USER_HZ ticks: user,
	// nice, system, idle, iowait, irq, softirq, steal.
	CPUTicks [8]int64 `json:"cpu_ticks"`
	// OthersOncpuNs: every other task's time on a CPU over the region (the
	// schedstat of every task of the machine outside this process), read with
	// the /proc/stat lines; a task born in the region counts from 0, one that
	// ended in it is left out. It covers every CPU, so it stands for the CPUs'
	// other work where this process may run on all of them (OnlineCPUs).
	OthersOncpuNs int64  `json:"others_oncpu_ns"`
	OthersTasks   int64  `json:"others_tasks"`
	OthersError   string `json:"others_error"`
	OnlineCPUs    int    `json:"online_cpus"`
}

// schedstat is one thread's three schedstat numbers.
type schedstat [3]int64

// accountRegion holds the reads at the start, to subtract at the end.
type accountRegion struct {
	out        Account
	rusage     syscall.Rusage
	tasks      map[string]schedstat
	ticks      [8]int64
	others     map[string]int64
	start      time.Time
	startError error
}

func (a *accountRegion) begin() {
	cpus, err := affinityCPUs()
	if err != nil {
		a.out.StatError = err.Error()
	}
	a.out.CPUs = cpus
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &a.rusage); err != nil {
		a.out.RusageError = err.Error()
	}
	a.tasks, a.startError = readTasks()
	if a.others, err = readOthers(); err != nil {
		a.out.OthersError = err.Error()
	}
	if a.out.StatError == "" {
		if a.ticks, err = readCPUTicks(cpus); err != nil {
			a.out.StatError = err.Error()
		}
	}
	a.start = time.Now()
}

func (a *accountRegion) end() {
	elapsed := time.Since(a.start)
	if a.out.StatError == "" {
		after, err := readCPUTicks(a.out.CPUs)
		if err != nil {
			a.out.StatError = err.Error()
		}
		for i := range after {
			a.out.CPUTicks[i] = after[i] - a.ticks[i]
		}
	}
	a.out.RegionNs = elapsed.Nanoseconds()
	a.addOthers()
	tasks, err := readTasks()
	if err == nil {
		err = a.startError
	}
	if err != nil {
		a.out.SchedstatError = err.Error()
	}
	a.addTasks(tasks)
	var after syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &after); err != nil && a.out.RusageError == "" {
		a.out.RusageError = err.Error()
	}
	a.out.UserNs = after.Utime.Nano() - a.rusage.Utime.Nano()
	a.out.KernelNs = after.Stime.Nano() - a.rusage.Stime.Nano()
}

// addTasks sums each thread's schedstat over the region; a thread born in
// it counts from 0, one gone from it is counted as gone.
func (a *accountRegion) addTasks(tasks map[string]schedstat) {
	for tid, now := range tasks {
		before, seen := a.tasks[tid]
		if !seen {
			a.out.ThreadsBorn++
		}
		a.out.OncpuNs += now[0] - before[0]
		a.out.RunqWaitNs += now[1] - before[1]
		a.out.Timeslices += now[2] - before[2]
	}
	a.out.Threads = len(tasks)
	for tid := range a.tasks {
		if _, still := tasks[tid]; !still {
			a.out.ThreadsGone++
			a.out.Threads++
		}
	}
}

// addOthers sums what every other task gained on a CPU since begin.
func (a *accountRegion) addOthers() {
	a.out.OnlineCPUs = onlineCPUs()
	if a.out.OthersError != "" {
		return
	}
	after, err := readOthers()
	if err != nil {
		a.out.OthersError = err.Error()
		return
	}
	for tid, now := range after {
		a.out.OthersOncpuNs += now - a.others[tid] // 0 for a task born in the region
		a.out.OthersTasks++
	}
}

// readOthers reads the time on a CPU of every task of the machine outside
// this process, by thread id. A task that ends while it is read is skipped.
func readOthers() (map[string]int64, error) {
	files, err := filepath.Glob("/proc/[0-9]*/task/[0-9]*/schedstat")
	if err != nil {
		return nil, err
	}
	self := "/proc/" + strconv.Itoa(os.Getpid()) + "/"
	others := make(map[string]int64, len(files))
	for _, file := range files {
		if strings.HasPrefix(file, self) {
			continue
		}
		text, err := os.ReadFile(file)
		if err != nil {
			continue // ended meanwhile
		}
		var oncpu int64
		if _, err := fmt.Sscan(string(text), &oncpu); err != nil {
			continue
		}
		others[filepath.Base(filepath.Dir(file))] = oncpu
	}
	if len(others) == 0 {
		return nil, fmt.Errorf("no other task's schedstat could be read")
	}
	return others, nil
}

// onlineCPUs counts the CPU lines of /proc/stat (0 if it cannot be read).
func onlineCPUs() int {
	text, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	n := 0
	for _, line := range strings.Split(string(text), "\n") {
		if len(line) > 3 && strings.HasPrefix(line, "cpu") && line[3] >= '0' && line[3] <= '9' {
			n++
		}
	}
	return n
}

// readTasks reads every thread's /proc/self/task/TID/schedstat. A thread
// that exits between the listing and its read is left out.
func readTasks() (map[string]schedstat, error) {
	dirs, err := filepath.Glob("/proc/self/task/*")
	if err != nil || len(dirs) == 0 {
		return nil, fmt.Errorf("listing /proc/self/task: %v", err)
	}
	tasks := make(map[string]schedstat, len(dirs))
	for _, dir := range dirs {
		text, err := os.ReadFile(filepath.Join(dir, "schedstat"))
		if os.IsNotExist(err) && len(tasks) > 0 {
			continue // exited just now
		}
		if err != nil {
			return nil, err
		}
		var s schedstat
		if _, err := fmt.Sscan(string(text), &s[0], &s[1], &s[2]); err != nil {
			return nil, fmt.Errorf("%s: %v", filepath.Join(dir, "schedstat"), err)
		}
		tasks[filepath.Base(dir)] = s
	}
	return tasks, nil
}

// affinityCPUs lists the CPUs this process may run on.
func affinityCPUs() ([]int, error) {
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &set); err != nil {
		return nil, fmt.Errorf("sched_getaffinity: %v", err)
	}
	var cpus []int
	for cpu := 0; cpu < 64*len(set); cpu++ {
		if set.IsSet(cpu) {
			cpus = append(cpus, cpu)
		}
	}
	return cpus, nil
}

// readCPUTicks sums the first eight fields of the /proc/stat lines of cpus.
func readCPUTicks(cpus []int) ([8]int64, error) {
	var sum [8]int64
	text, err := os.ReadFile("/proc/stat")
	if err != nil {
		return sum, err
	}
	want := make(map[string]bool, len(cpus))
	for _, cpu := range cpus {
		want["cpu"+strconv.Itoa(cpu)] = true
	}
	found := 0
	for _, line := range strings.Split(string(text), "\n") {
		fields := strings.Fields(line)
		if len(fields) < 9 || !want[fields[0]] {
			continue
		}
		for i := range sum {
			v, err := strconv.ParseInt(fields[i+1], 10, 64)
			if err != nil {
				return sum, fmt.Errorf("/proc/stat %s: %v", fields[0], err)
			}
			sum[i] += v
		}
		found++
	}
	if found != len(cpus) {
		return sum, fmt.Errorf("/proc/stat has %d of the %d CPUs of this process's affinity", found, len(cpus))
	}
	return sum, nil
}
