"""The graceful-stop flag: first signal drains, a repeat within the grace period is the same
request (group signal + launcher forward), a later repeat aborts."""

from __future__ import annotations

import signal

import pytest

from tidb2mysql.ops import shutdown


@pytest.fixture
def fresh(monkeypatch):
    shutdown.STOP.clear()
    saved = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)
    yield
    shutdown.STOP.clear()
    signal.signal(signal.SIGINT, saved[0])
    signal.signal(signal.SIGTERM, saved[1])


def test_first_signal_sets_the_flag_and_a_quick_repeat_is_ignored(fresh):
    assert not shutdown.requested()
    shutdown._handler(signal.SIGTERM, None)
    assert shutdown.requested()
    shutdown._handler(signal.SIGTERM, None)  # e.g. systemd signalled the group and the launcher forwarded
    assert shutdown.requested()


def test_a_later_repeat_aborts(fresh, monkeypatch):
    shutdown._handler(signal.SIGINT, None)
    monkeypatch.setattr(shutdown, "_first_at", shutdown._first_at - shutdown.REPEAT_GRACE_SECONDS - 1)
    with pytest.raises(KeyboardInterrupt):
        shutdown._handler(signal.SIGINT, None)
    assert signal.getsignal(signal.SIGTERM) == signal.SIG_DFL
