"""Planning schema migration without a server: order, existing-object modes, renames, decisions."""

import pytest

from tidb2mysql.mysql.dialect import Dialect
from tidb2mysql.schema.apply import exit_status
from tidb2mysql.schema.model import Catalog, SourceObject
from tidb2mysql.schema.plan import (
    SchemaPlanError, TargetState, build_plan, database_map, order_views, parse_mapping,
)
from tidb2mysql.schema.render import as_dict, to_text

MARIADB = Dialect.parse("mariadb:10.11")


def view(name, body, db="d"):
    return SourceObject("view", db, name, f"CREATE ALGORITHM=UNDEFINED DEFINER=`root`@`%` SQL SECURITY DEFINER "
                                          f"VIEW `{name}` AS {body}")


def table(name, sql, db="d"):
    return SourceObject("table", db, name, sql)


def catalog(*objs, db="d"):
    c = Catalog(databases=[SourceObject("database", db, db, f"CREATE DATABASE `{db}` /*!40100 DEFAULT CHARACTER "
                                                            "SET utf8mb4 COLLATE utf8mb4_bin */")])
    for o in objs:
        (c.tables if o.kind == "table" else c.views).append(o)
    return c


def test_views_come_after_the_views_they_use():
    views = [view("a", "select `d`.`b`.`x` AS `x` from `d`.`b`"), view("b", "select `c`.`x` AS `x` from `c`"),
             view("c", "select 1 AS `x`"), view("e", "select 2 AS `y`")]
    assert [v.name for v in order_views(views)] == ["c", "e", "b", "a"]


def test_view_cycle_is_reported_and_all_views_kept():
    notes = []
    views = [view("a", "select `b`.`x` AS `b` from `b`"), view("b", "select `a`.`x` AS `a` from `a`")]
    assert [v.name for v in order_views(views, notes)] == ["a", "b"]
    assert notes and notes[0]["level"] == "warning" and "d.a, d.b" in notes[0]["source"]


def test_views_in_other_databases_are_ordered_too():
    views = [view("top", "select `x`.`base`.`a` AS `a` from `x`.`base`", db="y"), view("base", "select 1 AS `a`", db="x")]
    assert [(v.database, v.name) for v in order_views(views)] == [("x", "base"), ("y", "top")]


def test_plan_translates_and_keeps_decisions():
    plan = build_plan(catalog(table("t", "CREATE TABLE `t` (`a` bigint(20) NOT NULL /*T![auto_rand] AUTO_RANDOM(3) */,"
                                         " PRIMARY KEY (`a`) /*T![clustered_index] CLUSTERED */) ENGINE=InnoDB")),
                      TargetState(), MARIADB)
    db, t = plan.steps
    assert db.action == "create" and db.statements == ["CREATE DATABASE `d` DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"]
    assert t.action == "create" and "AUTO_RANDOM" not in t.statements[0] and "CLUSTERED" not in t.statements[0]
    assert any("AUTO_RANDOM" in d.reason for d in t.decisions)
    assert exit_status(plan) == 0


def test_plan_renames_database_and_qualifiers():
    plan = build_plan(catalog(view("v", "select `d`.`t`.`a` AS `a` from `d`.`t`")), TargetState(), MARIADB,
                      dbmap={"d": "n"})
    db, v = plan.steps
    assert db.statements == ["CREATE DATABASE `n` DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"]
    assert db.target_name == "n" and v.target_name == "n.v"
    assert "`n`.`t`" in v.statements[0] and "`d`" not in v.statements[0]
    assert any("2 database qualifier(s) renamed (d -> n)" in d.reason for d in v.decisions)


def test_tidb_only_objects_are_skipped_with_reason():
    seq = table("seq", "CREATE SEQUENCE `seq` start with 1 minvalue 1 maxvalue 9223372036854775806 increment by 1 "
                       "cache 1000 nocycle ENGINE=InnoDB")
    plan = build_plan(catalog(seq), TargetState(), MARIADB)
    step = plan.steps[1]
    assert step.action == "skip" and step.statements == [] and step.level == "warning"
    assert exit_status(plan) == 0


