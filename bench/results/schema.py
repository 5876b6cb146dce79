"""Every file of a result folder → its name, its columns, and the schema version.

One module for the format, so that what the measuring code writes and what
bench.results.read checks cannot drift apart. (Longer than the suite's other modules
for that reason: it is the table of every file's columns and their kinds, and splitting
it would make two places for the format.)

Format history (host.json's schema_version):

- 1: the first result folders: summary.csv without the regression, trust and stop
  columns; host.json without smt, mitigations and clock.
- 2: summary.csv gained the regression, trust and stop columns (SINCE_SCHEMA_2);
  host.json smt, mitigations and clock.
- 2, later: summary.csv gained the slope's range and the run's time (SINCE_SLOPE_RANGE),
  when the sweeps came to time only switching; older folders read them as not measured.
- 3: overhead.csv holds what the overhead step measured and nothing else: the suite's
  figures beside each minimal loop (OVERHEAD_SUITE_COLUMNS) are computed from summary.csv
  when the report is built, so the file is written once. In older folders those columns
  are dropped on reading and computed again the same way.
- 3, later: samples.csv gained cpu_share (SINCE_CPU_SHARE_SAMPLES), each timed value's
  process CPU time over its wall time; older folders read it as not measured.

A result folder holds:

    host.json           the machine (bench.measure.host)
    run.json            the run's settings and each case's outcome
    raw/<case>.json     pyperf's file of one case, while the run goes on
    suite.json          pyperf's suite: every finished case
    samples.csv         one row per sample (SAMPLE_COLUMNS)
    summary.csv         one row per case (SUMMARY_COLUMNS)
    memory.csv, thread_stacks.csv, stack_growth.csv: the memory step
    leaks.csv           the goroutine-leak step (LEAK_COLUMNS)
    overhead.csv        the minimal loops and the timer (OVERHEAD_COLUMNS)
    agreement.csv       the pipe cases against perf bench (AGREEMENT_COLUMNS)
    latency.csv         the latency step: the tail of single hand-offs (LATENCY_COLUMNS)
    latency_hist.csv    its latencies, counted into 2% bins to redraw the CDF (LATENCY_HIST_COLUMNS)
    system.csv, threads.csv: the system's counters while the run went on
    report.md, report.html and the figures (bench.render.report)
"""

from __future__ import annotations

from typing import Any

from bench.native.bridge import COUNTER_NAMES
from bench.results.checks import (
    COUNT,
    NONNEG,
    NUMBER,
    POSITIVE,
    TEXT,
)

# 2: summary.csv gained the regression, trust and stop columns; host.json smt,
# mitigations and clock. Folders of schema 1 are still read (READABLE_SCHEMAS):
# what they lack is shown as unavailable.
# 3: overhead.csv without the suite's figures (computed from summary.csv instead).
SCHEMA_VERSION = 3
READABLE_SCHEMAS = (1, 2, 3)

HOST_JSON = "host.json"
RUN_JSON = "run.json"
SUITE_JSON = "suite.json"
SAMPLES_CSV = "samples.csv"
SUMMARY_CSV = "summary.csv"
MEMORY_CSV = "memory.csv"
STACKS_CSV = "thread_stacks.csv"
GROWTH_CSV = "stack_growth.csv"
LEAKS_CSV = "leaks.csv"
OVERHEAD_CSV = "overhead.csv"
AGREEMENT_CSV = "agreement.csv"
SYSTEM_CSV = "system.csv"
THREADS_CSV = "threads.csv"
COMPARE_CSV = "compare.csv"
LATENCY_CSV = "latency.csv"
LATENCY_HIST_CSV = "latency_hist.csv"

# summary.csv columns that schema-1 folders lack (bench.results.read fills them in).
SINCE_SCHEMA_2 = (
    "ci_half_width",
    "slope_ns_per_switch",
    "slope_ci_low",
    "slope_ci_high",
    "intercept_ns",
    "r_squared",
    "trust",
    "stop",
)
# summary.csv columns that folders written before the sweeps timed only switching lack
# (bench.results.read fills them in as not measured).
SINCE_SLOPE_RANGE = ("slope_range_low", "slope_range_high", "run_ns")

# summary.csv columns of the mood adjustment (bench.analysis.mood): the median and CI
# adjusted to one canary level, the canary's slope, its CI and R², the case's median
# canary and the level adjusted to, whether the adjusted figure is the headline (1/0;
# blank: no fit, for want of a canary or of values) and why not. Older folders read
# them as not measured.
SINCE_MOOD = (
    "adjusted_ns",
    "adjusted_ci_low",
    "adjusted_ci_high",
    "canary_r2",
    "canary_beta",
    "canary_beta_ci_low",
    "canary_beta_ci_high",
    "canary_ns",
    "canary_ref_ns",
    "mood_adjusted",
    "mood_note",
)

