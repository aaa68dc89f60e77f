"""TiDB-style TSO clock: ``physical_ms << 18 | logical``, strictly increasing."""

from __future__ import annotations

import time
from typing import Callable

from tidb2mysql.events import make_tso


class TsoClock:
    """Hands out strictly increasing TSOs, also across runs (``after``) and clock steps back."""

    def __init__(self, after: int = 0, now_ms: Callable[[], int] = lambda: int(time.time() * 1000)):
        self.now_ms = now_ms
        self.physical = after >> 18
        self.logical = after & ((1 << 18) - 1)

    def next(self) -> int:
        now = self.now_ms()
        if now > self.physical:
            self.physical, self.logical = now, 0
        else:  # same millisecond, or the wall clock went backwards: bump the logical part
            self.logical += 1
            if self.logical >= 1 << 18:
                self.physical, self.logical = self.physical + 1, 0
        return make_tso(self.physical, self.logical)
