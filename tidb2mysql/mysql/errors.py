"""Classifying MySQL errors: transient (retry, reconnect) or permanent (dead-letter / stop).

Every error-code table of the project is here, each code with the flavour that sends it
(MariaDB and MySQL do not give these numbers different meanings), so callers classify an
exception without needing to know which server raised it.
"""

from __future__ import annotations

from typing import Any

import pymysql

# Server restarts, lost connections, deadlocks and lock waits: retrying the same work can succeed.
TRANSIENT_CODES = {
    0,     # PyMySQL InterfaceError on a closed connection
    1040,  # too many connections
    1053,  # server shutdown in progress
    1205,  # lock wait timeout
    1213,  # deadlock
    1927,  # MariaDB: connection was killed
    2002, 2003, 2006, 2013, 2014, 2055,  # client: cannot connect / gone away / lost / out of sync
    4031,  # client disconnected by server (MariaDB / MySQL 8 wait_timeout)
}


# MySQL/MariaDB errors that mean "this DDL (or its twin) already took effect". Tolerated only
# when the intent row proves the statement is being sent for the second time.
ALREADY_DONE_ERRORS = {
    1007: "database exists",
    1008: "database does not exist",
    1050: "table exists",
    1051: "unknown table",
    1054: "unknown column",
    1060: "duplicate column",
    1061: "duplicate key name",
    1068: "multiple primary key",
    1091: "cannot drop: column/key does not exist",
    1146: "table does not exist",
    1176: "key does not exist",
    1517: "duplicate partition name",
    1826: "duplicate foreign key",
    4092: "unknown view",  # MariaDB
}

# Transient errors that the server answers with: the statement did not execute.
NOT_APPLIED_ERRORS = {1205, 1213, 1040}


def error_code(e: BaseException) -> int:
    args = getattr(e, "args", ())
    if args and isinstance(args[0], int):
        return args[0]
    return -1


def error_message(e: BaseException) -> str:
    args: tuple[Any, ...] = getattr(e, "args", ())
    if len(args) > 1:
        return str(args[1])
    return str(e) or type(e).__name__


def is_transient(e: BaseException) -> bool:
    if isinstance(e, (pymysql.err.InterfaceError, ConnectionError, BrokenPipeError, TimeoutError)):
        return True
    if isinstance(e, pymysql.err.MySQLError):
        return error_code(e) in TRANSIENT_CODES
    return False
