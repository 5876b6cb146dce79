package switching

import "time"

// TestOnlyBodies exist only for the suite's own tests (the test.* cases,
// which bench/cases.py adds when SWITCHBENCH_TEST_CASES is set). They
// misbehave on purpose, so those tests can check that a hung or crashing
// case is killed and reported while the run goes on. They are kept out of
// Bodies so that nothing that runs every body, and no list of the bodies
// there are, ever meets them.
var TestOnlyBodies = map[string]Body{
	"test.hang": func(int, Params, Region) Handoffs {
		time.Sleep(24 * time.Hour)
		return Handoffs{}
	},
	"test.crash": func(int, Params, Region) Handoffs {
		panic("test.crash: crashing on purpose")
	},
}