# summary.csv columns of the mood adjustment's second covariate, the CPU share (the share
# of each value's wall time the case's process was on a CPU), and the R² of the whole fit
# (canary_r2 is then the canary's alone): its median, the level adjusted to, its slope
# and the slope's CI. Older folders read them as not measured (their fit was the
# canary's alone, so their canary_r2 is the fit's).
SINCE_MOOD_SHARE = (
    "mood_r2",
    "cpu_share",
    "cpu_share_ref",
    "share_beta",
    "share_beta_ci_low",
    "share_beta_ci_high",
)

SUMMARY_COLUMNS = [
    "case",
    "status",
    "reason",
    "description",
    "unit",
    "one_op",
    "switches_per_op",
    "ns_per_switch",
    "ci_low",
    "ci_high",
    *SINCE_SCHEMA_2,
    *SINCE_SLOPE_RANGE,
    "samples",
    "processes",
    "os_ctx_switches_per_switch",
    "os_ctx_source",
    "voluntary_ctx_per_switch",
    "involuntary_ctx_per_switch",
    *(f"{name}_per_switch" for name in COUNTER_NAMES),
    "ipc",
    "perf_overhead",
    "expected_os_ctx_switches_per_switch",
    "os_ctx_check",
    "ratio_to_go_chan_p1",
    "sweep",
    "sweep_x",
    *SINCE_MOOD,
    *SINCE_MOOD_SHARE,
]

# samples.csv columns of the mood canary (bench.native.canary, ns per load just before
# and just after each timed value); folders written before it read them as not measured.
SINCE_CANARY_SAMPLES = ("canary_before_ns", "canary_after_ns")
# samples.csv's CPU share of each timed value (bench.native.bridge.TimedRun.cpu_share);
# folders written before it read it as not measured.
SINCE_CPU_SHARE_SAMPLES = ("cpu_share",)

SAMPLE_COLUMNS = [
    "case",
    "process",
    "sample",
    "kind",
    "ops",
    "switches",
    "ns_per_switch",
    "voluntary_ctx",
    "involuntary_ctx",
    "os_ctx_switches_per_switch",
    *COUNTER_NAMES,
    *SINCE_CANARY_SAMPLES,
    *SINCE_CPU_SHARE_SAMPLES,
]

MEMORY_COLUMNS = [
    "kind",
    "requested",
    "created",
    "ulimit_s",
    "rss_bytes_per_unit",
    "virtual_bytes_per_unit",
    "stack_bytes_per_unit",
    "go_sys_bytes_per_unit",
    "create_ns_per_unit",
    "status",
    "reason",
]
STACK_COLUMNS = ["ulimit_s", "thread_stack_bytes", "guard_bytes", "status", "reason"]

GROWTH_COLUMNS = [
    "target_bytes",
    "depth",
    "first_ns",
    "second_ns",
    "growth_ns",
    "stack_inuse_delta_bytes",
    "max_stack_bytes",
    "status",
    "reason",
]

LEAK_COLUMNS = [
    "scenario",
    "version",
    "k",
    "go_version",
    "unit",
    "godebug",
    "goroutines_left",
    "leaked_goroutines_per_iter",
    "leaked_per_iter",
    "slope_per_iter",
    "numgoroutine_slope",
    "heap_bytes_per_leak",
    "stack_bytes_per_leak",
    "retained_objects",
    "callbacks_run",
    "caught_by_numgoroutine",
    "caught_by_pprof",
    "caught_by_goroutineleak",
    "goroutineleak_count",
    "goroutineleak_reason",
    "top_stack",
    "top_stack_count",
    "goroutine_profile",
    "goroutineleak_profile",
    "elapsed_ns",
    "status",
    "reason",
]

OVERHEAD_COLUMNS = [
    "case",
    "kind",
    "what",
    "suite_case",
    "minimal_ns",
    "ci_low",
    "ci_high",
    "round_trips",
    "samples",
    "processes",
    "measured",
    "status",
    "reason",
]

# The suite's figure beside each overhead row, from summary.csv (bench.analysis.overhead);
# in overhead.csv itself before schema 3.
OVERHEAD_SUITE_COLUMNS = ["suite_status", "suite_ns", "suite_ci_low", "suite_ci_high", "ratio"]

AGREEMENT_COLUMNS = ["comparison", "source", "round", "round_trips", "ns_per_switch", "cpu"]

SYSTEM_COLUMNS = ["t_s", "case", "ctxt", "processes", "procs_running", "procs_blocked"]
THREAD_COLUMNS = ["t_s", "case", "pid", "tid", "comm", "voluntary", "nonvoluntary"]

