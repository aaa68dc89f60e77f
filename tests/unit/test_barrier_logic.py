"""The barrier's pure pieces: USE detection, the fallback translator, outcome classification."""

from __future__ import annotations

import pytest

from tidb2mysql.events import DDL
from tidb2mysql.mysql import errors
from tidb2mysql.replication import barrier
from tidb2mysql.replication.ddl_outcome import _IDENT


@pytest.mark.parametrize("stmt,db", [
    ("USE `a``b`", "a`b"), ("use shop", "shop"), ("  USE `x`;", "x"),
    ("USE shop; DROP TABLE t", None), ("ALTER TABLE t ADD c INT", None), ("CREATE DATABASE d", None),
])
def test_use_target(stmt, db):
    assert barrier.use_target(stmt) == db


def test_passthrough_qualifies_with_use_except_database_level():
    tr = barrier.passthrough_translate(DDL(1, "shop", "t", "ALTER TABLE t ADD c INT /*T! SHARD_ROW_ID_BITS=4 */"))
    assert tr.statements == ["USE `shop`", "ALTER TABLE t ADD c INT"]
    assert tr.decisions and tr.decisions[0]["action"] == "changed"
    assert barrier.passthrough_translate(DDL(1, "shop", "", "CREATE DATABASE shop")).statements == ["CREATE DATABASE shop"]
    assert barrier.passthrough_translate(DDL(1, "shop", "", "/*T! SHARD_ROW_ID_BITS=4 */")).skipped


def test_translation_errors_are_error_level_decisions():
    tr = barrier.BarrierTranslation(["x"], [{"level": "warning", "reason": "w"}, {"level": "error", "reason": "e"}])
    assert tr.errors == [{"level": "error", "reason": "e"}]


def test_done_statuses_never_include_failed_or_running():
    assert barrier.FAILED not in barrier.DONE and barrier.RUNNING not in barrier.DONE
    assert {barrier.APPLIED, barrier.SKIPPED, barrier.QUARANTINED, barrier.MANUAL_APPLIED,
            barrier.MANUAL_SKIP} <= barrier.DONE
    assert all(len(s) <= 16 for s in barrier.DONE | {barrier.FAILED, barrier.RUNNING})  # VARCHAR(16)


def test_only_server_replies_prove_a_statement_did_not_run():
    # A lost connection (2013, 2006, 0) leaves the outcome unknown; the fingerprint decides.
    assert {1205, 1213} <= errors.NOT_APPLIED_ERRORS
    assert not {0, 2006, 2013, 4031, 1927} & errors.NOT_APPLIED_ERRORS


def test_identifier_scan_finds_quoted_and_bare_names():
    names = {m.group(1) or m.group(2) for m in _IDENT.finditer("RENAME TABLE `d b`.`t` TO other.t2")}
    assert {"d b", "t", "other", "t2", "RENAME", "TABLE", "TO"} == names
