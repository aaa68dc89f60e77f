"""bench/threads.py: reading /proc stat lines, listing threads, naming layouts."""

import argparse

import pytest

from bench.threads import _HZ, by_thread, layout, stat_cpu


def test_a_stat_line_whose_name_holds_spaces_and_parentheses():
    line = (b"4242 (rdk:broker) (1)) S 1 2 3 4 5 6 7 8 9 10 " + str(3 * _HZ).encode() + b" "
            + str(_HZ // 2).encode() + b" 0 0 20 0 1 0")
    assert stat_cpu(line) == ("rdk:broker) (1)", 3.5)


def test_threads_are_listed_apart_largest_first_main_threads_marked_small_ones_dropped():
    threads = {(1, 1): ("python", 0.5), (1, 11): ("timely:work-0", 1.5), (1, 12): ("timely:work-0", 0.25),
               (2, 20): ("timely:work-0", 1.0), (2, 21): ("rdk:main", 0.01)}
    assert by_thread(threads) == [(1, "timely:work-0 11", 1.5), (2, "timely:work-0 20", 1.0), (1, "python (main)", 0.5),
                                  (1, "timely:work-0 12", 0.25)]


@pytest.mark.parametrize("name, expected", [("w1", (1, 1)), ("w2", (2, 1)), ("p2", (1, 2)), ("p4", (1, 4))])
def test_layout_names(name, expected):
    assert layout(name) == expected


@pytest.mark.parametrize("bad", ["", "w", "x2", "p0", "w-1", "p2x"])
def test_a_bad_layout_name_is_refused_with_its_text(bad):
    with pytest.raises(argparse.ArgumentTypeError, match="expected wN"):
        layout(bad)
