"""Failpoints: spec parsing, once-markers, and the actions that do not end the process."""

from __future__ import annotations

import socket

import pytest

from tidb2mysql import failpoints


@pytest.fixture(autouse=True)
def disarm():
    yield
    failpoints.configure("")


def test_unset_means_disabled_and_hit_is_a_no_op():
    failpoints.configure("")
    assert failpoints.ENABLED is False
    failpoints.hit("barrier.after_ack", 1)  # nothing armed: returns


@pytest.mark.parametrize("spec,error", [
    ("barrier.nowhere=kill", "unknown failpoint 'barrier.nowhere'"),
    ("barrier.after_ack", "unknown failpoint"),
    ("barrier.after_ack=explode", "bad action 'explode'"),
    ("barrier.after_ack=sleep", "bad action 'sleep'"),
])
def test_bad_specs_name_the_problem(spec, error):
    with pytest.raises(ValueError, match=error):
        failpoints.configure(spec)


def test_raise_fires_every_time_without_a_once_dir():
    failpoints.configure("apply.before_commit=raise, barrier.after_ack=sleep:0")
    assert failpoints.ENABLED
    for _ in range(2):
        with pytest.raises(failpoints.FailpointError, match="apply.before_commit"):
            failpoints.hit("apply.before_commit", 5)
    failpoints.hit("barrier.after_ack", 5)  # sleeps 0 s
    failpoints.hit("barrier.after_intent", 5)  # not armed


def test_once_dir_fires_once_per_key_across_calls(tmp_path):
    failpoints.configure("barrier.after_record=raise", str(tmp_path))
    with pytest.raises(failpoints.FailpointError):
        failpoints.hit("barrier.after_record", 7)
    failpoints.hit("barrier.after_record", 7)  # marker exists: passes
    with pytest.raises(failpoints.FailpointError):
        failpoints.hit("barrier.after_record", 8)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["barrier.after_record@7", "barrier.after_record@8"]


def test_drop_shuts_the_connection_socket_down():
    a, b = socket.socketpair()

    class Conn:
        _sock = a

    failpoints.configure("barrier.after_execute=drop")
    failpoints.hit("barrier.after_execute", 1, Conn())
    assert b.recv(1) == b""  # the peer sees the connection closed
    a.close()
    b.close()


def test_every_point_is_documented():
    assert all(isinstance(v, str) and v for v in failpoints.POINTS.values())
    assert len(failpoints.POINTS) == 12


def test_commit_point_commits_then_reports_a_lost_connection(tmp_path):
    """Why: a lost reply to a COMMIT that took effect is the case that duplicates rows; the
    failpoint must produce exactly that (committed, client sees error 2013), once per key."""
    import pymysql

    a, b = socket.socketpair()
    done = []

    class Conn:
        _sock = a

        def commit(self):
            done.append(True)

    failpoints.configure("page.commit=drop", str(tmp_path))
    with pytest.raises(pymysql.err.OperationalError) as e:
        failpoints.commit(Conn(), "page.commit", 3)
    assert e.value.args[0] == 2013 and done == [True]
    assert b.recv(1) == b""
    failpoints.commit(Conn(), "page.commit", 3)  # once per key: a plain commit now
    assert done == [True, True]
    failpoints.commit(Conn(), "apply.commit", 3)  # not armed
    assert len(done) == 3
    a.close()
    b.close()
