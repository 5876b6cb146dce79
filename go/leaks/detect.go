package leaks

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"runtime/pprof"
	"sort"
	"strconv"
	"strings"
)

// topStacks is how many stacks of the goroutine profile a result keeps.
const topStacks = 3

// caughtAt is the goroutine count at which a profile is said to show the
// leak: half of what a leak of one goroutine per iteration leaves.
func caughtAt(k int) float64 { return float64(k) / 2 }

// ProfileFile is the name a profile of one run is saved under.
func ProfileFile(kind, scenario, version string) string {
	return fmt.Sprintf("%s-%s-%s.pb.gz", kind, scenario, version)
}

// writeProfile saves p in pprof's protobuf form (gzipped, debug=0) into dir,
// by writing a temporary file and renaming it.
func writeProfile(p *pprof.Profile, dir, scenario, version string) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	name := ProfileFile(p.Name(), scenario, version)
	tmp, err := os.CreateTemp(dir, name+".tmp*")
	if err != nil {
		return "", err
	}
	defer os.Remove(tmp.Name())
	if err := p.WriteTo(tmp, 0); err != nil {
		tmp.Close()
		return "", fmt.Errorf("writing the %s profile: %w", p.Name(), err)
	}
	if err := tmp.Close(); err != nil {
		return "", err
	}
	if err := os.Rename(tmp.Name(), filepath.Join(dir, name)); err != nil {
		return "", err
	}
	return name, nil
}

// goroutineProfile reads the goroutine profile the way a user does: save
// it for `go tool pprof`, and look at the biggest stacks of its text form.
func goroutineProfile(scenario, version string, k int, dir string) (Method, []Stack, error) {
	p := pprof.Lookup("goroutine")
	m := Method{
		Available: true,
		Rule:      fmt.Sprintf("one stack of the goroutine profile holds at least k/2 = %g goroutines", caughtAt(k)),
	}
	if dir != "" {
		name, err := writeProfile(p, dir, scenario, version)
		if err != nil {
			return m, nil, err
		}
		m.Profile = name
	}
	var counts, dump bytes.Buffer
	if err := p.WriteTo(&counts, 1); err != nil {
		return m, nil, err
	}
	if err := p.WriteTo(&dump, 2); err != nil {
		return m, nil, err
	}
	stacks := parseCounts(counts.String())
	waits := parseDump(dump.String())
	// Leave out the goroutine that is writing this very profile.
	kept := stacks[:0]
	for _, st := range stacks {
		if len(st.Frames) == 0 || !strings.HasPrefix(st.Frames[0], "runtime/pprof.") {
			kept = append(kept, st)
		}
	}
	stacks = kept
	if len(stacks) > topStacks {
		stacks = stacks[:topStacks]
	}
	for i := range stacks {
		stacks[i].Wait = mostCommon(waits[strings.Join(stacks[i].Frames, "\n")])
		stacks[i].Summary = summary(stacks[i])
	}
	top := 0.0
	if len(stacks) > 0 {
		top = float64(stacks[0].Count)
	}
	m.Value = &top
	m.Caught = boolPtr(top >= caughtAt(k))
	return m, stacks, nil
}

// goroutineLeakProfile asks the runtime itself: writing the goroutineleak
// profile runs a collection that marks as leaked every goroutine blocked on
// a channel or lock that no runnable goroutine can reach.
func goroutineLeakProfile(scenario, version string, k int, dir string) (Method, error) {
	m := Method{
		Rule: fmt.Sprintf("the goroutineleak profile holds at least k/2 = %g goroutines", caughtAt(k)),
	}
	p := pprof.Lookup("goroutineleak")
	if p == nil {
		m.Reason = "no goroutineleak profile in this binary: it needs Go 1.26 or newer built with GOEXPERIMENT=goroutineleakprofile"
		return m, nil
	}
	m.Available = true
	var text bytes.Buffer
	if err := p.WriteTo(&text, 1); err != nil {
		return m, err
	}
	total, err := profileTotal(text.String())
	if err != nil {
		return m, fmt.Errorf("reading the goroutineleak profile: %w", err)
	}
	if dir != "" {
		name, err := writeProfile(p, dir, scenario, version)
		if err != nil {
			return m, err
		}
		m.Profile = name
	}
	value := float64(total)
	m.Value = &value
	m.Caught = boolPtr(value >= caughtAt(k))
	return m, nil
}

