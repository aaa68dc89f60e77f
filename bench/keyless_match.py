"""``python -m bench.keyless_match [--rows N]``: cost of the byte-exact whole-row match.

Why: a key-less table's DELETE/UPDATE finds its row with a whole-row WHERE ... LIMIT 1
(``mysql/sql.py`` ``TableSQL._match``). Making it byte-exact adds, per text column, a
byte comparison next to the collation comparison. This measures, on the stack's target, one
DELETE (rolled back, so the table stays the same) of a row near the start, the middle and
the end of a large key-less table, for three WHERE forms:

* ``collation``: the old form, ``col <=> literal`` only (wrong under PAD SPACE / _ci);
* ``exact``: the shipped form, ``col = 'x' AND CAST(CONVERT(col USING utf8mb4) AS BINARY) = X'..'``;
* ``bytes only``: the byte test alone (no collation test that an index could serve);

with no index (a scan until the first match: the cost of a key-less table) and with a
non-unique index on the text column (what a user can add to make key-less tables fast).
Prints median milliseconds over ``--repeat`` runs.
"""

from __future__ import annotations

import argparse
import statistics
import time
import uuid

import pymysql

from tests.support.stack import load_config
from tidb2mysql.events import TableSchema
from tidb2mysql.mysql.sql import TableSQL, literal

COLS = ("a", "b", "c", "d")
TYPES = ("varchar", "int", "double", "datetime")


def _row(i: int) -> tuple:
    return (f"user-{i:09d}" + (" " if i % 3 == 0 else ""), i % 1000, i / 7.0, f"2024-01-01 00:00:{i % 60:02d}")


def _collation_only(q: TableSQL, row) -> str:
    where = " AND ".join(f"`{c}` <=> {literal(v)}" for c, v in zip(COLS, row))
    return f"DELETE FROM {q.ref} WHERE {where} LIMIT 1"


def _bytes_only(q: TableSQL, row) -> str:
    parts = []
    for c, v in zip(COLS, row):
        if isinstance(v, str) and c == "a":
            parts.append(f"CAST(CONVERT(`{c}` USING utf8mb4) AS BINARY) = X'{v.encode().hex()}'")
        else:
            parts.append(f"`{c}` <=> {literal(v)}")
    return f"DELETE FROM {q.ref} WHERE {' AND '.join(parts)} LIMIT 1"


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args(argv)
    cfg = load_config()
    conn = pymysql.connect(**cfg.target.pymysql_kwargs(), autocommit=False)
    dbn = f"bench_kl_{uuid.uuid4().hex[:6]}"
    cur = conn.cursor()
    try:
        cur.execute(f"CREATE DATABASE `{dbn}`")
        cur.execute(f"CREATE TABLE `{dbn}`.k (a VARCHAR(40) COLLATE utf8mb4_general_ci, b INT, c DOUBLE,"
                    " d DATETIME)")
        schema = TableSchema(dbn, "k", COLS, TYPES)
        q = TableSQL(schema)
        t0 = time.monotonic()
        step = 5000
        for lo in range(0, args.rows, step):
            cur.execute(q.insert([_row(i) for i in range(lo, min(args.rows, lo + step))])[0].sql)
            conn.commit()
        print(f"{args.rows} rows loaded in {time.monotonic() - t0:.1f}s (table {dbn}.k, no key)")
        forms = {"collation": _collation_only, "exact": lambda q, r: q.delete_one(r), "bytes only": _bytes_only}
        for index in (False, True):
            if index:
                cur.execute(f"ALTER TABLE `{dbn}`.k ADD INDEX ia (a)")
            print(f"\n{'with a non-unique index on a' if index else 'no index'}: median ms per DELETE ... LIMIT 1")
            print(f"{'row at':>8} | " + " | ".join(f"{f:>10}" for f in forms) + " | rows matched (exact)")
            for frac in (0.1, 0.5, 0.9):
                i = int(args.rows * frac)
                row = _row(i)
                times = {}
                matched = None
                for name, build in forms.items():
                    sql = build(q, row)
                    samples = []
                    for _ in range(args.repeat):
                        t = time.perf_counter()
                        n = cur.execute(sql)
                        samples.append((time.perf_counter() - t) * 1000)
                        conn.rollback()
                        if name == "exact":
                            matched = n
                    times[name] = statistics.median(samples)
                print(f"{frac:>7.0%} | " + " | ".join(f"{times[f]:>10.1f}" for f in forms) + f" | {matched}")
    finally:
        cur.execute(f"DROP DATABASE IF EXISTS `{dbn}`")
        conn.commit()
        conn.close()


if __name__ == "__main__":
    main()
