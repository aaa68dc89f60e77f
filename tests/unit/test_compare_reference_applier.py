"""Pure parts of the test-only reference applier (tests/support/reference_applier.py)."""

from __future__ import annotations

import datetime

import pytest

from tests.support.reference_applier import _param, strip_tidb_comments


def test_strip_tidb_comments():
    q = ("CREATE TABLE t (a bigint /*T![auto_rand] AUTO_RANDOM(3) */ PRIMARY KEY "
         "/*T![clustered_index] CLUSTERED */, b int /*T! x */) /*!90000 SHARD_ROW_ID_BITS=4 */ "
         "/*!40100 DEFAULT CHARSET=utf8mb4 */")
    out = strip_tidb_comments(q)
    assert "AUTO_RANDOM" not in out and "CLUSTERED" not in out and "SHARD_ROW_ID_BITS" not in out
    assert "/*T!" not in out and "x */" not in out
    assert "/*!40100 DEFAULT CHARSET=utf8mb4 */" in out  # portable versioned comments stay


@pytest.mark.parametrize("td, text", [
    (datetime.timedelta(seconds=-1), "-00:00:01.000000"),
    (datetime.timedelta(hours=-838, minutes=-59, seconds=-59), "-838:59:59.000000"),
    (datetime.timedelta(hours=25, microseconds=5), "25:00:00.000005"),
    (datetime.timedelta(0), "00:00:00.000000"),
])
def test_time_parameter_text(td, text):
    assert _param(td) == text


def test_other_parameters_pass_through():
    assert _param(5) == 5 and _param(None) is None and _param("0000-00-00") == "0000-00-00"
