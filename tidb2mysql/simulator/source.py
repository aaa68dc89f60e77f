"""Where the simulator's commit_ts and DDL jobs come from: a real TiDB, or the MariaDB stand-in.

The Drainer messages the simulator publishes must carry what TiDB's binlog would: the commit
TSO of each transaction, and for each DDL job its query text and finished TSO. Two sources:

* :class:`TiDBSource` - a real TiDB (``make up-tidb``). A transaction's commit_ts is the one
  TiDB assigned, read with ``@@tidb_last_txn_info`` right after COMMIT. A DDL statement's
  jobs come from TiDB's own DDL history (the status port's ``/ddl/history``, the same jobs
  Drainer reads): one message per job, with the job's query text (what TiDB recorded, not
  what the simulator typed), its schema, the table as Drainer names it (the binlog table
  info's name: the new one for RENAME TABLE), and ``FinishedTS``. A statement making two
  jobs (``DROP TABLE a, b``) yields two messages, as Drainer sends them.
* :class:`MariaDBStandIn` - MariaDB playing TiDB: a TSO clock of our own
  (:class:`~tidb2mysql.simulator.tso.TsoClock`), and every transaction upserts its commit_ts
  into ``_tidb2mysql_sim.tso`` just before COMMIT, so a consistent snapshot of the source
  knows which commit_ts it holds (the full load's MariaDB hand-over). TiDB's
  ``/*!90000 ... */`` comments are removed before MariaDB runs a DDL text.

The simulator picks one by the source's ``VERSION()`` unless told (``source = "tidb"`` /
``"mariadb"``).
"""

from __future__ import annotations

import json
import re
import urllib.request
from dataclasses import dataclass
from typing import Optional

from tidb2mysql.simulator.tso import TsoClock

META_DB = "_tidb2mysql_sim"
SOURCE_KINDS = ("auto", "tidb", "mariadb")


@dataclass(frozen=True)
class DDLJob:
    """One DDL message's worth: what Drainer publishes for a finished DDL job."""

    commit_ts: int
    schema: str
    table: str
    query: str


def detect(conn) -> str:
    """``"tidb"`` when the server's VERSION() says TiDB, else ``"mariadb"``."""
    with conn.cursor() as cur:
        cur.execute("SELECT VERSION()")
        version = str(cur.fetchone()[0])
    return "tidb" if "tidb" in version.lower() else "mariadb"


def make_source(kind: str, conn, topic: str):
    if kind == "auto":
        kind = detect(conn)
    if kind == "tidb":
        return TiDBSource(conn)
    if kind == "mariadb":
        return MariaDBStandIn(conn, topic)
    raise ValueError(f"simulator source must be one of {', '.join(SOURCE_KINDS)}, not {kind!r}")


_TIDB_VERSIONED_COMMENT = re.compile(r"\s*/\*!9\d{4}\b.*?\*/", re.S)


def executable_text(query: str) -> str:
    """The MariaDB-valid form of a TiDB-flavoured DDL text.

    TiDB's binlog wraps SHARD_ROW_ID_BITS / PRE_SPLIT_REGIONS in ``/*!90000 ... */``; MariaDB
    10.11 (version 101100 > 90000) would *execute* such a comment, so the stand-in removes it
    before running the statement. ``/*T! ... */`` comments stay: every MySQL flavour ignores
    them. The published text keeps everything, as Drainer would.
    """
    return _TIDB_VERSIONED_COMMENT.sub("", query)


class MariaDBStandIn:
    kind = "mariadb"
    records_tso = True

    def __init__(self, conn, topic: str):
        self.conn = conn
        self.topic = topic
        self.clock = TsoClock(self._stored_tso())

    def _stored_tso(self) -> int:
        with self.conn.cursor() as cur:
            cur.execute(f"CREATE DATABASE IF NOT EXISTS `{META_DB}`")
            cur.execute(f"CREATE TABLE IF NOT EXISTS `{META_DB}`.tso"
                        " (topic VARCHAR(249) PRIMARY KEY, commit_ts BIGINT NOT NULL)")
            cur.execute(f"SELECT commit_ts FROM `{META_DB}`.tso WHERE topic=%s", (self.topic,))
            row = cur.fetchone()
        self.conn.commit()
        return int(row[0]) if row else 0

    def commit(self) -> int:
        """Commit the open transaction; its commit_ts (recorded inside it, in the TSO table)."""
        ts = self.clock.next()
        with self.conn.cursor() as cur:
            cur.execute(f"INSERT INTO `{META_DB}`.tso (topic, commit_ts) VALUES (%s, %s)"
                        " ON DUPLICATE KEY UPDATE commit_ts = VALUES(commit_ts)", (self.topic, ts))
        self.conn.commit()
        return ts

    def run_ddl(self, schema: str, table: str, query: str, tables: Optional[list[str]] = None) -> list[DDLJob]:
        """Run one DDL statement; the messages Drainer would publish for it. ``tables``: the
        tables of a multi-table statement (TiDB makes one job per table, each with the full
        text); default ``[table]``."""
        with self.conn.cursor() as cur:
            if schema and not query.lower().startswith(("create database", "drop database")):
                cur.execute(f"USE `{schema}`")
            cur.execute(executable_text(query))
        self.conn.commit()
        return [DDLJob(self.commit(), schema, t, query) for t in (tables or [table])]


