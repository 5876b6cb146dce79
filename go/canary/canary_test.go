package canary

import "testing"

func TestOneCycleThroughEveryLine(t *testing.T) {
	c, err := New(64*1000, 7)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[uint64]bool{}
	at := c.at
	for i := 0; i < 1000; i++ {
		if seen[at] {
			t.Fatalf("line %d visited twice after %d loads: not one cycle", at/lineWords, i)
		}
		seen[at] = true
		at = c.buf[at]
	}
	if at != c.at {
		t.Fatalf("after every line the chase is at %d, not back at its start %d", at, c.at)
	}
}

func TestNsPerLoadIsPositive(t *testing.T) {
	c, err := New(256<<10, 1)
	if err != nil {
		t.Fatal(err)
	}
	ns, err := c.NsPerLoad(4096, 10000, 9)
	if err != nil {
		t.Fatal(err)
	}
	if !(ns > 0) {
		t.Fatalf("ns per load %v, want > 0", ns)
	}
}

func TestRefusesTooSmall(t *testing.T) {
	if _, err := New(64, 1); err == nil {
		t.Fatal("a one-line buffer was accepted")
	}
	c, _ := New(1024, 1)
	for _, bad := range [][2]int{{0, 1}, {10, 0}, {5, 9}, {1000, MaxLaps + 1}} {
		if _, err := c.NsPerLoad(0, bad[0], bad[1]); err == nil {
			t.Fatalf("%d loads in %d laps were accepted", bad[0], bad[1])
		}
	}
}
