"""[selection] config: parsing, validation errors, and the engine's decisions."""

from __future__ import annotations

import pytest

from tidb2mysql import config
from tidb2mysql.selection.engine import Selection, SelectionError
from tidb2mysql.config.selection import SelectionConfig, split_qualified


def sel(**kw) -> Selection:
    return Selection(SelectionConfig(**kw))


def test_split_qualified_backquotes_are_literal():
    assert split_qualified("shop.t*") == [("shop", False), ("t*", False)]
    assert split_qualified("`a.b`.`x``y`") == [("a.b", True), ("x`y", True)]
    with pytest.raises(ValueError, match="unterminated"):
        split_qualified("`abc")


def test_config_section_parses_and_validates():
    cfg = config.parse({"selection": {"include": ["shop.*"], "databases": {"shop": "prod"},
                                      "tables": [{"name": "shop.u", "to": "users", "columns": ["id", "n"]}]}})
    s = Selection.from_config(cfg)
    assert s.table_selected("shop", "anything") and not s.table_selected("crm", "t")
    assert s.map_table("shop", "u") == ("prod", "users")
    with pytest.raises(config.ConfigError, match=r"\[selection\] tables\[0\]: rename_columns names x"):
        config.parse({"selection": {"tables": [{"name": "a.b", "columns": ["id"], "rename_columns": {"x": "y"}}]}})
    with pytest.raises(config.ConfigError, match="unknown key"):
        config.parse({"selection": {"tables": [{"name": "a.b", "colums": ["id"]}]}})
    with pytest.raises(config.ConfigError, match="must be database.table"):
        config.parse({"selection": {"tables": [{"name": "ab"}]}})
    with pytest.raises(config.ConfigError, match="mapped twice"):
        config.parse({"selection": {"tables": [{"name": "a.b"}, {"name": "A.B"}]}})
    with pytest.raises(config.ConfigError, match="same name"):
        config.parse({"selection": {"tables": [{"name": "a.b", "rename_columns": {"x": "z", "y": "z"}}]}})


def test_no_rules_is_identity():
    s = sel()
    assert s.is_identity and s.table_selected("x", "y") and s.map_table("x", "y") == ("x", "y")
    assert s.column_plan("x", "y", ["a", "b"]).identity


def test_wildcards_exclude_wins_and_case_insensitive():
    s = sel(include=["shop.*", "crm.c?"], exclude=["shop.tmp_*"])
    assert s.table_selected("SHOP", "Orders")
    assert not s.table_selected("shop", "tmp_1")
    assert s.table_selected("crm", "c1") and not s.table_selected("crm", "c12")
    assert "exclude 'shop.tmp_*'" in s.exclusion("shop", "tmp_x")
    assert s.exclusion("other", "t") == "not matched by any selection include rule"
    assert s.database_selected("crm") and not s.database_selected("other")


def test_literal_names_do_not_wildcard():
    s = sel(exclude=["`shop`.`a*b`", {"database": "x?", "table": "t", "literal": True}])
    assert not s.table_selected("shop", "a*b")
    assert s.table_selected("shop", "aXb")
    assert not s.table_selected("x?", "t") and s.table_selected("xy", "t")


def test_whole_database_exclude():
    s = sel(exclude=["logs"])
    assert not s.database_selected("logs") and not s.table_selected("logs", "t")
    s2 = sel(exclude=["logs.t"])
    assert s2.database_selected("logs")


def test_columns_subset_and_renames():
    s = sel(tables=[{"name": "db.t", "columns": ["id", "Email"], "rename_columns": {"email": "mail"}}])
    cp = s.column_plan("db", "t", ["id", "secret", "email"])
    assert cp.keep == (0, 2) and cp.names == ("id", "mail") and not cp.identity
    assert s.map_column("db", "t", "secret") is None


def test_merge_is_an_error_unless_allowed():
    s = sel(databases={"a": "x", "b": "x"})
    s.check_target("a", "t")
    with pytest.raises(SelectionError, match="a.t and b.t are both mapped to x.t"):
        s.check_target("b", "t")
    s2 = sel(databases={"a": "x", "b": "x"}, allow_merge=True)
    s2.check_target("a", "t")
    assert s2.check_target("b", "t") == ("x", "t")


def test_unmatched_rules_are_reported():
    s = sel(include=["shop.*", "nope.*"], tables=[{"name": "shop.gone"}], databases={"zzz": "y"})
    warnings = s.check_source([("shop", "t")], ["shop"])
    assert any("'nope.*'" in w for w in warnings)
    assert any("shop.gone" in w for w in warnings)
    assert any("zzz" in w for w in warnings)
    assert not any("'shop.*'" in w for w in warnings)


def test_command_line_database_map_folds_in():
    s = Selection(SelectionConfig(), {"a": "b"})
    assert s.map_table("a", "t") == ("b", "t")
    with pytest.raises(SelectionError, match="renamed to"):
        Selection(SelectionConfig(databases={"a": "c"}), {"a": "b"})