COMPARE_COLUMNS = [
    "case",
    "run",
    "label",
    "status",
    "ns_per_switch",
    "ci_low",
    "ci_high",
    "ratio_to_first",
    "ratio_ci_low",
    "ratio_ci_high",
    "significant",
    "verdict",
    "cycles_per_switch",
    "cycles_source",
    "x_null_syscall",
    "x_go_chan_p1",
]


# A spec is a type, a tuple of alternatives, a dict of known keys (others are
# ignored), ("map", spec) for any keys, or ("list", spec). null is always allowed.
HOST_SPEC: dict[str, Any] = {
    "schema_version": int,
    "hostname": str,
    "cpu_model": str,
    "logical_cpus": int,
    "usable_cpus": ("list", int),
    "physical_cores": int,
    "kernel": str,
    "os": str,
    "machine": str,
    "virtualisation": {
        "hypervisor_flag": bool,
        "vm": str,
        "container": str,
        "dmi_product": str,
        "sys_vendor": str,
    },
    "smt": {"active": bool, "control": str},
    "caches": str,
    "mitigations": {"boot_option": str, "vulnerabilities": ("map", str)},
    "cpu_mhz_reported": float,
    "cpufreq_governor": str,
    "perf_event_paranoid": int,
    "ulimit_s": {"soft_bytes": (int, str), "hard_bytes": (int, str)},
    "versions": ("map", str),
    "counters": ("map", ({"available": bool, "reason": str}, str)),
    "clock": {"ghz": float, "method": str},
}


RUN_SPEC: dict[str, Any] = {
    "status": str,
    "profile": str,
    "profile_settings": dict,
    "selected": ("list", str),
    "repeat": int,
    "memory": bool,
    "leaks": bool,
    "overhead": bool,
    "agreement": bool,
    "agreement_unavailable": str,
    "latency": bool,
    "timesplit": bool,
    "started_utc": str,
    "wall_s": float,
    "argv": ("list", str),
    "cases": (
        "map",
        {
            "status": str,
            "reason": str,
            "wall_s": float,
            "start_s": float,
            "end_s": float,
            "stop": str,
            "ci_half_width": float,
            "batches": int,
            "passes": int,
        },
    ),
}


# Columns of words; every other column of SUMMARY_COLUMNS holds numbers.
SUMMARY_TEXT = {"case", "status", "reason", "description", "unit", "one_op", "trust", "stop"}
SUMMARY_TEXT |= {"os_ctx_source", "os_ctx_check", "sweep"}
SUMMARY_TEXT |= {"mood_note"}


# Columns that may be negative: a regression's intercept and slope CI can be.
SUMMARY_SIGNED = ("intercept_ns", "slope_ci_low", "slope_ci_high", "slope_ns_per_switch")
SUMMARY_SIGNED += ("slope_range_low", "slope_range_high")
SUMMARY_SIGNED += ("canary_beta", "canary_beta_ci_low", "canary_beta_ci_high", "canary_r2")
SUMMARY_SIGNED += ("share_beta", "share_beta_ci_low", "share_beta_ci_high", "mood_r2")


SUMMARY_COUNTS = ("samples", "processes", "switches_per_op")


SUMMARY_KINDS = {
    c: TEXT
    if c in SUMMARY_TEXT
    else NUMBER
    if c in SUMMARY_SIGNED
    else COUNT
    if c in SUMMARY_COUNTS
    else NONNEG
    for c in SUMMARY_COLUMNS
}


# Text columns the report shows as "" rather than "—" when empty.
SUMMARY_BLANK_TEXT = ("reason", "sweep", "unit", "one_op", "os_ctx_check", "trust", "stop")
SUMMARY_BLANK_TEXT += ("mood_note",)


SAMPLE_KINDS = {"case": TEXT, "process": COUNT, "kind": TEXT, "ns_per_switch": NUMBER}
SAMPLE_KINDS |= dict.fromkeys(SINCE_CANARY_SAMPLES, POSITIVE)
SAMPLE_KINDS |= dict.fromkeys(SINCE_CPU_SHARE_SAMPLES, NONNEG)


MEMORY_KINDS = {
    "kind": TEXT,
    "requested": COUNT,
    "created": COUNT,
    "ulimit_s": TEXT,
    "rss_bytes_per_unit": NUMBER,
    "virtual_bytes_per_unit": NUMBER,
    "stack_bytes_per_unit": NUMBER,
    "go_sys_bytes_per_unit": NUMBER,
    "create_ns_per_unit": NUMBER,
    "status": TEXT,
    "reason": TEXT,
}


STACK_KINDS = {
    "ulimit_s": TEXT,
    "thread_stack_bytes": NONNEG,
    "guard_bytes": NONNEG,
    "status": TEXT,
    "reason": TEXT,
}


