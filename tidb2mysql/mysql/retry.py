"""Retrying transient database failures (lost connection, restart, deadlock) with backoff.

One helper for every connection of the flows: a MySQL restart or network cut must cost time,
never data. Non-transient errors (see :mod:`tidb2mysql.mysql.errors`) are raised at
once for the caller to handle (dead letter, stop).
"""

from __future__ import annotations

import logging
import time
from typing import Any, Callable, Optional, TypeVar

from tidb2mysql.mysql.errors import is_transient

log = logging.getLogger(__name__)
T = TypeVar("T")

MAX_BACKOFF = 5.0


def root_cause(e: BaseException) -> BaseException:
    cause = getattr(e, "__cause__", None)
    return cause if cause is not None else e


def retry_transient(fn: Callable[[], T], what: str, *, on_retry: Callable[[], None] = lambda: None,
                    retry_seconds: float = 0.0, max_attempts: int = 0,
                    clock: Callable[[], float] = time.monotonic,
                    sleep: Callable[[float], None] = time.sleep) -> T:
    """``fn()``, retried with exponential backoff (0.1 s .. 5 s) while it fails transiently.

    ``on_retry`` runs before each new attempt (drop the broken connection). ``retry_seconds``
    bounds the total time and ``max_attempts`` the number of tries (0 = no bound: a target
    that is down stops progress, it does not lose data).
    """
    delay, started, attempt = 0.1, clock(), 0
    while True:
        try:
            return fn()
        except Exception as e:
            if not is_transient(root_cause(e)):
                raise
            attempt += 1
            if retry_seconds and clock() - started > retry_seconds:
                raise
            if max_attempts and attempt >= max_attempts:
                raise
            log.warning("%s failed (%s); retrying in %.1fs", what, e, delay)
            on_retry()
            sleep(delay)
            delay = min(delay * 2, MAX_BACKOFF)


class ReconnectingConnection:
    """A lazily opened connection; ``run(fn)`` reopens it and retries on transient errors."""

    def __init__(self, connect: Callable[[], Any], what: str, retry_seconds: float = 0.0):
        self._connect = connect
        self.what = what
        self.retry_seconds = retry_seconds
        self._conn: Optional[Any] = None

    def get(self) -> Any:
        if self._conn is None:
            self._conn = self._connect()
        return self._conn

    def reset(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            except Exception:  # noqa: BLE001 - closing a connection that is already broken
                pass
        self._conn = None

    def run(self, fn: Callable[[Any], T]) -> T:
        return retry_transient(lambda: fn(self.get()), self.what, on_retry=self.reset,
                               retry_seconds=self.retry_seconds)

    def close(self) -> None:
        self.reset()
