"""Why a flow stops is logged by the flow itself (replication/runtime.py report_stop): Bytewax
says only "Send thread panic" for an exception in a process of a -p 2 cluster."""

from __future__ import annotations

import logging

import pytest

from tidb2mysql.errors import InputDataError
from tidb2mysql.replication.runtime import report_stop, reported_start, reporting


class Reader:
    process = 3

    def __init__(self, exc):
        self.exc = exc

    @reporting(lambda self: f"process {self.process}: the reader stopped the flow")
    def next_batch(self):
        raise self.exc


def _errors(caplog):
    return [(r.getMessage(), r.exc_info is not None) for r in caplog.records if r.levelno == logging.ERROR]


def test_a_known_error_is_one_line_with_its_category(caplog):
    with pytest.raises(InputDataError):
        Reader(InputDataError("offset 7: cannot decode")).next_batch()
    assert _errors(caplog) == [("process 3: the reader stopped the flow: InputDataError (input data): offset 7: cannot decode",
                                False)]


def test_an_unexpected_error_comes_with_its_traceback_and_is_logged_once(caplog):
    e = KeyError("k")
    with pytest.raises(KeyError):
        Reader(e).next_batch()
    report_stop("an outer layer", e)  # the same exception reaching another guard
    assert _errors(caplog) == [("process 3: the reader stopped the flow: KeyError: 'k'", True)]


def test_the_end_of_a_source_is_not_an_error(caplog):
    with pytest.raises(StopIteration):
        Reader(StopIteration()).next_batch()
    assert _errors(caplog) == []


def test_a_reader_that_cannot_start(caplog):
    with pytest.raises(InputDataError), reported_start("process 1: the reader of 't' partition 0"):
        raise InputDataError("bad")
    assert _errors(caplog) == [("process 1: the reader of 't' partition 0 could not start: InputDataError (input data): bad",
                                False)]
