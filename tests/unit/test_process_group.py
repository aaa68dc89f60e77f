"""launch.ProcessGroup, the one supervisor of a flow's processes (real child processes, no server)."""

from __future__ import annotations

import subprocess
import sys
import time

from tidb2mysql import launch


def child(code: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", code])


def test_wait_returns_0_when_all_exit_cleanly():
    g = launch.ProcessGroup([child("pass"), child("import time; time.sleep(0.3)")])
    assert g.wait(interval=0.02) == 0


def test_one_failing_process_takes_the_others_down_and_its_status_is_returned():
    sleeper = child("import time; time.sleep(60)")
    g = launch.ProcessGroup([child("import sys; sys.exit(7)"), sleeper])
    t0 = time.monotonic()
    assert g.wait(interval=0.02) == 7
    assert sleeper.poll() is not None and time.monotonic() - t0 < 30


def test_poll_and_stop():
    g = launch.ProcessGroup([child("import time; time.sleep(60)"), child("pass")])
    assert g.poll() is None  # one still runs
    g.stop(timeout=5)
    assert all(p.poll() is not None for p in g.procs)
    assert g.poll() not in (None, 0)  # terminated by a signal: a non-zero status
