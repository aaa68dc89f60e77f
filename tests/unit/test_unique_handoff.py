"""The pure parts of the unique-key handoff (replication/unique_handoff.py): the decision per
holder and the holder lookup's SQL. The server side is tests/integration/test_unique_handoff.py."""

from __future__ import annotations

import pytest

from tidb2mysql.events import TableSchema
from tidb2mysql.mysql.sql import TableSQL
from tidb2mysql.mysql.target_schema import TargetColumn, TargetTable
from tidb2mysql.replication.route import MAX_SEQ
from tidb2mysql.replication.unique_handoff import decide

END = (100, MAX_SEQ)


@pytest.mark.parametrize("holder_shard,cp,verdict", [
    (1, (99, MAX_SEQ), "steal"),  # the holder's shard has not applied everything up to the batch end
    (1, (100, 6), "steal"),  # inside the batch's last transaction: still behind
    (1, (100, -1), "steal"),  # at a DDL barrier of that commit_ts: behind its rows
    (1, END, "skip"),  # exactly at the end: the holder's image is the one at or after it
    (1, (250, 0), "skip"),
    (0, (10, 0), "foreign"),  # the flushing shard itself: the target differs from the source
    (0, (500, 0), "foreign"),
])
def test_a_holder_is_stolen_when_its_shard_is_behind_and_skipped_when_ahead(holder_shard, cp, verdict):
    assert decide(holder_shard, cp, 0, END) == verdict


SCHEMA = TableSchema("db", "u", ("id", "email", "a", "b"), ("bigint", "varchar", "int", "int"), pk=(0,),
                     unique_keys=(("PRIMARY", (0,)), ("uk_email", (1,)), ("uk_ab", (2, 3))))
TARGET = TargetTable("db", "u", tuple(TargetColumn(n, t) for n, t in
                                      (("id", "bigint"), ("email", "varchar"), ("a", "int"), ("b", "int"), ("x", "int"))),
                     ("id",), (("PRIMARY", ("id",)), ("uk_email", ("email",)), ("uk_ab", ("a", "b"))))


def test_the_holder_lookup_names_every_non_null_unique_value_and_locks():
    q = TableSQL(SCHEMA, TARGET)
    rows = [(1, "o'k", 5, None), (2, None, 6, 7), (3, "z", 6, 7)]
    sql = q.unique_holders(rows, [("email",), ("a", "b")])
    assert sql == ("SELECT * FROM `db`.`u` WHERE `email` IN ('o\\'k','z') OR (`a`,`b`) IN ((6,7)) FOR UPDATE")


def test_no_lookup_without_a_value_or_with_a_column_the_message_lacks():
    q = TableSQL(SCHEMA, TARGET)
    assert q.unique_holders([(1, None, None, 1)], [("email",), ("a", "b")]) is None  # NULLs never collide
    assert q.unique_holders([(1, "e", 1, 1)], [("email",), ("x",)]) is None  # x: only the target has it


def test_a_holder_is_restored_by_the_insert_of_its_target_image():
    q = TableSQL(SCHEMA, TARGET)
    assert (q.insert_target_row(["id", "email", "a", "b", "x"], (7, "e", None, 2, 0))
            == "INSERT INTO `db`.`u` (`id`,`email`,`a`,`b`,`x`) VALUES (7,'e',NULL,2,0)")
