"""``--existing check``: is an existing target table compatible with what we would create?

The translated CREATE TABLE is run in a scratch database on the *target* server and the
scratch table is compared with the existing one through ``information_schema``. Comparing
two tables made by the same server avoids a whole class of false differences (``int(11)``
vs ``int``, default charsets, how each server spells defaults) and needs nothing from the
source but its SHOW CREATE text, so it works for recorded schemas too. The scratch
database has a unique name and is always dropped; existing objects are never touched.

Compared: columns (name, position, COLUMN_TYPE, IS_NULLABLE, COLUMN_DEFAULT, EXTRA,
CHARACTER_SET_NAME, COLLATION_NAME,
GENERATION_EXPRESSION), keys (name, uniqueness, columns with prefix lengths),
partitioning (method, expression, partition names). Every difference is one line.
"""

from __future__ import annotations

import os
import uuid

from tidb2mysql.mysql.sql import quote_ident
COLUMN_FIELDS = ("COLUMN_TYPE", "IS_NULLABLE", "COLUMN_DEFAULT", "EXTRA", "CHARACTER_SET_NAME", "COLLATION_NAME",
                 "GENERATION_EXPRESSION")


def table_shape(conn, db: str, table: str) -> dict:
    """Columns, keys and partitions of one table, as plain comparable values."""
    with conn.cursor() as cur:
        cur.execute(f"SELECT COLUMN_NAME, {', '.join(COLUMN_FIELDS)} FROM information_schema.COLUMNS "
                    "WHERE TABLE_SCHEMA = %s AND TABLE_NAME = %s ORDER BY ORDINAL_POSITION", (db, table))
        columns = [(r[0], dict(zip(COLUMN_FIELDS, r[1:]))) for r in cur.fetchall()]
        cur.execute("SELECT INDEX_NAME, NON_UNIQUE, COLUMN_NAME, SUB_PART FROM information_schema.STATISTICS "
                    "WHERE TABLE_SCHEMA = %s AND TABLE_NAME = %s ORDER BY INDEX_NAME, SEQ_IN_INDEX", (db, table))
        keys: dict[str, dict] = {}
        for name, non_unique, col, sub in cur.fetchall():
            k = keys.setdefault(name, {"unique": not int(non_unique), "columns": []})
            k["columns"].append(f"{col}({sub})" if sub else str(col))
        cur.execute("SELECT PARTITION_METHOD, PARTITION_EXPRESSION, PARTITION_NAME FROM information_schema.PARTITIONS "
                    "WHERE TABLE_SCHEMA = %s AND TABLE_NAME = %s AND PARTITION_NAME IS NOT NULL "
                    "ORDER BY PARTITION_ORDINAL_POSITION", (db, table))
        parts = [tuple(r) for r in cur.fetchall()]
    return {"columns": columns, "keys": keys, "partitions": parts}


def differences(want: dict, have: dict) -> list[str]:
    """What ``have`` (the existing table) lacks or has differently from ``want`` (ours)."""
    out: list[str] = []
    wcols, hcols = dict(want["columns"]), dict(have["columns"])
    for name in wcols:
        if name not in hcols:
            out.append(f"column {name} is missing")
    for name in hcols:
        if name not in wcols:
            out.append(f"column {name} is not in the source table")
    worder = [n for n, _ in want["columns"] if n in hcols]
    horder = [n for n, _ in have["columns"] if n in wcols]
    if worder != horder:
        out.append(f"column order differs: source {', '.join(worder)}; target {', '.join(horder)}")
    for name, w in wcols.items():
        h = hcols.get(name)
        if h is None:
            continue
        for f in COLUMN_FIELDS:
            if w[f] != h[f]:
                out.append(f"column {name}: {f} is {h[f]!r} on the target, {w[f]!r} from the source")
    for name, k in want["keys"].items():
        hk = have["keys"].get(name)
        if hk is None:
            out.append(f"key {name} ({'unique ' if k['unique'] else ''}{', '.join(k['columns'])}) is missing")
        elif hk != k:
            out.append(f"key {name}: target has {'unique ' if hk['unique'] else ''}({', '.join(hk['columns'])}), "
                       f"source {'unique ' if k['unique'] else ''}({', '.join(k['columns'])})")
    for name in have["keys"]:
        if name not in want["keys"]:
            out.append(f"key {name} is not in the source table")
    if want["partitions"] != have["partitions"]:
        def show(p):
            return f"{p[0][0]} ({p[0][1]}) {len(p)} partitions" if p else "not partitioned"
        out.append(f"partitioning differs: target {show(have['partitions'])}, source {show(want['partitions'])}")
    return out


def compare_with_existing(conn, statements: list[str], db: str, table: str) -> list[str]:
    """Differences between ``db.table`` and what ``statements`` (our CREATE TABLE) would make."""
    scratch = f"_tidb2mysql_check_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    with conn.cursor() as cur:
        cur.execute(f"CREATE DATABASE {quote_ident(scratch)}")
        try:
            cur.execute(f"USE {quote_ident(scratch)}")
            for s in statements:
                cur.execute(s)
            want = table_shape(conn, scratch, table)
        finally:
            cur.execute(f"DROP DATABASE IF EXISTS {quote_ident(scratch)}")
    have = table_shape(conn, db, table)
    return differences(want, have)