// profileTotal reads "NAME profile: total N" from a debug=1 profile.
func profileTotal(text string) (int, error) {
	first, _, _ := strings.Cut(text, "\n")
	_, n, ok := strings.Cut(first, " profile: total ")
	if !ok {
		return 0, fmt.Errorf("no total in %q", first)
	}
	return strconv.Atoi(strings.TrimSpace(n))
}

// parseCounts reads a debug=1 goroutine profile: "N @ pc pc ..." starts a
// stack, "#\tpc\tfunction+off\tfile:line" lines are its frames (the runtime
// frames at the top are already left out). Biggest first.
func parseCounts(text string) []Stack {
	var stacks []Stack
	for _, line := range strings.Split(text, "\n") {
		if count, _, ok := strings.Cut(line, " @ "); ok {
			if n, err := strconv.Atoi(count); err == nil {
				stacks = append(stacks, Stack{Count: n})
			}
			continue
		}
		if !strings.HasPrefix(line, "#\t") || len(stacks) == 0 {
			continue
		}
		fields := strings.Split(line, "\t")
		fn := "?"
		if len(fields) >= 3 {
			fn = fields[2]
			if i := strings.LastIndex(fn, "+0x"); i > 0 {
				fn = fn[:i]
			}
		}
		last := &stacks[len(stacks)-1]
		last.Frames = append(last.Frames, fn)
	}
	sort.SliceStable(stacks, func(i, j int) bool { return stacks[i].Count > stacks[j].Count })
	return stacks
}

// parseDump reads a debug=2 dump ("goroutine N [wait reason, 3 minutes]:"
// then function and file lines) into wait-reason counts per list of
// function names, which is how parseCounts' stacks are keyed.
func parseDump(text string) map[string]map[string]int {
	waits := map[string]map[string]int{}
	for _, block := range strings.Split(text, "\n\n") {
		lines := strings.Split(strings.TrimSpace(block), "\n")
		open, shut := strings.Index(lines[0], "["), strings.LastIndex(lines[0], "]")
		if !strings.HasPrefix(lines[0], "goroutine ") || open < 0 || shut < open {
			continue
		}
		reason, _, _ := strings.Cut(lines[0][open+1:shut], ",")
		var frames []string
		for _, l := range lines[1:] {
			if strings.HasPrefix(l, "\t") || strings.HasPrefix(l, "created by ") || strings.HasPrefix(l, "...") {
				continue
			}
			if i := strings.LastIndex(l, "("); i > 0 {
				l = l[:i]
			}
			frames = append(frames, l)
		}
		key := strings.Join(frames, "\n")
		if waits[key] == nil {
			waits[key] = map[string]int{}
		}
		waits[key][reason]++
	}
	return waits
}

func mostCommon(counts map[string]int) string {
	best, n := "", 0
	for k, c := range counts {
		if c > n || (c == n && k < best) {
			best, n = k, c
		}
	}
	return best
}

// summary is one short line: count, wait reason, innermost functions.
func summary(s Stack) string {
	frames := s.Frames
	if len(frames) > 3 {
		frames = frames[:3]
	}
	short := make([]string, len(frames))
	for i, f := range frames {
		short[i] = f[strings.LastIndex(f, "/")+1:]
	}
	wait := ""
	if s.Wait != "" {
		wait = " [" + s.Wait + "]"
	}
	return fmt.Sprintf("%d ×%s %s", s.Count, wait, strings.Join(short, " ← "))
}