def drainer_table_name(job: dict) -> str:
    """The table name Drainer puts on a DDL job's message: the name in the job's binlog table
    info - after the change, so RENAME TABLE carries the *new* name, while the job itself
    (``table_name``) keeps the old one; "" for database DDL."""
    info = (job.get("binlog") or {}).get("TableInfo") or {}
    return (info.get("name") or {}).get("O") or job.get("table_name") or ""


class TiDBSource:
    kind = "tidb"
    records_tso = False  # TiDB's full load reads at a TSO (tidb_snapshot): no TSO table needed

    def __init__(self, conn, status_url: Optional[str] = None):
        self.conn = conn
        self.status_url = status_url or self._status_url()
        self.last_job_id = self._last_job_id()

    def _status_url(self) -> str:
        """TiDB's HTTP status address, from TiDB itself (the server this connection reached)."""
        with self.conn.cursor() as cur:
            cur.execute("SELECT IP, STATUS_PORT FROM information_schema.TIDB_SERVERS_INFO")
            rows = cur.fetchall()
        self.conn.commit()
        if len(rows) != 1:
            raise RuntimeError(f"the simulator needs exactly one TiDB server to read DDL jobs from, found {len(rows)}")
        ip, port = rows[0]
        host = self.conn.host if ip in ("0.0.0.0", "", None) else ip
        return f"http://{host}:{int(port)}"

    def _history(self, limit: int = 256) -> list[dict]:
        with urllib.request.urlopen(f"{self.status_url}/ddl/history?limit={limit}", timeout=30) as r:
            return json.load(r) or []

    def _last_job_id(self) -> int:
        return max((j["id"] for j in self._history(limit=1)), default=0)

    def commit(self) -> int:
        """Commit the open transaction; the commit_ts TiDB gave it."""
        self.conn.commit()
        with self.conn.cursor() as cur:
            cur.execute("SELECT @@tidb_last_txn_info")
            info = json.loads(cur.fetchone()[0] or "{}")
        self.conn.commit()
        ts = int(info.get("commit_ts") or 0)
        if ts <= 0:
            raise RuntimeError(f"TiDB reported no commit_ts for the transaction just committed: {info}")
        return ts

    def run_ddl(self, schema: str, table: str, query: str, tables: Optional[list[str]] = None) -> list[DDLJob]:
        """Run one DDL statement; its finished jobs from TiDB's DDL history, oldest first."""
        with self.conn.cursor() as cur:
            if schema and not query.lower().startswith(("create database", "drop database")):
                cur.execute(f"USE `{schema}`")
            cur.execute(query)
        self.conn.commit()
        mine = {schema.lower()} if schema else set()
        jobs = [j for j in self._history() if j["id"] > self.last_job_id]
        if jobs:
            self.last_job_id = max(j["id"] for j in jobs)
        # Other sessions' DDL on the same server (other tests) is not ours to publish.
        out = []
        for j in sorted(jobs, key=lambda j: j["id"]):
            if (j.get("schema_name") or "").lower() not in mine:
                continue
            if j.get("state") not in (6, "synced"):  # JobStateSynced: done and visible everywhere
                raise RuntimeError(f"TiDB DDL job {j['id']} ({query!r}) ended in state {j.get('state')}")
            out.append(DDLJob(int(j["binlog"]["FinishedTS"]), j.get("schema_name") or schema,
                              drainer_table_name(j), j["query"]))
        if not out:
            raise RuntimeError(f"TiDB recorded no DDL job for {query!r} in {schema!r}")
        return out
