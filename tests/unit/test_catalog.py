"""tidb2mysql.mysql.catalog.to_jsonable: canonical, deterministic plain data (no server needed)."""

from __future__ import annotations

import orjson
import pytest

from tidb2mysql.mysql.catalog import ColumnDescription, IndexDescription, TableDescription, to_jsonable


def table(name="t", columns=None, indexes=None):
    columns = columns or (
        ColumnDescription("id", 1, "int(11)", False, None, None, None, "auto_increment", None),
        ColumnDescription("s", 2, "varchar(10)", True, "'x'", "utf8mb4", "utf8mb4_bin", "", None),
    )
    indexes = indexes or (IndexDescription("PRIMARY", True, (("id", None),), "BTREE"),
                          IndexDescription("ks", False, (("s", 4),), "BTREE"))
    return TableDescription(name, "table", tuple(columns), tuple(indexes), "utf8mb4_bin", ("p0", "p1"), None)


def test_plain_data_with_sorted_keys():
    data = to_jsonable(table())
    assert list(data) == sorted(data)
    assert list(data["columns"][0]) == sorted(data["columns"][0])
    assert data["indexes"][1] == {"columns": [["s", 4]], "index_type": "BTREE", "name": "ks", "unique": False}
    assert data["partitions"] == ["p0", "p1"] and data["view_definition"] is None
    assert data["columns"][1]["default"] == "'x'"
    # and survives a JSON round trip unchanged (only JSON types in it)
    assert orjson.loads(orjson.dumps(data)) == data


def test_same_description_built_in_any_order_serializes_identically():
    a = {"b": table("b"), "a": table("a")}
    b = {"a": table("a"), "b": table("b")}
    assert orjson.dumps(to_jsonable(a)) == orjson.dumps(to_jsonable(b))
    assert list(to_jsonable(a)) == ["a", "b"]


def test_any_structural_difference_changes_the_serialization():
    base = orjson.dumps(to_jsonable(table()))
    other_index = table(indexes=(IndexDescription("PRIMARY", True, (("id", None),), "BTREE"),
                                 IndexDescription("ks", False, (("s", 5),), "BTREE")))
    other_column = table(columns=(
        ColumnDescription("id", 1, "bigint(20)", False, None, None, None, "auto_increment", None),
        ColumnDescription("s", 2, "varchar(10)", True, "'x'", "utf8mb4", "utf8mb4_bin", "", None)))
    assert orjson.dumps(to_jsonable(other_index)) != base
    assert orjson.dumps(to_jsonable(other_column)) != base


def test_unexpected_values_are_refused():
    with pytest.raises(TypeError):
        to_jsonable({"t": object()})
