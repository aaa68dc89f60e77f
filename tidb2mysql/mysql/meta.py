"""tidb2mysql's own tables in the target's meta schema, all defined here, with a version.

They live in the meta schema (``[job] meta_schema``, default ``tidb2mysql``) of the *target*,
so progress survives the loss of Bytewax's recovery directory and every process, the
coordinating commands and ``status`` see the same state from anywhere. Each stage creates
only the tables of its own component, when it starts:

* ``replication`` (incremental flow, ``ddl`` command): ``checkpoint`` (shard positions, written
  in the same transaction as the rows, and each job's shard count and routing rule),
  ``ddl_history`` (the crash-safe DDL barrier), ``quarantine``, ``dead_letter``, ``unique_handoff``
  (rows owed after a unique value moved between shards, replication/unique_handoff.py);
* ``fencing`` (cut-over): ``job_control``;
* ``full_load``: ``full_load_job``, ``full_load_chunks``, ``full_load_lanes``, ``full_load_errors``,
  ``full_load_notes``;
* ``verify``: ``verify_run``, ``verify_chunk``.

Why a version row per component (table ``schema_version``): a meta schema written by an
older tidb2mysql must be brought forward before use (a column the code needs did not exist
then), and one written by a *newer* tidb2mysql must not be used by an older one (it would
misread state it does not know about). ``CREATE TABLE IF NOT EXISTS`` always gives the
current definition, so a forward migration only ever changes tables an older version
created: each migration is idempotent (it checks ``information_schema`` first) and the
version row records that it ran. Meta schemas from before the version table count as
version 0, so the first run of this version performs every migration check once.

To change a table: edit its ``CREATE TABLE`` below (new meta schemas), add a migration that
brings an existing table to the same shape, and bump the component's version.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from tidb2mysql.mysql.errors import error_code
from tidb2mysql.mysql.sql import quote_ident
from tidb2mysql.errors import ConfigurationError

REPLICATION = "replication"
FENCING = "fencing"
FULL_LOAD = "full_load"
VERIFY = "verify"

_INNODB_BIN = "ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin"
ER_DUP_FIELDNAME = 1060  # another process added the column first


class MetaVersionError(ConfigurationError, RuntimeError):
    """The meta schema was written by a newer tidb2mysql than this one."""


# ddl_history columns of the crash-safe barrier (tidb2mysql/replication/barrier.py). Declared once:
# part of CREATE TABLE, and added to a table created by an older version by a migration.
DDL_HISTORY_UPGRADE = {
    # statements completed so far (the intent row's progress)
    "step": "INT NOT NULL DEFAULT 0",
    # fingerprint of the target schema taken before statement `step` was first sent: decides,
    # after a crash or a lost connection, whether that statement took effect
    "step_fingerprint": "VARCHAR(64) NULL",
    "attempts": "INT NOT NULL DEFAULT 0",
    # a transient error keeps the DDL waiting (lock wait, lost connection): since when, and why
    "blocked_since": "TIMESTAMP(3) NULL",
    # an operator's decision (tidb2mysql ddl resolve), with its time and previous state
    "resolution": "TEXT NULL",
}


# checkpoint columns added after its first release (version 2): the job's routing rule
# (replication/route.py). A row from before it was routed by whole-key hashes, hence the default:
# an upgraded job keeps routing its rows where it always did; new jobs write their rule.
CHECKPOINT_UPGRADE = {
    "routing": "VARCHAR(32) NOT NULL DEFAULT 'hash'",
}


def _extra(columns: dict[str, str]) -> str:
    return "\n".join(f"  `{c}` {d}," for c, d in columns.items())


def _replication_tables(m: str) -> list[str]:
    return [
        f"""CREATE TABLE IF NOT EXISTS {m}.`checkpoint` (
  job VARCHAR(128) NOT NULL,
  shard INT NOT NULL,
  shard_count INT NOT NULL,
  commit_ts BIGINT NOT NULL,
  seq BIGINT NOT NULL,
  kafka_offset BIGINT NOT NULL DEFAULT -1,
  rows_applied BIGINT NOT NULL DEFAULT 0,
  updated_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
{_extra(CHECKPOINT_UPGRADE)}
  PRIMARY KEY (job, shard)
) {_INNODB_BIN}""",
        f"""CREATE TABLE IF NOT EXISTS {m}.`ddl_history` (
  job VARCHAR(128) NOT NULL,
  commit_ts BIGINT NOT NULL,
  schema_name VARCHAR(256) NOT NULL,
  table_name VARCHAR(256) NOT NULL,
  query LONGTEXT NOT NULL,
  statements LONGTEXT NOT NULL,
  decisions LONGTEXT NOT NULL,
  status VARCHAR(16) NOT NULL,
  error TEXT NULL,
  kafka_offset BIGINT NOT NULL DEFAULT -1,
  applied_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
{_extra(DDL_HISTORY_UPGRADE)}
  PRIMARY KEY (job, commit_ts)
) {_INNODB_BIN}""",
        f"""CREATE TABLE IF NOT EXISTS {m}.`quarantine` (
  job VARCHAR(128) NOT NULL,
  schema_name VARCHAR(256) NOT NULL,
  table_name VARCHAR(256) NOT NULL,
  commit_ts BIGINT NOT NULL,
  reason TEXT NOT NULL,
  created_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  PRIMARY KEY (job, schema_name, table_name)
) {_INNODB_BIN}""",
        f"""CREATE TABLE IF NOT EXISTS {m}.`dead_letter` (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  job VARCHAR(128) NOT NULL,
  kind VARCHAR(16) NOT NULL,
  topic VARCHAR(249) NOT NULL DEFAULT '',
  kafka_partition INT NOT NULL DEFAULT -1,
  kafka_offset BIGINT NOT NULL DEFAULT -1,
  commit_ts BIGINT NOT NULL DEFAULT 0,
  seq BIGINT NOT NULL DEFAULT -1,
  schema_name VARCHAR(256) NOT NULL DEFAULT '',
  table_name VARCHAR(256) NOT NULL DEFAULT '',
  payload LONGBLOB NULL,
  error TEXT NOT NULL,
  created_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  UNIQUE KEY uk_origin (job, kind, kafka_offset, commit_ts, seq)
) {_INNODB_BIN}""",
        # A row one shard removed or left out because a unique value moved between rows of
        # different shards, and which `shard` must write again by (until_ts, until_seq)
        # (replication/unique_handoff.py). Empty unless values move across shards.
        f"""CREATE TABLE IF NOT EXISTS {m}.`unique_handoff` (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  job VARCHAR(128) NOT NULL,
  shard INT NOT NULL,
  table_name VARCHAR(512) NOT NULL,
  key_text TEXT NOT NULL,
  until_ts BIGINT NOT NULL,
  until_seq BIGINT NOT NULL,
  restore_sql LONGTEXT NOT NULL,
  reason VARCHAR(16) NOT NULL,
  by_shard INT NOT NULL,
  created_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  KEY owed (job, shard)
) {_INNODB_BIN}""",
    ]


def _fencing_tables(m: str) -> list[str]:
    return [
        f"""CREATE TABLE IF NOT EXISTS {m}.`job_control` (
  job VARCHAR(128) NOT NULL PRIMARY KEY,
  state VARCHAR(32) NOT NULL,
  detail TEXT NULL,
  requested_at TIMESTAMP(3) NULL,
  stopped_at TIMESTAMP(3) NULL,
  finished_at TIMESTAMP(3) NULL,
  updated_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3)
) {_INNODB_BIN}""",
    ]


def _full_load_tables(m: str) -> list[str]:
    return [
        f"""CREATE TABLE IF NOT EXISTS {m}.full_load_job (
            job VARCHAR(128) NOT NULL PRIMARY KEY,
            stage VARCHAR(16) NOT NULL,
            snapshot_kind VARCHAR(16) NOT NULL,
            snapshot_ts BIGINT UNSIGNED NULL,
            lanes INT NOT NULL,
            run INT NOT NULL DEFAULT 0,
            lock_state VARCHAR(16) NOT NULL DEFAULT '',
            lock_ms DOUBLE NULL,
            plan LONGTEXT NOT NULL,
            created_at DATETIME(6) NOT NULL,
            loaded_at DATETIME(6) NULL
        ) DEFAULT CHARSET=utf8mb4""",
        f"""CREATE TABLE IF NOT EXISTS {m}.full_load_chunks (
            job VARCHAR(128) NOT NULL,
            chunk INT NOT NULL,
            tbl INT NOT NULL,
            lane INT NOT NULL,
            schema_name VARCHAR(64) NOT NULL,
            table_name VARCHAR(64) NOT NULL,
            lo LONGTEXT NULL,
            hi LONGTEXT NULL,
            est_rows BIGINT NOT NULL DEFAULT 0,
            rows_done BIGINT NOT NULL DEFAULT 0,
            after_key LONGTEXT NULL,
            done TINYINT NOT NULL DEFAULT 0,
            started_at DATETIME(6) NULL,
            finished_at DATETIME(6) NULL,
            PRIMARY KEY (job, chunk)
        ) DEFAULT CHARSET=utf8mb4""",
        f"""CREATE TABLE IF NOT EXISTS {m}.full_load_lanes (
            job VARCHAR(128) NOT NULL,
            lane INT NOT NULL,
            run INT NOT NULL,
            state VARCHAR(16) NOT NULL,
            PRIMARY KEY (job, lane)
        ) DEFAULT CHARSET=utf8mb4""",
        # why a run's flow stopped, one line each (fullload/failure.py); new tables need no migration
        f"""CREATE TABLE IF NOT EXISTS {m}.full_load_errors (
            id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
            job VARCHAR(128) NOT NULL,
            run INT NOT NULL,
            permanent TINYINT NOT NULL,
            message TEXT NOT NULL,
            at DATETIME(6) NOT NULL,
            KEY (job, run)
        ) DEFAULT CHARSET=utf8mb4""",
        # small named values of a job, e.g. TiDB's tidb_gc_life_time before the load raised it
        f"""CREATE TABLE IF NOT EXISTS {m}.full_load_notes (
            job VARCHAR(128) NOT NULL,
            name VARCHAR(64) NOT NULL,
            value TEXT NULL,
            PRIMARY KEY (job, name)
        ) DEFAULT CHARSET=utf8mb4""",
    ]


def _verify_tables(m: str) -> list[str]:
    return [
        f"""CREATE TABLE IF NOT EXISTS {m}.`verify_run` (
  job VARCHAR(128) NOT NULL,
  run_id BIGINT NOT NULL,
  state VARCHAR(16) NOT NULL,
  started_at DATETIME(3) NOT NULL,
  finished_at DATETIME(3) NULL,
  plan LONGTEXT NOT NULL,
  chunks INT NOT NULL DEFAULT 0,
  rows_source BIGINT NOT NULL DEFAULT 0,
  differences BIGINT NULL,
  unsettled BIGINT NULL,
  repaired BIGINT NULL,
  report LONGTEXT NULL,
  PRIMARY KEY (job, run_id)
) {_INNODB_BIN}""",
        f"""CREATE TABLE IF NOT EXISTS {m}.`verify_chunk` (
  job VARCHAR(128) NOT NULL,
  run_id BIGINT NOT NULL,
  chunk INT NOT NULL,
  rows_source BIGINT NOT NULL,
  rows_target BIGINT NOT NULL,
  snapshot_ts BIGINT NOT NULL,
  ranges INT NOT NULL,
  suspects LONGTEXT NOT NULL,
  finished_at DATETIME(3) NOT NULL,
  PRIMARY KEY (job, run_id, chunk)
) {_INNODB_BIN}""",
    ]


def _add_missing_columns(cur: Any, meta: str, table: str, columns: dict[str, str]) -> None:
    cur.execute("SELECT column_name FROM information_schema.columns WHERE table_schema=%s AND table_name=%s",
                (meta, table))
    have = {str(r[0]).lower() for r in cur.fetchall()}
    for col, decl in columns.items():
        if col in have:
            continue
        try:
            cur.execute(f"ALTER TABLE {quote_ident(meta)}.{quote_ident(table)} ADD COLUMN {quote_ident(col)} {decl}")
        except Exception as e:
            if error_code(e) != ER_DUP_FIELDNAME:  # a concurrent process was first: same result
                raise


def _ddl_history_barrier_columns(cur: Any, meta: str) -> None:
    """Version 1: the crash-safe barrier's columns on a ``ddl_history`` of an older release."""
    _add_missing_columns(cur, meta, "ddl_history", DDL_HISTORY_UPGRADE)


