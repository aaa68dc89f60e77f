"""bench/threads.py: reading /proc stat lines, listing threads, naming layouts."""

import argparse

import pytest

from bench.procmem import cores_busy, machine_busy
from bench.threads import _HZ, by_thread, layout, stat_cpu, window


def test_a_stat_line_whose_name_holds_spaces_and_parentheses():
    line = (b"4242 (rdk:broker) (1)) S 1 2 3 4 5 6 7 8 9 10 " + str(3 * _HZ).encode() + b" "
            + str(_HZ // 2).encode() + b" 0 0 20 0 1 0")
    assert stat_cpu(line) == ("rdk:broker) (1)", 3.5)


def test_threads_are_listed_apart_largest_first_main_threads_marked_small_ones_dropped():
    threads = {(1, 1): ("python", 0.5), (1, 11): ("timely:work-0", 1.5), (1, 12): ("timely:work-0", 0.25),
               (2, 20): ("timely:work-0", 1.0), (2, 21): ("rdk:main", 0.01)}
    assert by_thread(threads) == [((1, 11), "timely:work-0 11", 1.5), ((2, 20), "timely:work-0 20", 1.0),
                                  ((1, 1), "python (main)", 0.5), ((1, 12), "timely:work-0 12", 0.25)]


def test_the_window_takes_each_thread_from_the_sample_before_it_opens_to_the_one_after_it_closes():
    snap = lambda **cpu: {(1, int(k[1:])): ("t", v) for k, v in cpu.items()}  # noqa: E731
    series = [(10.0, snap(t1=0.1)), (10.5, snap(t1=0.3)), (11.0, snap(t1=0.4, t2=0.2)), (11.5, snap(t1=0.9, t2=0.5)),
              (12.0, snap(t1=1.0, t2=0.6))]
    # opens at 10.7 (last sample before: 10.5), closes at 11.2 (first after: 11.5); thread 2 appeared inside
    assert window(series, 10.7, 11.2) == {(1, 1): ("t", 0.9 - 0.3), (1, 2): ("t", 0.5)}
    assert window(series, 12.5, 13.0) == {(1, 1): ("t", 0.0), (1, 2): ("t", 0.0)}  # nothing after: the last sample
    assert window([], 0, 1) == {}


@pytest.mark.parametrize("name, expected", [("w1", (1, 1)), ("w2", (2, 1)), ("p2", (1, 2)), ("p4", (1, 4))])
def test_layout_names(name, expected):
    assert layout(name) == expected


@pytest.mark.parametrize("bad", ["", "w", "x2", "p0", "w-1", "p2x"])
def test_a_bad_layout_name_is_refused_with_its_text(bad):
    with pytest.raises(argparse.ArgumentTypeError, match="expected wN"):
        layout(bad)


def test_cores_busy_is_the_busy_time_over_the_bracketing_samples():
    busy = [(10.0, 100.0), (10.5, 100.9), (11.0, 101.9), (11.5, 102.9)]
    assert cores_busy(busy, 10.6, 11.4) == pytest.approx((102.9 - 100.9) / 1.0)
    assert cores_busy(busy, 9.0, 11.4) is None  # no sample before the window opened
    assert cores_busy([], 0, 1) is None


def test_the_machine_has_been_busy_at_least_a_little():
    b = machine_busy()
    assert b is not None and b > 0
