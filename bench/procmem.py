"""Peak resident memory (RSS) of a process *tree*, sampled from /proc.

Why the tree: ``tidb2mysql incremental -p 2`` is a launcher plus Bytewax processes, and the
memory that matters is all of them together. Sampling (default every 100 ms) can miss a
spike shorter than the interval; the numbers are "peak of the samples".
"""

from __future__ import annotations

import os
import threading

_PAGE = os.sysconf("SC_PAGE_SIZE")


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


class PeakRSS:
    """Samples ``tree_rss(pid)`` in a thread until :meth:`stop`; ``peak`` in bytes."""

    def __init__(self, pid: int, interval: float = 0.1):
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

    def stop(self) -> int:
        self._stop.set()
        self._t.join()
        return self.peak

    @property
    def peak_mib(self) -> float:
        return round(self.peak / 1048576, 1)
