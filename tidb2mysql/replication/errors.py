"""Classifying MySQL errors: transient (retry, reconnect) or permanent (dead-letter / stop)."""

from __future__ import annotations

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


def error_code(e: BaseException) -> int:
    args = getattr(e, "args", ())
    if args and isinstance(args[0], int):
        return args[0]
    return -1


def error_message(e: BaseException) -> str:
    args = getattr(e, "args", ())
    if len(args) > 1:
        return str(args[1])
    return str(e) or type(e).__name__


def is_transient(e: BaseException) -> bool:
    if isinstance(e, (pymysql.err.InterfaceError, ConnectionError, BrokenPipeError, TimeoutError)):
        return True
    if isinstance(e, pymysql.err.MySQLError):
        return error_code(e) in TRANSIENT_CODES
    return False
