"""Decode throughput for the typical OLTP table (rows/s), parse + convert to native tuples.

Table: BIGINT PK, INT, BIGINT, VARCHAR(64), VARCHAR(255), DECIMAL(12,2), DATETIME(6), DOUBLE,
TEXT (~100 bytes), TINYINT. Two message shapes: 100-row INSERT messages and 1-row UPDATE
messages (both images). Reference (perf-limits.md): ~110-120k rows/s for parse + tuples.

Run: .venv/bin/python bench/decode_micro.py [seconds-per-case]
"""

from __future__ import annotations

import sys
import time
from datetime import datetime
from decimal import Decimal

from tidb2mysql.drainer.decode import Decoder
from tidb2mysql.drainer.encode import encode_txn
from tidb2mysql.events import Op, KafkaPosition, RowChange, TableChanges, TableSchema, Txn

S = TableSchema(
    "bench", "oltp",
    ("id", "k", "c_big", "name", "title", "amount", "updated", "score", "body", "flag"),
    ("bigint", "int", "bigint", "varchar", "varchar", "decimal", "datetime", "double", "text", "tinyint"),
    (20, 11, 20, 64, 255, 12, 26, 22, 65535, 4),
    (0, 0, 0, 0, 0, 2, 6, -1, 0, 0),
    pk=(0,), unique_keys=(("PRIMARY", (0,)),),
)


def row(i: int) -> tuple:
    return (
        i, i * 7 % 100000, i * 1_000_003, f"name-{i}", f"some title for row number {i} " * 3,
        Decimal(f"{i % 100000}.{i % 100:02d}"), datetime(2024, 5, 6, 7, 8, 9, i % 1000000),
        i / 3.0, ("lorem ipsum dolor sit amet " * 4)[:100], i % 128,
    )


def bench(name: str, payloads: list[bytes], rows_per_msg: int, values_per_row: int, seconds: float) -> None:
    dec = Decoder("UTC")
    pos = KafkaPosition("bench", 0, 0)
    n = 0
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        for p in payloads:
            dec.decode(p, pos)
        n += len(payloads)
    dt = time.perf_counter() - t0
    rows = n * rows_per_msg
    print(
        f"{name:<28} {rows / dt:>10,.0f} rows/s  {n / dt:>9,.0f} msgs/s  "
        f"{dt / rows / values_per_row * 1e6:.2f} us/column-value ({values_per_row} values/row)"
    )


def main() -> None:
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 3.0
    inserts = [
        encode_txn(Txn(1 + m, [TableChanges(S, [RowChange(Op.INSERT, row(m * 100 + i), None) for i in range(100)])]), "UTC")
        for m in range(20)
    ]
    updates = [
        encode_txn(Txn(1 + m, [TableChanges(S, [RowChange(Op.UPDATE, row(m + 1), row(m))])]), "UTC")
        for m in range(200)
    ]
    print(f"insert message: {len(inserts[0])} bytes / 100 rows; update message: {len(updates[0])} bytes")
    bench("INSERT, 100 rows/message", inserts, 100, 10, seconds)
    # An update row carries two images (20 column values).
    bench("UPDATE, 1 row/message", updates, 1, 20, seconds)


if __name__ == "__main__":
    main()
