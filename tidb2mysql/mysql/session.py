"""Session set-up of target connections, and what the server tells us once per connection.

Every writing connection to the target runs in a session prepared here, because the literal
encoder (:mod:`tidb2mysql.mysql.sql`) and the apply path rely on it:

* :func:`prepare_session` (incremental apply, full load, verify repairs): utf8mb4, UTC,
  ``foreign_key_checks = 0``, :data:`SESSION_SQL_MODE`, READ COMMITTED (see
  :func:`isolation_for`), explicit transactions;
* :func:`prepare_load_session`: the same plus the bulk-load relaxations of the full load;
* :func:`prepare_schema_session` (the schema stage's DDL): the server's own ``sql_mode``
  without the zero-date checks, so DDL with TiDB's zero-date defaults is accepted.

:func:`server_facts` reads, in one round trip, what the server is (its :class:`Dialect`) and
how large a statement may be (``max_allowed_packet``), so callers decide both once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tidb2mysql.mysql.dialect import Dialect
from tidb2mysql.mysql.sql import DEFAULT_BUDGET

# STRICT_TRANS_TABLES: a value that does not fit (too long, out of range) is an error, never
# silently truncated - that would be silent data loss. NO_ZERO_DATE / NO_ZERO_IN_DATE are left
# out so the zero dates TiDB allows ('0000-00-00', '2020-00-00') are accepted back.
# NO_AUTO_VALUE_ON_ZERO: an explicit 0 in an AUTO_INCREMENT column stays 0 (as in the source)
# instead of drawing a new value. NO_BACKSLASH_ESCAPES and ANSI_QUOTES must be off: the
# literal encoder (sql.py) escapes with backslashes and quotes identifiers with backticks.
# ALLOW_INVALID_DATES: TiDB keeps dates like '2020-02-30' (written under its ALLOW_INVALID_DATES)
# and replicates them; without it MySQL refuses them (1292) and the row could not be applied.
# It only relaxes the day-of-month check of DATE/DATETIME (month 1-12, day 1-31 still hold).
# The full load's policy ([full_load] invalid_dates = "fail") takes it out: STRICT_SESSION_SQL_MODE.
SESSION_SQL_MODE = "STRICT_TRANS_TABLES,NO_AUTO_VALUE_ON_ZERO,NO_ENGINE_SUBSTITUTION,ALLOW_INVALID_DATES"
STRICT_SESSION_SQL_MODE = "STRICT_TRANS_TABLES,NO_AUTO_VALUE_ON_ZERO,NO_ENGINE_SUBSTITUTION"
PACKET_MARGIN = 1024  # bytes kept free below max_allowed_packet
MIN_BUDGET = 1024  # a statement budget is never smaller (a tiny max_allowed_packet is misconfiguration)


def prepare_session(conn: Any, sql_mode: str = SESSION_SQL_MODE) -> None:
    """Session settings every apply connection needs (see module notes and sql.py).

    utf8mb4; ``time_zone = '+00:00'`` (TIMESTAMP values are UTC after decoding);
    ``foreign_key_checks = 0`` (rows of different tables are applied per shard, not in
    upstream order); ``unique_checks`` stays on; ``sql_mode`` = :data:`SESSION_SQL_MODE`;
    the isolation level of :func:`isolation_for`; autocommit off (every flush is one
    explicit transaction).
    """
    if hasattr(conn, "set_character_set"):
        conn.set_character_set("utf8mb4")  # SET NAMES + the client's own encoding
    with conn.cursor() as cur:
        cur.execute("SET NAMES utf8mb4")
        cur.execute(
            "SET SESSION time_zone = '+00:00', SESSION foreign_key_checks = 0, "
            f"SESSION unique_checks = 1, SESSION sql_mode = '{sql_mode}'"
        )
        cur.execute("SELECT @@SESSION.binlog_format, @@GLOBAL.log_bin")
        level = isolation_for(*cur.fetchone())
        cur.execute(f"SET SESSION TRANSACTION ISOLATION LEVEL {level}")
    conn._t2m_isolation = level  # read by code that must know what a plain SELECT sees
    conn.autocommit(False)


def isolation_for(binlog_format: Any, log_bin: Any) -> str:
    """The isolation level of a writing session: READ COMMITTED wherever the server allows it.

    Why: the shards of one job write disjoint rows of the same tables at the same time, each
    in its own transaction. Under REPEATABLE READ (the server default) InnoDB takes gap locks:
    a DELETE of a row that is not there, or the duplicate check of an upsert, locks the gap
    around the key, and another shard's INSERT into that gap waits for the first shard's
    COMMIT. Measured on the stack (bench delay, mix workload, 8 shards, 30 s): 7-12 lock
    waits of up to 214 ms under REPEATABLE READ, none under READ COMMITTED. Nothing in an
    apply transaction reads what it then relies on (every write names its key), so the
    weaker read view changes no result; it also keeps a read in an open transaction from
    seeing an old snapshot.

    The exception: with the binary log on in STATEMENT format, InnoDB refuses writes under
    READ COMMITTED (error 1665), so such a server keeps REPEATABLE READ."""
    statement_binlog = str(binlog_format or "").upper() == "STATEMENT"
    binlog_on = str(log_bin).upper() in ("1", "ON")
    return "REPEATABLE READ" if statement_binlog and binlog_on else "READ COMMITTED"


def prepare_load_session(conn: Any, disable_binlog: bool = False, invalid_dates: str = "copy") -> None:
    """:func:`prepare_session` plus the full load's relaxations (see ``fullload/page_writer.py``):
    ``unique_checks = 0``, and ``sql_log_bin = 0`` when asked (needs SUPER / BINLOG ADMIN).
    ``invalid_dates``: ``copy`` keeps ALLOW_INVALID_DATES (dates like '2020-02-30' that TiDB
    stores load as they are), ``fail`` stops the load at the first one."""
    prepare_session(conn, SESSION_SQL_MODE if invalid_dates == "copy" else STRICT_SESSION_SQL_MODE)
    with conn.cursor() as cur:
        cur.execute("SET SESSION unique_checks = 0")
        if disable_binlog:
            cur.execute("SET SESSION sql_log_bin = 0")


def prepare_schema_session(conn: Any) -> None:
    """The schema stage's DDL session: no foreign key checks (tables are created in any order),
    and the server's ``sql_mode`` without ``NO_ZERO_DATE`` / ``NO_ZERO_IN_DATE``."""
    with conn.cursor() as cur:
        cur.execute("SET SESSION foreign_key_checks = 0")
        cur.execute("SELECT @@SESSION.sql_mode")
        modes = [m for m in str(cur.fetchone()[0]).split(",") if m and m not in ("NO_ZERO_DATE", "NO_ZERO_IN_DATE")]
        cur.execute("SET SESSION sql_mode = %s", (",".join(modes),))


