"""Named failpoints: places in the product code where a test can crash the process or cut a
connection at an exact moment (the weakest moments of the DDL barrier and of a flush).

Why in the product and not in a test double: the moments that lose data are between two
real effects on real servers (a DDL ran but its record did not; a batch committed but the
Bytewax snapshot did not). Only the real code path, against the real target, reaches them.

Off unless ``$TIDB2MYSQL_FAILPOINTS`` is set when this module is imported; then
``hit(name)`` costs one dict lookup, and when it is unset ``ENABLED`` is False and call sites
skip the call entirely (``if failpoints.ENABLED: failpoints.hit(...)``).

Spec: ``name=action[,name=action...]`` where action is

* ``kill``: ``os._exit(137)`` at once (SIGKILL semantics: no finally, no flush, no atexit);
* ``drop``: shut down the socket of the connection passed by the call site (the server sees
  the client vanish; the next use of the connection fails as a lost connection);
* ``sleep:SECONDS``: pause (widen a window for a test that acts from outside);
* ``raise``: raise :class:`FailpointError` (a plain, non-transient error).

``$TIDB2MYSQL_FAILPOINT_ONCE_DIR`` (optional) makes each (name, key) fire only once across
processes and restarts: a marker file is created atomically before firing, and a point whose
marker exists is passed. Call sites give a key that names the moment (e.g. the DDL's
commit_ts), so a restarted flow with the same environment dies at the *next* such moment
and a test walks through every DDL of a stream with one failpoint armed.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from tidb2mysql.errors import InternalError
from typing import Any, Optional

log = logging.getLogger(__name__)

ENV = "TIDB2MYSQL_FAILPOINTS"
ONCE_DIR_ENV = "TIDB2MYSQL_FAILPOINT_ONCE_DIR"

# Every failpoint the product defines, with the moment it stands for (docs and validation).
POINTS = {
    "barrier.before_ack": "a shard flushed everything before a DDL, its (ts,-1) checkpoint is not written",
    "barrier.after_ack": "a shard's (ts,-1) acknowledgement is committed, it has not tried to run the DDL",
    "barrier.after_intent": "the executor's intent row (status running) is committed, no statement ran",
    "barrier.after_execute": "a DDL statement ran on the target, its completion is not recorded",
    "barrier.after_record": "the DDL is recorded applied, the executor still holds the lock",
    "apply.before_commit": "a batch and its checkpoint are sent in a transaction, COMMIT is not",
    "apply.after_commit": "a batch is committed, the Bytewax snapshot does not cover it yet",
    # key: the flush's end commit_ts (replication/unique_handoff.py)
    "unique.resolved": "a flush stole a unique value from another shard's row or skipped its own row"
                       " (row deleted, handoff recorded), its COMMIT is not sent",
    # COMMIT points (see commit()): `drop` = the COMMIT took effect but its reply is lost
    "apply.commit": "a batch's COMMIT took effect on the target; the client has not seen the reply",
    "apply.salvage_commit": "a change-by-change (salvage) transaction's COMMIT took effect; reply not seen",
    # key: the Drainer reader's process index, or the TiCDC reader's Kafka partition
    "source.start": "Bytewax is building a reader (a source partition); it has not connected to anything",
    "page.commit": "a full-load page's COMMIT took effect on the target; the client has not seen the reply",
}


class FailpointError(InternalError, RuntimeError):
    pass


def _parse(spec: str) -> dict[str, tuple[str, Optional[str]]]:
    out: dict[str, tuple[str, Optional[str]]] = {}
    for part in filter(None, (p.strip() for p in spec.split(","))):
        name, sep, action = part.partition("=")
        name, action = name.strip(), action.strip()
        if not sep or name not in POINTS:
            raise ValueError(f"${ENV}: unknown failpoint {name!r} in {part!r} (known: {', '.join(sorted(POINTS))})")
        verb, _, arg = action.partition(":")
        if verb not in ("kill", "drop", "sleep", "raise") or (verb == "sleep" and not arg):
            raise ValueError(f"${ENV}: bad action {action!r} for {name} (kill | drop | sleep:SECONDS | raise)")
        out[name] = (verb, arg or None)
    return out


_ARMED = _parse(os.environ.get(ENV, ""))
_ONCE_DIR = os.environ.get(ONCE_DIR_ENV) or None
ENABLED = bool(_ARMED)


def configure(spec: str, once_dir: Optional[str] = None) -> None:
    """Arm failpoints in this process (tests of the failpoints themselves)."""
    global _ARMED, _ONCE_DIR, ENABLED
    _ARMED, _ONCE_DIR = _parse(spec), once_dir
    ENABLED = bool(_ARMED)


def _first_time(name: str, key: Any) -> bool:
    if _ONCE_DIR is None:
        return True
    path = os.path.join(_ONCE_DIR, f"{name}@{key}")
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError:
        return False
    os.close(fd)
    return True


def hit(name: str, key: Any = "", conn: Any = None) -> bool:
    """The failpoint ``name`` is reached (``key`` names the moment; ``conn`` for ``drop``).

    Returns whether it fired (``kill`` never returns, ``raise`` raises)."""
    armed = _ARMED.get(name)
    if armed is None or not _first_time(name, key):
        return False
    verb, arg = armed
    log.warning("failpoint %s (%s) fired: %s", name, key, verb)
    if verb == "kill":
        for h in logging.getLogger().handlers:
            try:
                h.flush()
            except Exception:  # noqa: BLE001 - best effort before dying
                pass
        os._exit(137)
    elif verb == "sleep":
        time.sleep(float(arg or 0))
    elif verb == "raise":
        raise FailpointError(f"failpoint {name} ({key})")
    elif verb == "drop":
        sock = getattr(conn, "_sock", None)
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
    return True


def commit(conn: Any, name: str, key: Any = "") -> None:
    """``conn.commit()`` with the COMMIT failpoint ``name`` after it.

    Why after: the dangerous case of a lost connection during COMMIT is the one where the
    server committed and the client cannot know; every other case is an ordinary rollback.
    So the failpoint lets the COMMIT complete, then ``drop`` cuts the socket and raises the
    lost-connection error the client would have seen (2013) - the outcome is now unknown to
    the caller, which must find out from what the transaction wrote (its checkpoint or
    progress row). ``kill`` dies right after the COMMIT.
    """
    conn.commit()
    if ENABLED and name in _ARMED and hit(name, key, conn) and _ARMED[name][0] == "drop":
        import pymysql  # only on this test path

        raise pymysql.err.OperationalError(2013, f"Lost connection to MySQL server during query "
                                                 f"(failpoint {name} after COMMIT)")