GROWTH_KINDS = {
    "target_bytes": NONNEG,
    "depth": NONNEG,
    "first_ns": NONNEG,
    "second_ns": NONNEG,
    "growth_ns": NUMBER,
    "stack_inuse_delta_bytes": NUMBER,
    "max_stack_bytes": NONNEG,
    "status": TEXT,
    "reason": TEXT,
}


SYSTEM_KINDS = {
    "t_s": NONNEG,
    "case": TEXT,
    "ctxt": NONNEG,
    "processes": NONNEG,
    "procs_running": NONNEG,
    "procs_blocked": NONNEG,
}


# The latency step (bench.measure.latency): one row per case.
LATENCY_COLUMNS = [
    "case",
    "status",
    "reason",
    "lang",
    "what",
    "clock",
    "runs",
    "handoffs",
    "p50_ns",
    "p50_ci_low",
    "p50_ci_high",
    "p90_ns",
    "p99_ns",
    "p99_ci_low",
    "p99_ci_high",
    "p99_9_ns",
    "p99_99_ns",
    "max_ns",
    "min_ns",
    "clock_ns",
    "clock_pairs",
    "runtime_p50_ns",
    "runtime_p99_ns",
    "runtime_events",
    "runtime_note",
    "wall_s",
]
LATENCY_TEXT = {"case", "status", "reason", "lang", "what", "clock", "runtime_note"}
LATENCY_COUNTS = {"runs", "handoffs", "clock_pairs", "runtime_events"}
LATENCY_KINDS = {
    c: TEXT if c in LATENCY_TEXT else COUNT if c in LATENCY_COUNTS else NONNEG
    for c in LATENCY_COLUMNS
}
# latency_hist.csv: each case's latencies counted into bins [low_ns, high_ns).
LATENCY_HIST_COLUMNS = ["case", "low_ns", "high_ns", "count"]
LATENCY_HIST_KINDS = {"case": TEXT, "low_ns": COUNT, "high_ns": COUNT, "count": COUNT}
# The time split (bench.measure.timesplit): one row per case, one accounted run each.
TIMESPLIT_CSV = "timesplit.csv"
# What was measured; bench.analysis.timesplit derives TIMESPLIT_DERIVED from it.
TIMESPLIT_MEASURED = [
    "case",
    "lang",
    "placement",
    "status",
    "reason",
    "cpu_view",
    "cpus",
    "ncpus",
    "ops",
    "switches",
    "ns_per_switch",
    "region_ns",
    "threads",
    "threads_born",
    "rusage_source",
    "user_hz",
    "thread_user_ns",
    "thread_kernel_ns",
    "thread_oncpu_ns",
    "runq_wait_ns",
    "timeslices",
    "cpu_user_ns",
    "cpu_nice_ns",
    "cpu_system_ns",
    "cpu_idle_ns",
    "cpu_iowait_ns",
    "cpu_irq_ns",
    "cpu_softirq_ns",
    "cpu_steal_ns",
    "others_oncpu_ns",
    "others_tasks",
    "online_cpus",
    "unavailable",
    "wall_s",
]
TIMESPLIT_DERIVED = [
    "user_ns_per_switch",
    "kernel_ns_per_switch",
    "other_ns_per_switch",
    "irq_ns_per_switch",
    "idle_ns_per_switch",
    "steal_ns_per_switch",
    "runq_wait_ns_per_switch",
    "parts_ns_per_switch",
    "wall_cpus_ns_per_switch",
    "tick_ns_per_switch",
    "user_share",
    "oncpu_ratio",
    "oncpu_agree",
    "parts_ratio",
    "parts_agree",
    "other_source",
]
TIMESPLIT_COLUMNS = [*TIMESPLIT_MEASURED, *TIMESPLIT_DERIVED]
TIMESPLIT_TEXT = {"case", "lang", "placement", "status", "reason", "cpu_view", "cpus"}
TIMESPLIT_TEXT |= {"rusage_source", "unavailable", "oncpu_agree", "parts_agree", "other_source"}
# other_ns_per_switch is a difference of two measurements: it may come out below 0.
TIMESPLIT_KINDS = {
    c: TEXT if c in TIMESPLIT_TEXT else NUMBER if c == "other_ns_per_switch" else NONNEG
    for c in TIMESPLIT_COLUMNS
}


# threads.csv (bench.measure.system): each thread's cumulative context switches, as
# pidstat -w reads them; the claims section reads it (bench.analysis.claims_system).
THREAD_KINDS = {
    "t_s": NONNEG,
    "case": TEXT,
    "pid": NONNEG,
    "tid": NONNEG,
    "comm": TEXT,
    "voluntary": NONNEG,
    "nonvoluntary": NONNEG,
}
# `run --go` (bench/measure/toolchains.py): the run's folder holds one result folder per
# Go toolchain, this index of them (and its Markdown), and compare/ across them.
GO_RELEASES_JSON = "go-releases.json"
GO_RELEASES_MD = "go-releases.md"
