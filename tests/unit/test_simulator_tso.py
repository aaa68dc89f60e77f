"""The simulator's TSO clock: commit_ts strictly increasing whatever the wall clock does."""

from __future__ import annotations

from tidb2mysql.events import make_tso, tso_physical_ms
from tidb2mysql.simulator.tso import TsoClock


def _clock(times: list[int], after: int = 0) -> tuple[TsoClock, list[int]]:
    it = iter(times)
    return TsoClock(after, now_ms=lambda: next(it)), times


def test_new_millisecond_starts_logical_at_zero():
    clock, _ = _clock([1000, 1001, 1005])
    assert [clock.next() for _ in range(3)] == [make_tso(1000, 0), make_tso(1001, 0), make_tso(1005, 0)]


def test_same_millisecond_bumps_the_logical_part():
    clock, _ = _clock([1000, 1000, 1000, 1001])
    assert [clock.next() for _ in range(4)] == [
        make_tso(1000, 0), make_tso(1000, 1), make_tso(1000, 2), make_tso(1001, 0)]


def test_clock_going_backwards_never_goes_back():
    clock, _ = _clock([5000, 4000, 3000, 5000, 5001])
    got = [clock.next() for _ in range(5)]
    assert got == [make_tso(5000, 0), make_tso(5000, 1), make_tso(5000, 2), make_tso(5000, 3), make_tso(5001, 0)]


def test_logical_overflow_carries_into_the_next_millisecond():
    clock, _ = _clock([7] * 3, after=make_tso(7, (1 << 18) - 2))
    got = [clock.next() for _ in range(3)]
    assert got == [make_tso(7, (1 << 18) - 1), make_tso(8, 0), make_tso(8, 1)]


def test_continues_after_a_previous_run_even_with_an_older_wall_clock():
    last = make_tso(2_000_000, 41)  # stored by an earlier run; the wall clock is now behind it
    clock, _ = _clock([1_000_000, 2_000_000, 2_000_001], after=last)
    got = [clock.next() for _ in range(3)]
    assert got == [make_tso(2_000_000, 42), make_tso(2_000_000, 43), make_tso(2_000_001, 0)]
    assert all(a < b for a, b in zip([last] + got, got))


def test_real_clock_is_strictly_increasing_and_near_now():
    import time

    clock = TsoClock()
    got = [clock.next() for _ in range(5000)]  # many land in the same millisecond
    assert all(a < b for a, b in zip(got, got[1:]))
    assert abs(tso_physical_ms(got[-1]) - time.time() * 1000) < 5000
