"""Peak resident memory (RSS) of a process *tree*, and the whole machine's busy CPU, sampled
from /proc.

Why the tree: ``tidb2mysql incremental -p 2`` is a launcher plus Bytewax processes, and the
memory that matters is all of them together. Sampling (default every 100 ms) can miss a
spike shorter than the interval; the numbers are "peak of the samples".

Why the machine's CPU: on this 2-core machine the flow, the target server and Kafka share the
cores, so how many of them a run kept busy tells whether it was bound by the machine (near 2)
or by something else (one GIL, round trips); the scaling goal's bound follows from it
(docs/performance.md).
"""

from __future__ import annotations

import os
import threading
import time
from typing import Callable, Optional

_PAGE = os.sysconf("SC_PAGE_SIZE")
_HZ = os.sysconf("SC_CLK_TCK")


def _children() -> dict[int, list[int]]:
    kids: dict[int, list[int]] = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        # the command name may hold spaces or parentheses: ppid follows the last ')'
        ppid = int(stat[stat.rindex(b")") + 2:].split()[1])
        kids.setdefault(ppid, []).append(int(d))
    return kids


def tree_pids(root: int) -> list[int]:
    """``root`` and all its descendants now (a process that is gone is still listed once)."""
    kids = _children()
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(kids.get(pid, ()))
    return out


def tree_rss(root: int) -> int:
    """Bytes of RSS of ``root`` and all its descendants (0 if it is gone)."""
    total = 0
    for pid in tree_pids(root):
        try:
            with open(f"/proc/{pid}/statm", "rb") as f:
                total += int(f.read().split()[1]) * _PAGE
        except OSError:
            continue
    return total


def machine_busy() -> Optional[float]:
    """CPU seconds all cores of the machine were busy since boot (``/proc/stat``: all but idle
    and iowait)."""
    try:
        with open("/proc/stat", "rb") as f:
            st = f.readline()
    except OSError:
        return None
    v = [int(x) for x in st.split()[1:]]
    return (sum(v[:8]) - v[3] - v[4]) / _HZ


def _bracket(series: list, start: float, end: float) -> tuple:
    """The last sample at or before ``start`` (None: none yet) and the first at or after ``end``
    (the last sample when none is)."""
    before = [x for x in series if x[0] <= start]
    after = [x for x in series if x[0] >= end]
    return (before[-1] if before else None), (after[0] if after else series[-1])


def cores_busy(busy: list[tuple[float, float]], start: float, end: float) -> Optional[float]:
    """Average cores busy (the whole machine: flow, target, Kafka) between the samples that
    bracket the window."""
    if not busy:
        return None
    first, last = _bracket(busy, start, end)
    if first is None or last[0] <= first[0]:
        return None
    return (last[1] - first[1]) / (last[0] - first[0])


class PeakRSS:
    """Samples ``tree_rss(pid)`` in a thread until :meth:`stop`; ``peak`` in bytes. Also keeps
    ``(clock(), machine_busy())`` per sample in ``busy``, for :meth:`cores`."""

    def __init__(self, pid: int, interval: float = 0.1, clock: Callable[[], float] = time.monotonic):
        self.clock = clock
        self.busy: list[tuple[float, float]] = []  # read only after stop() has joined the thread
        self.pid = pid
        self.interval = interval
        self.peak = 0
        self.samples = 0
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, name=f"rss-{pid}", daemon=True)
        self._t.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            self._run_once()
            self._stop.wait(self.interval)

    def _run_once(self) -> None:
        self.peak = max(self.peak, tree_rss(self.pid))
        self.samples += 1
        now, b = self.clock(), machine_busy()
        if b is not None:
            self.busy.append((now, b))

    def cores(self, start: float, end: float) -> Optional[float]:
        """Average cores the whole machine kept busy between ``start`` and ``end`` (``clock``
        times; after :meth:`stop`), rounded; None without samples around the window."""
        c = cores_busy(self.busy, start, end)
        return None if c is None else round(c, 2)

    def stop(self) -> int:
        self._stop.set()
        self._t.join()
        return self.peak

    @property
    def peak_mib(self) -> float:
        return round(self.peak / 1048576, 1)
