import os
import subprocess
import sys
import time

from bench.measure import system


def test_session_processes_and_their_threads():
    child = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(30)"], start_new_session=True
    )
    try:
        deadline = time.monotonic() + 10
        while child.pid not in system.session_processes(child.pid):
            assert time.monotonic() < deadline, "the new session was never seen"
            time.sleep(0.05)
        assert os.getpid() not in system.session_processes(child.pid)
        rows = system.thread_switches(child.pid)
        assert any(tid == child.pid for tid, _, _, _ in rows)
        assert all(vol >= 0 and invol >= 0 for _, _, vol, invol in rows)
    finally:
        child.kill()
        child.wait()
