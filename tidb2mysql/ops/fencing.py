"""Cut-over fencing: the ``job_control`` row in the target that stops and then fences a job.

Why in the target: ``tidb2mysql cutover`` may run on another machine than the flow and
cannot signal it. Both see the target, so the request is a row there:

* ``cutover_requested`` - the running flow polls this (about once a second), reads Kafka to
  its end, drains like ``--stop-at-end`` and records ``stopped``;
* ``stopped`` - the flow acknowledged: everything it read is applied and checkpointed;
* ``finished`` - ``cutover`` marked the job done: the application now writes to the target.
  A flow started for a finished job refuses to write (it would overwrite the application's
  new writes with old binlogs - the warning Alibaba DTS gives after a switch-over) unless
  ``--force`` / ``[incremental] force``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from tidb2mysql.mysql import meta as meta_tables
from tidb2mysql.mysql.sql import quote_ident
from tidb2mysql.errors import ConfigurationError

REQUESTED = "cutover_requested"
STOPPED = "stopped"
FINISHED = "finished"
STATES = (REQUESTED, STOPPED, FINISHED)


class JobFenced(ConfigurationError, RuntimeError):
    """The job was finished by a cut-over; writing again needs an explicit --force."""

    exit_code = 3
    headline = "job fenced"


@dataclass(frozen=True)
class ControlRow:
    state: str
    detail: Optional[str]
    requested_at: object
    stopped_at: object
    finished_at: object


class JobControl:
    """Reads and writes one job's control row (autocommit connections)."""

    def __init__(self, meta: str, job: str):
        self.meta, self.job = meta, job
        self.table = f"{quote_ident(meta)}.`job_control`"

    def ensure(self, conn) -> None:
        meta_tables.ensure_meta(conn, self.meta, meta_tables.FENCING)

    def load(self, conn) -> Optional[ControlRow]:
        """The row, or None (also when the table does not exist yet)."""
        if not meta_tables.table_exists(conn, self.meta, "job_control"):
            return None
        with conn.cursor() as cur:
            cur.execute(f"SELECT state, detail, requested_at, stopped_at, finished_at FROM {self.table} WHERE job=%s",
                        (self.job,))
            row = cur.fetchone()
        return ControlRow(*row) if row else None

    def state(self, conn) -> Optional[str]:
        """Cheap poll for the running flow (the table exists: the flow created it)."""
        with conn.cursor() as cur:
            cur.execute(f"SELECT state FROM {self.table} WHERE job=%s", (self.job,))
            row = cur.fetchone()
        return row[0] if row else None

    def _set(self, conn, state: str, stamp: str, detail: str) -> None:
        assert state in STATES
        with conn.cursor() as cur:
            cur.execute(
                f"INSERT INTO {self.table} (job, state, detail, {stamp}) VALUES (%s, %s, %s, CURRENT_TIMESTAMP(3))"
                f" ON DUPLICATE KEY UPDATE state=%s, detail=%s, {stamp}=CURRENT_TIMESTAMP(3)",
                (self.job, state, detail, state, detail))

    def request_cutover(self, conn, detail: str = "") -> None:
        self._set(conn, REQUESTED, "requested_at", detail)

    def mark_stopped(self, conn, detail: str = "") -> None:
        self._set(conn, STOPPED, "stopped_at", detail)

    def mark_finished(self, conn, detail: str = "") -> None:
        self._set(conn, FINISHED, "finished_at", detail)

    def clear(self, conn) -> None:
        with conn.cursor() as cur:
            cur.execute(f"DELETE FROM {self.table} WHERE job=%s", (self.job,))


def check_may_write(conn, meta: str, job: str, force: bool) -> Optional[str]:
    """Raise :class:`JobFenced` if the job was cut over; returns a warning text under ``force``."""
    ctl = JobControl(meta, job)
    row = ctl.load(conn)
    if row is None or row.state != FINISHED:
        return None
    msg = (f"job {job!r} was finished by a cut-over at {row.finished_at} (target {meta}.job_control):"
           " the application writes to the target now, and replaying binlogs would overwrite its changes.")
    if not force:
        raise JobFenced(msg + " Refusing to write. Start a new job name, or pass --force"
                              " ([incremental] force = true) if you really mean to resume this one.")
    return msg + " Writing anyway because of --force."


__all__ = ["FINISHED", "REQUESTED", "STOPPED", "ControlRow", "JobControl", "JobFenced", "check_may_write"]
