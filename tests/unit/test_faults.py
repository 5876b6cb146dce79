"""Nothing lost, nothing hung: failing cases, Ctrl-C and --resume."""


def test_a_run_deadline_follows_the_calibrated_loop_count(monkeypatch):
    from bench.measure.worker import RUN_DEADLINE_FACTOR, run_deadline_s
    from bench.native.bridge import TimedRun

    monkeypatch.setenv("SWITCHBENCH_RUN_DEADLINE_S", "1")
    assert run_deadline_s(10**9, []) == 1.0  # nothing measured yet: the floor
    # 1 µs per op seen: 10^6 ops should take 1 s, and may take FACTOR times that.
    seen = [
        TimedRun(1000, 1_000_000, 2000, 2000, 0, 0, 0),
        TimedRun(1000, 500_000, 2000, 2000, 0, 0, 0),
    ]
    assert run_deadline_s(10**6, seen) == RUN_DEADLINE_FACTOR * 1.0
    assert run_deadline_s(10**6, seen) == 10 * run_deadline_s(10**5, seen)
    assert run_deadline_s(10, seen) == 1.0  # never under the floor
