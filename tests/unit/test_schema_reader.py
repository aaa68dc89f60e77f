"""The recorded SchemaSource and the selection rules (the live one is covered by the
integration tests against the MariaDB stand-in)."""

import json
from pathlib import Path

import pytest

from tidb2mysql.schema.compat import differences
from tidb2mysql.schema.reader import RecordedSource, SchemaReadError, Selection

FIXTURE = Path(__file__).resolve().parents[1] / "schema_fixtures" / "tidb_show"


def test_recorded_fixture_reads_real_tidb_text():
    cat = RecordedSource(FIXTURE).read(Selection())
    assert [d.name for d in cat.databases] == ["executor__show", "show_more"]
    assert cat.databases[0].create_sql == "CREATE DATABASE `executor__show`"     # no recorded entry: plain
    log = next(t for t in cat.tables if (t.database, t.name) == ("executor__show", "log"))
    assert "/*T![clustered_index] NONCLUSTERED */" in log.create_sql and log.create_sql.endswith("(MAXVALUE))")
    assert "pingcap/tidb tests/integrationtest/r/executor/show.result" in log.origin
    assert [v.name for v in cat.views] == ["v", "v1"]
    assert len(cat.tables) == 17


def test_recorded_selection():
    src = RecordedSource(FIXTURE)
    cat = src.read(Selection.parse("show_more", "executor__show.v1"))
    assert [d.name for d in cat.databases] == ["executor__show", "show_more"]
    assert [t.qualified for t in cat.tables] == ["show_more.t", "show_more.t1", "show_more.thash"]
    assert [v.qualified for v in cat.views] == ["executor__show.v1"]
    with pytest.raises(SchemaReadError, match="selected but not found on the source: nodb, show_more.nope"):
        src.read(Selection.parse("nodb", "show_more.nope"))


def test_bad_index_names_the_problem(tmp_path):
    with pytest.raises(SchemaReadError, match="cannot read .*index.json"):
        RecordedSource(tmp_path).read(Selection())
    (tmp_path / "index.json").write_text(json.dumps({"objects": [{"kind": "table", "database": "d", "file": "x"}]}))
    with pytest.raises(SchemaReadError, match=r"objects\[0\] needs kind"):
        RecordedSource(tmp_path).read(Selection())
    (tmp_path / "index.json").write_text(json.dumps({"objects": [{"kind": "table", "database": "d", "name": "t",
                                                                  "file": "missing.sql"}]}))
    with pytest.raises(SchemaReadError, match="cannot read the recorded SHOW CREATE output .*missing.sql"):
        RecordedSource(tmp_path).read(Selection())


def test_selection_rules():
    everything = Selection.parse(None, None, exclude=["tidb2mysql"])
    assert everything.wants_database("shop") and not everything.wants_database("mysql")
    assert not everything.wants_database("INFORMATION_SCHEMA") and not everything.wants_database("tidb2mysql")
    s = Selection.parse("a", "b.t")
    assert s.wants_database("a") and s.wants_database("b") and not s.wants_database("c")
    assert s.wants_object("a", "anything") and s.wants_object("b", "t") and not s.wants_object("b", "u")
    with pytest.raises(SchemaReadError, match="must be database.name"):
        Selection.parse(None, "justname")


def shape(columns=(), keys=None, partitions=()):
    base = {"COLUMN_TYPE": "int(11)", "IS_NULLABLE": "YES", "COLUMN_DEFAULT": "NULL", "EXTRA": "",
            "CHARACTER_SET_NAME": None, "COLLATION_NAME": None, "GENERATION_EXPRESSION": None}
    return {"columns": [(n, {**base, **kw}) for n, kw in columns], "keys": keys or {}, "partitions": list(partitions)}


def test_compat_differences():
    want = shape([("a", {}), ("b", {"IS_NULLABLE": "NO"})], {"PRIMARY": {"unique": True, "columns": ["a"]}},
                 [("HASH", "`a`", "p0"), ("HASH", "`a`", "p1")])
    assert differences(want, want) == []
    have = shape([("b", {}), ("a", {"COLUMN_TYPE": "bigint(20)"}), ("c", {})],
                 {"PRIMARY": {"unique": True, "columns": ["a", "b"]}, "k": {"unique": False, "columns": ["c"]}})
    assert differences(want, have) == [
        "column c is not in the source table",
        "column order differs: source a, b; target b, a",
        "column a: COLUMN_TYPE is 'bigint(20)' on the target, 'int(11)' from the source",
        "column b: IS_NULLABLE is 'YES' on the target, 'NO' from the source",
        "key PRIMARY: target has unique (a, b), source unique (a)",
        "key k is not in the source table",
        "partitioning differs: target not partitioned, source HASH (`a`) 2 partitions",
    ]


def _conn(answers):
    """Answers by exact SQL, by (SQL before WHERE, first argument), or by SQL prefix."""
    from tests.support.fake_db import FakeConn

    def answer(sql, args):
        key = sql if args is None else (sql.split(" WHERE")[0], args[0])
        return next((v for k, v in answers.items() if k == key or (isinstance(k, str) and sql.startswith(k))), [])

    return FakeConn(answer)


def test_empty_test_database_of_tidb_is_not_migrated_but_a_used_one_is():
    from tidb2mysql.schema.reader import LiveSource, Selection

    listing = "SELECT TABLE_NAME, TABLE_TYPE FROM information_schema.TABLES"
    answers = {"SHOW DATABASES": [("test",), ("shop",), ("mysql",)], (listing, "test"): [],
               (listing, "shop"): [("t", "BASE TABLE")], "SHOW CREATE DATABASE": [("x", "CREATE DATABASE `x`")],
               "SHOW CREATE TABLE": [("t", "CREATE TABLE `t` (`id` int)")]}
    cat = LiveSource(_conn(answers)).read(Selection())
    assert [d.database for d in cat.databases] == ["shop"]
    assert cat.skipped and cat.skipped[0][0] == "test" and "bootstrap" in cat.skipped[0][1]
    answers[(listing, "test")] = [("kept", "BASE TABLE")]
    assert [d.database for d in LiveSource(_conn(answers)).read(Selection()).databases] == ["test", "shop"]
