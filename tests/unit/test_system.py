import os
import time

import pandas as pd

from bench.measure import system
from bench.results import schema


def test_proc_stat_counters_only_grow():
    first = system.read_proc_stat()
    assert set(first) >= {"ctxt", "processes", "procs_running", "procs_blocked"}
    # This process has been forked and is running now, and the machine has switched.
    assert first["processes"] >= 1 and first["procs_running"] >= 1 and first["ctxt"] >= 1
    assert isinstance(first["procs_blocked"], int) and first["procs_blocked"] >= 0
    time.sleep(0.05)
    assert system.read_proc_stat()["ctxt"] >= first["ctxt"]


def test_sampler_writes_time_series(tmp_path):
    with system.SystemSampler(tmp_path, interval_s=0.05) as sampler:
        sampler.measuring("go.chan.p1", os.getpid())
        time.sleep(0.3)
        sampler.idle()
    series = pd.read_csv(tmp_path / "system.csv", keep_default_na=False)
    assert list(series.columns) == schema.SYSTEM_COLUMNS
    assert len(series) >= 3
    assert series["t_s"].is_monotonic_increasing and series["ctxt"].is_monotonic_increasing
    assert "go.chan.p1" in set(series["case"])
    threads = pd.read_csv(tmp_path / "threads.csv")
    assert list(threads.columns) == schema.THREAD_COLUMNS
