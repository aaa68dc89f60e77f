"""Drop Drainer redeliveries by commit_ts.

Drainer is at-least-once: after a restart it re-sends messages whose ``commit_ts`` is at
or below the last one it had already written. First deliveries have strictly increasing
``commit_ts`` (TiDB TSOs), so "keep the highest commit_ts seen, reject anything at or
below it" is exact. The state is one int so a Bytewax snapshot is trivial.
"""

from __future__ import annotations


class RedeliveryFilter:
    """Accepts each commit_ts once, in increasing order; counts what it rejects."""

    __slots__ = ("max_commit_ts", "rejected")

    def __init__(self, resume_commit_ts: int | None = None):
        # Everything at or below resume_commit_ts was already applied (e.g. the full
        # load's snapshot TSO, or the value from a Bytewax snapshot).
        self.max_commit_ts: int = resume_commit_ts if resume_commit_ts is not None else -1
        self.rejected: int = 0

    def accept(self, commit_ts: int) -> bool:
        if commit_ts <= self.max_commit_ts:
            self.rejected += 1
            return False
        self.max_commit_ts = commit_ts
        return True

    def snapshot(self) -> int:
        """The resume value for the constructor."""
        return self.max_commit_ts


__all__ = ["RedeliveryFilter"]
