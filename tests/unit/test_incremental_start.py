"""Where `tidb2mysql incremental` started alone begins (pure): issue 20 item 6."""

import pytest

from tidb2mysql.commands.incremental import default_start
from tidb2mysql.fullload.jobstore import Job


def job(stage, ts):
    return Job("j", stage, "tidb", ts, 1, 1, "released", None, [])


def test_after_a_full_load_it_starts_after_the_recorded_snapshot():
    ts, note = default_start(None, 0, job("loaded", 449572927891341313))
    assert ts == 449572927891341313 and "recorded by the full load" in note
    assert default_start(None, 0, job("incremental", 7))[0] == 7


def test_explicit_and_configured_positions_win():
    assert default_start(5, 0, job("loaded", 7))[0] == 5
    ts, note = default_start(None, 9, job("loaded", 7))
    assert ts is None and "start_commit_ts 9" in note  # the config value reaches the flow as it is


def test_without_a_full_load_it_says_where_it_starts():
    ts, note = default_start(None, 0, None)
    assert ts is None and "earliest" in note


def test_an_unfinished_full_load_is_an_error():
    with pytest.raises(ValueError, match="has not finished"):
        default_start(None, 0, job("loading", 7))
