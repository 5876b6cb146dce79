"""/proc during a run → system.csv and threads.csv (as `vmstat 1` and `pidstat -w 1` show it).

The system view during a run, as `vmstat 1` and `pidstat -w 1` show it.

A background thread of the orchestrator samples, once a second:
- /proc/stat: the machine's context switches (ctxt), forks (processes),
  runnable and blocked tasks                                -> system.csv
- /proc/<pid>/task/<tid>/status of every process of the case being
  measured (its session): voluntary and non-voluntary context switches
  of each thread                                            -> threads.csv
Both are cumulative counters, as the kernel keeps them; rates are
computed when read. Sampling once a second costs the benchmark little.
"""

from __future__ import annotations

import csv
import threading
import time
from pathlib import Path

from bench.results.schema import SYSTEM_COLUMNS, SYSTEM_CSV, THREAD_COLUMNS, THREADS_CSV


def read_proc_stat(path: str = "/proc/stat") -> dict[str, int]:
    values = {}
    with open(path) as f:
        for line in f:
            key, _, rest = line.partition(" ")
            if key in ("ctxt", "processes", "procs_running", "procs_blocked"):
                values[key] = int(rest.split()[0])
    return values


def session_processes(session: int) -> list[int]:
    """Processes whose session id is `session` (the worker runs in a session of its own)."""
    pids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        # Fields after the command name, which is in parentheses and may hold spaces.
        fields = text[text.rfind(")") + 2 :].split()
        if len(fields) > 3 and int(fields[3]) == session:
            pids.append(int(stat.parent.name))
    return pids


def thread_switches(pid: int) -> list[tuple[int, str, int, int]]:
    rows = []
    for status in Path(f"/proc/{pid}/task").glob("*/status"):
        try:
            text = status.read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in text.splitlines() if ":" in line)
        try:
            rows.append(
                (
                    int(status.parent.name),
                    fields["Name"].strip(),
                    int(fields["voluntary_ctxt_switches"]),
                    int(fields["nonvoluntary_ctxt_switches"]),
                )
            )
        except (KeyError, ValueError):
            continue
    return rows


def _last_time(path: Path) -> float:
    try:
        with open(path) as f:
            times = [float(row["t_s"]) for row in csv.DictReader(f)]
    except (OSError, ValueError, KeyError):
        return 0.0
    return max(times, default=0.0)


class SystemSampler:
    """Samples in a daemon thread until stopped; the CLI tells it which case runs."""

    def __init__(self, out_dir: Path, interval_s: float = 1.0, resume: bool = False) -> None:
        self.interval_s = interval_s
        # A resumed run goes on after the last sample of the first session.
        self.t0 = time.monotonic() - (_last_time(out_dir / SYSTEM_CSV) + 1 if resume else 0)
        mode = "a" if resume and (out_dir / SYSTEM_CSV).is_file() else "w"
        self.case = ""
        self.session = 0
        self._stop = threading.Event()
        self._system = open(out_dir / SYSTEM_CSV, mode, newline="")
        self._threads = open(out_dir / THREADS_CSV, mode, newline="")
        self._system_csv = csv.writer(self._system)
        self._threads_csv = csv.writer(self._threads)
        if mode == "w":
            self._system_csv.writerow(SYSTEM_COLUMNS)
            self._threads_csv.writerow(THREAD_COLUMNS)
        self._thread = threading.Thread(target=self._run, name="system-sampler", daemon=True)

    def now(self) -> float:
        return round(time.monotonic() - self.t0, 3)

    def measuring(self, case: str, session: int) -> None:
        self.case, self.session = case, session

    def idle(self) -> None:
        self.case, self.session = "", 0

    def _sample(self) -> None:
        t, case, session = self.now(), self.case, self.session
        try:
            stat = read_proc_stat()
        except OSError:
            return
        self._system_csv.writerow([t, case] + [stat.get(k, "") for k in SYSTEM_COLUMNS[2:]])
        if session:
            for pid in session_processes(session):
                for tid, comm, vol, invol in thread_switches(pid):
                    self._threads_csv.writerow([t, case, pid, tid, comm, vol, invol])
        self._system.flush()
        self._threads.flush()

    def _run(self) -> None:
        while not self._stop.is_set():
            self._sample()
            self._stop.wait(self.interval_s)

    def __enter__(self) -> SystemSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._sample()
        self._system.close()
        self._threads.close()
