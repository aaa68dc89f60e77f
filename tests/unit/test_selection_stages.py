"""The selection in schema migration planning and full-load planning (no server)."""

from __future__ import annotations

import pytest

from tidb2mysql.mysql.dialect import Dialect
from tidb2mysql.fullload.chunking import LoadPlan as LoadPlan
from tidb2mysql.fullload.chunking import TablePlan
from tidb2mysql.schema.model import Catalog, SourceObject
from tidb2mysql.schema.plan import TargetState, build_plan
from tidb2mysql.selection.engine import Selection, SelectionError
from tidb2mysql.selection.fullload import map_plan, select_source_tables
from tidb2mysql.config.selection import SelectionConfig
from tidb2mysql.schema.selection import filter_catalog

MARIADB = Dialect.parse("mariadb:10.11")


def sel(**kw):
    return Selection(SelectionConfig(**kw))


def catalog():
    c = Catalog(databases=[SourceObject("database", "d", "d", "CREATE DATABASE `d`")])
    c.tables += [
        SourceObject("table", "d", "users", "CREATE TABLE `users` (\n  `id` int NOT NULL,\n  `secret` int,\n"
                     "  `email` varchar(9),\n  PRIMARY KEY (`id`),\n  KEY `k` (`secret`)\n)"),
        SourceObject("table", "d", "tmp_x", "CREATE TABLE `tmp_x` (`id` int PRIMARY KEY)"),
    ]
    c.views += [SourceObject("view", "d", "v", "CREATE VIEW `v` AS select `d`.`tmp_x`.`id` AS `id` from `d`.`tmp_x`"),
                SourceObject("view", "d", "w", "CREATE VIEW `w` AS select `d`.`users`.`id` AS `id` from `d`.`users`")]
    return c


S = dict(exclude=["d.tmp_*", "d.nothing"], databases={"d": "e"},
         tables=[{"name": "d.users", "to": "people", "columns": ["id", "email"], "rename_columns": {"email": "mail"}}])


def test_schema_plan_with_selection():
    s = sel(**S)
    cat, notes = filter_catalog(s, catalog())
    assert [o.name for o in cat.tables] == ["users"] and [o.name for o in cat.views] == ["v", "w"]
    assert any(n["source"] == "d.tmp_x" and "excluded" in n["reason"] for n in notes)
    assert any("'d.nothing' matches nothing" in n["reason"] for n in notes)
    plan = build_plan(cat, TargetState(), MARIADB, dbmap={"d": "e"}, selection=s)
    steps = {st.obj.name: st for st in plan.steps}
    assert steps["users"].target_name == "e.people"
    text = steps["users"].statements[0]
    assert "`people`" in text and "`mail`" in text and "secret" not in text and "KEY `k`" not in text
    assert any("not selected" in d.reason for d in steps["v"].decisions if d.level == "warning")
    assert "`e`.`people`" in steps["w"].statements[0]
    assert any("columns are selected/renamed" in d.reason for d in steps["w"].decisions)


def test_schema_plan_merge_is_an_error():
    c = catalog()
    c.tables.append(SourceObject("table", "d", "people", "CREATE TABLE `people` (`id` int PRIMARY KEY)"))
    with pytest.raises(SelectionError, match="both mapped to e.people"):
        filter_catalog(sel(**S), c)


def tp():
    return TablePlan("d", "users", ["id", "secret", "email"], ["int", "int", "varchar"], ["id"], "primary", 10)


def test_full_load_plan_narrowed_and_renamed():
    s = sel(**S)
    assert select_source_tables(s, [("d", "users"), ("d", "tmp_x")]) == [("d", "users")]
    plan = LoadPlan(tables=[tp()])
    map_plan(s, plan)
    t = plan.tables[0]
    assert t.columns == ["id", "email"] and t.types == ["int", "varchar"]
    assert t.target_names() == ("e", "people", ["id", "mail"])
    assert "`secret`" not in t.select_list()
    assert TablePlan.from_json(t.to_json()) == t


def test_full_load_key_must_stay_selected():
    s = sel(tables=[{"name": "d.users", "columns": ["email"]}])
    with pytest.raises(SelectionError, match="key column"):
        map_plan(s, LoadPlan(tables=[tp()]))


def test_full_load_identity_untouched():
    plan = LoadPlan(tables=[tp()])
    map_plan(Selection(), plan)
    assert plan.tables[0].target_names() == ("d", "users", ["id", "secret", "email"])
