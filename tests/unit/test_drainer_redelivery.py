"""RedeliveryFilter: Drainer redeliveries (commit_ts at or below the max seen) are dropped and counted."""

import pickle

from tidb2mysql.drainer.redelivery import RedeliveryFilter


def test_accepts_increasing_rejects_redelivered():
    f = RedeliveryFilter()
    assert [f.accept(ts) for ts in (10, 20, 20, 15, 30, 10, 31)] == [True, True, False, False, True, False, True]
    assert f.rejected == 3
    assert f.snapshot() == 31


def test_first_message_with_commit_ts_zero_is_accepted():
    assert RedeliveryFilter().accept(0) is True


def test_resume_value_skips_everything_already_applied():
    f = RedeliveryFilter(100)
    assert not f.accept(99) and not f.accept(100) and f.accept(101)
    assert f.rejected == 2


def test_snapshot_is_a_plain_int_that_resumes_identically():
    f = RedeliveryFilter()
    for ts in (5, 9, 7):
        f.accept(ts)
    snap = pickle.loads(pickle.dumps(f.snapshot()))
    assert type(snap) is int
    g = RedeliveryFilter(snap)
    assert [g.accept(ts) for ts in (9, 8, 10)] == [False, False, True]