def _checkpoint_routing_column(cur: Any, meta: str) -> None:
    """Version 2: the routing rule on a ``checkpoint`` of an older release (its jobs: ``hash``)."""
    _add_missing_columns(cur, meta, "checkpoint", CHECKPOINT_UPGRADE)


Migration = Callable[[Any, str], None]  # (cursor, meta schema name)


@dataclass(frozen=True)
class Component:
    name: str
    tables: Callable[[str], list[str]]  # quoted meta schema -> CREATE TABLE IF NOT EXISTS statements
    # (version, migration) in ascending order; the component's version is the last one (0 if none)
    migrations: tuple[tuple[int, Migration], ...] = ()

    @property
    def version(self) -> int:
        return self.migrations[-1][0] if self.migrations else 0


COMPONENTS = {
    c.name: c for c in (
        Component(REPLICATION, _replication_tables, ((1, _ddl_history_barrier_columns),
                                                     (2, _checkpoint_routing_column))),
        Component(FENCING, _fencing_tables),
        Component(FULL_LOAD, _full_load_tables),
        Component(VERIFY, _verify_tables),
    )
}


def version_table(meta: str) -> str:
    return f"{quote_ident(meta)}.`schema_version`"


def create_statements(meta: str, component: str) -> list[str]:
    """The meta schema, the version table and the component's tables, as ``IF NOT EXISTS`` DDL."""
    m = quote_ident(meta)
    return [
        f"CREATE DATABASE IF NOT EXISTS {m}",
        f"""CREATE TABLE IF NOT EXISTS {m}.`schema_version` (
  component VARCHAR(32) NOT NULL PRIMARY KEY,
  version INT NOT NULL,
  updated_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3)
) {_INNODB_BIN}""",
        *COMPONENTS[component].tables(m),
    ]


