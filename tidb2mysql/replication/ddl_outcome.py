"""Did a DDL statement take effect? A fingerprint of the target schema, taken before it is sent.

A DDL cannot share a transaction with the row that records it (every DDL commits on its
own), so a crash or a lost connection after sending it leaves its outcome unknown. The
barrier records this fingerprint before the statement is first sent; the next executor takes
a new one and compares. Every DDL the barrier runs changes what the fingerprint covers:

* the databases the statement names, existing or not, with their default character set and
  collation (CREATE/DROP/ALTER DATABASE) - never the server's whole list: other clients'
  databases come and go, and that must not read as "this statement took effect";
* for each database the statement names (and its default database): its structure as
  ``tidb2mysql.mysql.catalog.describe_database`` reads it (every table and view, columns with type,
  nullability, default, extra, collation and generation expression, indexes with uniqueness,
  columns and prefix lengths, table collation, partitions, view definitions) - the same
  reading the schema comparison uses;
* InnoDB's internal table id of each of those tables, where the account may read it: it
  changes when a table is re-created, so ``RENAME TABLE a TO t, b TO a, t TO b`` of two
  tables with the same structure and ``TRUNCATE`` show too. Without the PROCESS privilege the
  ids are left out (a warning says so once); then a swap of identical tables cannot be told
  from no change, and the barrier's tolerance of "already done" errors on a proven re-run is
  the remaining guard.

Nothing that changes with data is included (row counts, AUTO_INCREMENT, update times).
The result is a SHA-256 hex digest (64 characters: it fits the intent row).
"""

from __future__ import annotations

import hashlib
import logging
import re
from typing import Optional

import orjson
import pymysql

from tidb2mysql.mysql.catalog import describe_database, to_jsonable

log = logging.getLogger(__name__)

_IDENT = re.compile(r"`((?:[^`]|``)+)`|([A-Za-z0-9_$]+)")
_warned_ids = False


def identifiers(stmt: str, default_db: Optional[str]) -> set[str]:
    """Every identifier-like word of ``stmt`` (lower case), and its default database."""
    out = {default_db.lower()} if default_db else set()
    for m in _IDENT.finditer(stmt):
        out.add((m.group(1).replace("``", "`") if m.group(1) is not None else m.group(2)).lower())
    return out


def named_databases(conn, stmt: str, default_db: Optional[str]) -> tuple[list[str], list]:
    """The statement's scope: the existing databases it may touch (its default database and
    every identifier naming one; over-inclusion is harmless), and the SCHEMATA rows of every
    name it mentions, existing or not (a CREATE DATABASE shows as a new row).

    Only these: other databases on the server come and go with other clients' work, and a
    change there must never read as "this statement took effect"."""
    names = identifiers(stmt, default_db)
    with conn.cursor() as cur:
        cur.execute("SELECT schema_name, default_character_set_name, default_collation_name"
                    " FROM information_schema.schemata")
        rows = [list(r) for r in cur.fetchall() if r[0].lower() in names]
    return sorted(r[0] for r in rows), sorted(rows)


def _table_ids(cur, dbs: list[str]) -> Optional[list]:
    global _warned_ids
    prefixes = tuple(f"{d}/" for d in dbs)
    for table in ("INNODB_SYS_TABLES", "INNODB_TABLES"):  # MariaDB / MySQL 5.7; MySQL 8.0
        try:
            cur.execute(f"SELECT name, table_id FROM information_schema.{table}")
        except pymysql.err.MySQLError as e:
            if e.args and e.args[0] in (1109, 1227):  # unknown table / needs PROCESS
                if e.args[0] == 1227:
                    break
                continue
            raise
        return sorted([r[0], int(r[1])] for r in cur.fetchall() if str(r[0]).startswith(prefixes))
    if not _warned_ids:
        _warned_ids = True
        log.warning("the target account cannot read InnoDB table ids (needs PROCESS): after a crash, a DDL"
                    " that swaps two identical tables cannot be told from no change")
    return None


def schema_fingerprint(conn, stmt: str, default_db: Optional[str]) -> str:
    dbs, schemata = named_databases(conn, stmt, default_db)
    with conn.cursor() as cur:
        ids = _table_ids(cur, dbs) if dbs else None
    # describe_database raises CatalogIncomplete (errno 1205: transient, polled again) when
    # information_schema skipped a table it could not open behind a lock.
    data = {"schemata": schemata, "ids": ids,
            "tables": {d: to_jsonable(describe_database(conn, d)) for d in dbs}}
    return hashlib.sha256(orjson.dumps(data, default=str, option=orjson.OPT_SORT_KEYS)).hexdigest()