def statement_budget(max_allowed_packet: int, ceiling: int = DEFAULT_BUDGET) -> int:
    """Bytes one statement may have: under ``max_allowed_packet`` (minus a margin), at most ``ceiling``."""
    return max(MIN_BUDGET, min(ceiling, int(max_allowed_packet) - PACKET_MARGIN))


@dataclass(frozen=True)
class ServerFacts:
    dialect: Dialect
    max_allowed_packet: int
    local_infile: bool = False  # the server accepts LOAD DATA LOCAL (MySQL 8.0's default is OFF)

    def budget(self, ceiling: int = DEFAULT_BUDGET) -> int:
        return statement_budget(self.max_allowed_packet, ceiling)


def server_facts(conn: Any) -> ServerFacts:
    """The server's flavour/version, ``max_allowed_packet`` and ``local_infile``, in one round trip."""
    with conn.cursor() as cur:
        cur.execute("SELECT VERSION(), @@max_allowed_packet, @@GLOBAL.local_infile")
        version, packet, infile = cur.fetchone()
    return ServerFacts(Dialect.from_version_string(str(version)), int(packet), bool(int(infile or 0)))


__all__ = [
    "PACKET_MARGIN",
    "SESSION_SQL_MODE",
    "STRICT_SESSION_SQL_MODE",
    "ServerFacts",
    "isolation_for",
    "prepare_load_session",
    "prepare_schema_session",
    "prepare_session",
    "server_facts",
    "statement_budget",
]