def test_untranslatable_text_is_an_error_level_skip():
    plan = build_plan(catalog(table("t", "CREATE TABLE `t` (`a` int")), TargetState(), MARIADB)
    assert plan.steps[1].action == "skip" and plan.steps[1].level == "error"
    assert exit_status(plan) == 1


@pytest.mark.parametrize("mode, action, level", [("fail", "fail", "error"), ("skip", "skip", "info"),
                                                 ("check", "check", "info")])
def test_existing_table_modes(mode, action, level):
    state = TargetState({"d"}, {("d", "t"): "BASE TABLE"})
    plan = build_plan(catalog(table("t", "CREATE TABLE `t` (`a` int)")), state, MARIADB, existing=mode)
    db, t = plan.steps
    assert db.action == "keep"
    assert (t.action, t.level) == (action, level)
    assert plan.blocked == (mode == "fail")
    if mode == "fail":
        assert "table d.t already exists on the target (--existing fail)" in t.decisions[-1].reason


def test_existing_object_of_the_other_kind_always_fails():
    state = TargetState({"d"}, {("d", "t"): "VIEW"})
    plan = build_plan(catalog(table("t", "CREATE TABLE `t` (`a` int)")), state, MARIADB, existing="skip")
    assert plan.steps[1].action == "fail" and "exists on the target as VIEW, not as BASE TABLE" in plan.steps[1].decisions[-1].reason


def test_existing_view_under_check_is_kept_with_a_warning():
    state = TargetState({"d"}, {("d", "v"): "VIEW"})
    plan = build_plan(catalog(view("v", "select 1 AS `a`")), state, MARIADB, existing="check")
    assert (plan.steps[1].action, plan.steps[1].level) == ("skip", "warning")


def test_dangling_foreign_key_is_warned():
    sql = "CREATE TABLE `c` (`p` int, CONSTRAINT `f` FOREIGN KEY (`p`) REFERENCES `parent` (`id`)) ENGINE=InnoDB"
    plan = build_plan(catalog(table("c", sql)), TargetState(), MARIADB)
    assert any("foreign key references d.parent" in d.reason for d in plan.steps[1].decisions)
    plan = build_plan(catalog(table("c", sql), table("parent", "CREATE TABLE `parent` (`id` int primary key)")),
                      TargetState(), MARIADB)
    assert not any("foreign key" in d.reason for d in plan.steps[1].decisions)


def test_database_map_rules():
    assert database_map(["a"], "x", {}) == {"a": "x"}
    assert database_map(["a", "b"], None, {"b": "y"}) == {"a": "a", "b": "y"}
    with pytest.raises(SchemaPlanError, match="renames one database, but 2 are selected"):
        database_map(["a", "b"], "x", {})
    with pytest.raises(SchemaPlanError, match="not selected: c"):
        database_map(["a"], None, {"c": "z"})
    assert parse_mapping("a=x, b = y") == {"a": "x", "b": "y"}
    with pytest.raises(SchemaPlanError, match="must be source=target"):
        parse_mapping("a")
    with pytest.raises(SchemaPlanError, match="existing must be one of"):
        build_plan(Catalog(), TargetState(), MARIADB, existing="overwrite")


def test_render_shows_every_decision_and_summary():
    plan = build_plan(catalog(view("v", "select 1 AS `a`")), TargetState(), MARIADB)
    for s in plan.steps:
        s.status = "dry-run"
    text = to_text(plan, True, "src")
    assert "dry run: nothing is changed" in text and "removed DEFINER=`root`@`%`" in text
    assert "| CREATE DATABASE `d`" in text
    doc = as_dict(plan, True, "src")
    assert doc["summary"]["views_create"] == 1 and doc["summary"]["errors"] == 0
    # issue 20: the view's security changes (it runs as the migration account): a WARNING with what to do
    assert doc["objects"][1]["decisions"][0]["level"] == "warning"
    assert "keep_definer" in doc["objects"][1]["decisions"][0]["reason"]
