"""Catalog: MariaDB information_schema rows -> Drainer's column description (TiDB names).

The rows below were recorded from the stack's MariaDB 10.11 source for the simulator's
``all_types`` table (plus a generated column and an ENUM with awkward members), so the test
pins the mapping to what the server really reports.
"""

from __future__ import annotations

import pytest

from tidb2mysql.simulator.catalog import TableMeta, column_from_row

_KEYS = ("COLUMN_NAME", "DATA_TYPE", "COLUMN_TYPE", "IS_NULLABLE", "EXTRA", "CHARACTER_MAXIMUM_LENGTH",
         "NUMERIC_PRECISION", "NUMERIC_SCALE", "DATETIME_PRECISION")

RECORDED = [
    ('id', 'int', 'int(11)', 'NO', '', None, 10, 0, None),
    ('ti', 'tinyint', 'tinyint(4)', 'YES', '', None, 3, 0, None),
    ('tiu', 'tinyint', 'tinyint(3) unsigned', 'YES', '', None, 3, 0, None),
    ('miu', 'mediumint', 'mediumint(8) unsigned', 'YES', '', None, 8, 0, None),
    ('bi', 'bigint', 'bigint(20)', 'YES', '', None, 19, 0, None),
    ('biu', 'bigint', 'bigint(20) unsigned', 'YES', '', None, 20, 0, None),
    ('f', 'float', 'float', 'YES', '', None, 12, None, None),
    ('d', 'double', 'double', 'YES', '', None, 22, None, None),
    ('dec65', 'decimal', 'decimal(65,30)', 'YES', '', None, 65, 30, None),
    ('dec12', 'decimal', 'decimal(12,2)', 'YES', '', None, 12, 2, None),
    ('b1', 'bit', 'bit(1)', 'YES', '', None, 1, None, None),
    ('b64', 'bit', 'bit(64)', 'YES', '', None, 64, None, None),
    ('dt', 'date', 'date', 'YES', '', None, None, None, None),
    ('dt0', 'datetime', 'datetime', 'YES', '', None, None, None, 0),
    ('dt3', 'datetime', 'datetime(3)', 'YES', '', None, None, None, 3),
    ('ts6', 'timestamp', 'timestamp(6)', 'YES', '', None, None, None, 6),
    ('tm0', 'time', 'time', 'YES', '', None, None, None, 0),
    ('tm6', 'time', 'time(6)', 'YES', '', None, None, None, 6),
    ('y', 'year', 'year(4)', 'YES', '', None, None, None, None),
    ('ch', 'char', 'char(10)', 'YES', '', 10, None, None, None),
    ('vc', 'varchar', 'varchar(100)', 'YES', '', 100, None, None, None),
    ('tx', 'text', 'text', 'YES', '', 65535, None, None, None),
    ('bn', 'binary', 'binary(8)', 'YES', '', 8, None, None, None),
    ('vb', 'varbinary', 'varbinary(64)', 'YES', '', 64, None, None, None),
    ('bl', 'blob', 'blob', 'YES', '', 65535, None, None, None),
    ('lb', 'longblob', 'longblob', 'YES', '', 4294967295, None, None, None),
    ('e', 'enum', "enum('a','b','c')", 'YES', '', 1, None, None, None),
    ('s', 'set', "set('x','y','z')", 'YES', '', 5, None, None, None),
    ('j', 'longtext', 'longtext', 'YES', '', 4294967295, None, None, None),
    ('lt', 'longtext', 'longtext', 'YES', '', 4294967295, None, None, None),
    ('g', 'int', 'int(11)', 'YES', 'VIRTUAL GENERATED', None, 10, 0, None),
    ('q', 'enum', "enum('it''s','b,c')", 'YES', '', 4, None, None, None),
]
JSON_COLUMNS = {"j"}  # from information_schema.CHECK_CONSTRAINTS: json_valid(`j`)

# name -> (Drainer type name, unsigned, flen, decimal)
EXPECTED = {
    "id": ("int", False, 11, 0),
    "ti": ("tinyint", False, 4, 0),
    "tiu": ("tinyint", True, 3, 0),
    "miu": ("mediumint", True, 8, 0),
    "bi": ("bigint", False, 20, 0),
    "biu": ("bigint", True, 20, 0),
    "f": ("float", False, -1, -1),
    "d": ("double", False, -1, -1),
    "dec65": ("decimal", False, 65, 30),
    "dec12": ("decimal", False, 12, 2),
    "b1": ("bit", False, 1, 0),
    "b64": ("bit", False, 64, 0),
    "dt": ("date", False, -1, -1),
    "dt0": ("datetime", False, 19, 0),
    "dt3": ("datetime", False, 23, 3),
    "ts6": ("timestamp", False, 26, 6),
    "tm0": ("time", False, 10, 0),
    "tm6": ("time", False, 17, 6),
    "y": ("year", False, 4, 0),
    "ch": ("char", False, 10, -1),
    "vc": ("varchar", False, 100, -1),
    "tx": ("text", False, -1, -1),
    "bn": ("binary", False, 8, -1),
    "vb": ("varbinary", False, 64, -1),
    "bl": ("blob", False, -1, -1),
    "lb": ("longblob", False, -1, -1),
    "e": ("enum", False, -1, -1),
    "s": ("set", False, -1, -1),
    "j": ("json", False, -1, -1),
    "lt": ("longtext", False, -1, -1),
    "g": ("int", False, 11, 0),
    "q": ("enum", False, -1, -1),
}


def _columns():
    return [column_from_row(dict(zip(_KEYS, r)), JSON_COLUMNS) for r in RECORDED]


@pytest.mark.parametrize("row", RECORDED, ids=[r[0] for r in RECORDED])
def test_type_name_unsigned_flen_decimal(row):
    c = column_from_row(dict(zip(_KEYS, row)), JSON_COLUMNS)
    assert (c.mysql_type, c.unsigned, c.flen, c.decimal) == EXPECTED[c.name]


def test_json_only_where_the_json_valid_check_names_the_column():
    cols = {c.name: c for c in _columns()}
    assert cols["j"].mysql_type == "json"
    assert cols["lt"].mysql_type == "longtext"  # same DATA_TYPE, no check -> stays longtext


def test_enum_and_set_members_keep_order_and_unescape_quotes():
    cols = {c.name: c for c in _columns()}
    assert cols["e"].members == ("a", "b", "c")
    assert cols["s"].members == ("x", "y", "z")
    assert cols["q"].members == ("it's", "b,c")


def test_generated_and_nullability():
    cols = {c.name: c for c in _columns()}
    assert cols["g"].generated and not cols["id"].generated
    assert cols["id"].nullable is False and cols["ti"].nullable is True


def test_table_schema_indexes_pk_unsigned_and_primary_first():
    cols = _columns()
    idx = {c.name: i for i, c in enumerate(cols)}
    meta = TableMeta("db1", "all_types", cols, pk=(idx["id"],),
                     unique_keys=(("PRIMARY", (idx["id"],)), ("uk_vc", (idx["vc"],))))
    s = meta.schema
    assert (s.schema, s.table) == ("db1", "all_types")
    assert s.columns == tuple(r[0] for r in RECORDED)
    assert s.types[idx["j"]] == "json" and s.types[idx["bn"]] == "binary"
    assert s.unsigned == (idx["tiu"], idx["miu"], idx["biu"])
    assert s.pk == (0,)
    assert s.unique_keys[0][0] == "PRIMARY"
    assert s.flen[idx["dec65"]] == 65 and s.decimal[idx["dec65"]] == 30
    assert [c.name for c in meta.writable] == [c.name for c in cols if c.name != "g"]
