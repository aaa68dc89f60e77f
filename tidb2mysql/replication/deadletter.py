"""The dead-letter table: where input that cannot be applied is parked, never dropped.

Rows go to ``<meta>.dead_letter`` with the payload, Kafka coordinates, commit_ts, the error
and the time. Kinds: ``decode`` (a message that cannot be decoded), ``apply`` (a row change
that keeps failing), ``ddl`` (a DDL that keeps failing). A unique key on the origin makes a
replayed failure land once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Optional

import orjson

log = logging.getLogger(__name__)


@dataclass
class DeadLetter:
    kind: str
    error: str
    payload: Optional[bytes] = None
    topic: str = ""
    partition: int = -1
    offset: int = -1
    commit_ts: int = 0
    seq: int = -1
    schema: str = ""
    table: str = ""


def insert_sql(meta: str) -> str:
    return (
        f"INSERT IGNORE INTO `{meta}`.`dead_letter` (job, kind, topic, kafka_partition, kafka_offset,"
        " commit_ts, seq, schema_name, table_name, payload, error) VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s)"
    )


def params(job: str, d: DeadLetter) -> tuple:
    return (
        job, d.kind, d.topic, d.partition, d.offset, d.commit_ts, d.seq, d.schema, d.table,
        d.payload, d.error[:60000],
    )


def write(conn, meta: str, job: str, letters: list[DeadLetter], commit: bool = True) -> None:
    """Insert dead letters (inside the caller's transaction when ``commit`` is False)."""
    if not letters:
        return
    with conn.cursor() as cur:
        cur.executemany(insert_sql(meta), [params(job, d) for d in letters])
    if commit:
        conn.commit()
    for d in letters:
        where = f"offset {d.offset}" if d.offset >= 0 else f"commit_ts {d.commit_ts}"
        log.error(
            "dead letter (%s) %s.%s at %s: %s", d.kind, d.schema or "-", d.table or "-", where, d.error
        )


def change_payload(change) -> bytes:
    """A readable JSON image of a routed row change, for the dead-letter table."""
    s = change.schema
    return orjson.dumps(
        {
            "schema": s.schema,
            "table": s.table,
            "columns": list(s.columns),
            "op": change.op.name,
            "commit_ts": change.commit_ts,
            "seq": change.seq,
            "new": list(change.new) if change.new is not None else None,
            "old": list(change.old) if change.old is not None else None,
        },
        default=_json_default,
    )


def _json_default(v):
    if isinstance(v, (bytes, bytearray)):
        return {"hex": bytes(v).hex()}
    return str(v)


def count(conn, meta: str, job: str) -> int:
    with conn.cursor() as cur:
        cur.execute(f"SELECT COUNT(*) FROM `{meta}`.`dead_letter` WHERE job=%s", (job,))
        return int(cur.fetchone()[0])