def ensure_meta(conn: Any, meta: str, component: str) -> None:
    """Create the meta schema's tables of ``component`` and bring older ones forward; commits.

    Safe to run from many processes at once (every statement is idempotent, and the version
    row only moves forward). :class:`MetaVersionError` if a newer tidb2mysql wrote it.
    """
    comp = COMPONENTS[component]
    with conn.cursor() as cur:
        for stmt in create_statements(meta, component):
            cur.execute(stmt)
        cur.execute(f"SELECT version FROM {version_table(meta)} WHERE component=%s", (component,))
        row = cur.fetchone()
        have = int(row[0]) if row else 0
        if have > comp.version:
            raise MetaVersionError(
                f"meta schema {meta!r}: its {component} tables are at version {have}, written by a newer"
                f" tidb2mysql; this one knows version {comp.version}. Run the newer tidb2mysql, or another"
                " meta_schema.")
        for version, migrate in comp.migrations:
            if version > have:
                migrate(cur, meta)
        if have < comp.version or row is None:
            cur.execute(f"INSERT INTO {version_table(meta)} (component, version) VALUES (%s, %s)"
                        " ON DUPLICATE KEY UPDATE version = GREATEST(version, %s)",
                        (component, comp.version, comp.version))
    conn.commit()


def table_exists(conn: Any, meta: str, table: str) -> bool:
    """Whether ``meta``.``table`` exists, asked without creating anything: read-only callers
    (status, the job_control lookup, the incremental command looking for a full-load record
    before the flow has checked its credentials) must leave the target untouched."""
    with conn.cursor() as cur:
        cur.execute("SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA=%s AND TABLE_NAME=%s",
                    (meta, table))
        return cur.fetchone() is not None


__all__ = [
    "CHECKPOINT_UPGRADE",
    "COMPONENTS",
    "DDL_HISTORY_UPGRADE",
    "FENCING",
    "FULL_LOAD",
    "REPLICATION",
    "VERIFY",
    "Component",
    "MetaVersionError",
    "create_statements",
    "ensure_meta",
    "table_exists",
]
