"""Graceful stop on SIGTERM/SIGINT: a process-wide flag the Drainer source polls.

Why a flag and not an exception: a KeyboardInterrupt raised inside Bytewax aborts the
worker with batches still pending in the shards. Instead, the source sees the flag, sends
a forced watermark (EndOfInput) and drains exactly like ``--stop-at-end``: every shard
flushes and records its checkpoint, then the flow exits 0. A second signal means "now":
it restores the default behaviour (KeyboardInterrupt / terminate).
"""

from __future__ import annotations

import logging
import signal
import threading
import time

log = logging.getLogger("tidb2mysql.shutdown")

STOP = threading.Event()
_installed = False


# A repeat within this many seconds is the same request: a supervisor (systemd's default
# KillMode) signals the whole process group, and the launcher forwards the signal as well.
REPEAT_GRACE_SECONDS = 2.0
_first_at = 0.0


def _handler(signum, _frame) -> None:
    global _first_at
    name = signal.Signals(signum).name
    if STOP.is_set() and time.monotonic() - _first_at < REPEAT_GRACE_SECONDS:
        return
    if STOP.is_set():
        log.warning("%s again: stopping now without draining", name)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        raise KeyboardInterrupt(name)
    log.info("%s: stopping gracefully (flush pending batches, record checkpoints); send again to abort", name)
    _first_at = time.monotonic()
    STOP.set()


def install() -> bool:
    """Install the handlers (main thread only; returns False elsewhere)."""
    global _installed
    if _installed:
        return True
    if threading.current_thread() is not threading.main_thread():
        return False
    signal.signal(signal.SIGTERM, _handler)
    signal.signal(signal.SIGINT, _handler)
    _installed = True
    return True


def requested() -> bool:
    return STOP.is_set()
