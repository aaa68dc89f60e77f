"""``tidb2mysql cutover``: stop replication at a caught-up point and fence the job.

Steps (the flow may run on another machine, so every step goes through the target):

1. wait until the job is caught up with Kafka (every message in the topic applied), up to
   ``--max-wait`` seconds - stop the application's writes to TiDB before this;
2. record ``cutover_requested`` in ``<meta>.job_control``; the running flow polls it, reads
   the rest of the topic, drains like ``--stop-at-end`` and records ``stopped``;
3. record ``finished``. From now on a flow started for this job refuses to write (it would
   overwrite the application's new writes on the target) unless ``--force``.

``--flow-stopped`` skips waiting for the flow's acknowledgement when you know no flow runs
(for example it was stopped with SIGTERM after catching up). See docs/operations.md.
"""

from __future__ import annotations

import os
import sys
import time

from tidb2mysql import config as config_mod
from tidb2mysql.mysql import db


NAME = "cutover"
HELP = "Wait until caught up, stop the incremental flow, and fence the job in the target."


def _say(msg: str) -> None:
    print(f"tidb2mysql cutover: {msg}", file=sys.stderr)


def run(args) -> int:
    from tidb2mysql.ops import fencing, status

    cfg = config_mod.load(args.config or os.environ.get(config_mod.ENV_VAR))
    meta, job = cfg.job.meta_schema, cfg.job.name
    ctl = fencing.JobControl(meta, job)
    conn = db.connect(cfg.target, autocommit=True)
    try:
        ctl.ensure(conn)
        row = ctl.load(conn)
        if row is not None and row.state == fencing.FINISHED:
            _say(f"job {job!r} is already finished (at {row.finished_at})")
            return 0
        if args.require_verify:
            from tidb2mysql.verify.store import VerifyStore

            problem = VerifyStore(meta, job).clean_problem(conn)
            if problem:
                _say(f"--require-verify: {problem}; nothing changed. Run `tidb2mysql verify` (--fix) first.")
                return 1
        deadline = time.monotonic() + args.max_wait
        st = None
        while True:
            k = status.kafka_offsets(cfg.kafka)
            if k.permanent:  # wrong password, untrusted certificate: waiting cannot help
                _say(f"{k.error}; nothing changed")
                return 1
            st = status.read_status(conn, meta, job, kafka_end=k.end, kafka_error=k.error, kafka=cfg.kafka,
                                    kafka_start=k.start)
            if st.caught_up_with_kafka:
                break
            if time.monotonic() >= deadline:
                where = k.error or (f"applied offset {st.applied_offset}, end offset {k.end},"
                                    f" {st.kafka_pending} message(s) not applied")
                if st.shards == 0:
                    where += "; no incremental checkpoint yet"
                _say(f"not caught up with Kafka after {args.max_wait:g}s ({where}); nothing changed. Is the flow running?")
                return 1
            time.sleep(args.poll_seconds)
        _say(f"caught up with Kafka (end offset {st.kafka_end_offset}, applied commit_ts {st.applied_commit_ts});"
             " requesting the flow to stop")
        if not args.flow_stopped:
            ctl.request_cutover(conn, f"requested at end offset {st.kafka_end_offset}")
            while ctl.state(conn) != fencing.STOPPED:
                if time.monotonic() >= deadline:
                    _say(f"the flow did not acknowledge within {args.max_wait:g}s (state stays"
                         f" {fencing.REQUESTED!r}: a flow started later stops at the end of the topic)."
                         " If no flow runs, repeat with --flow-stopped.")
                    return 1
                time.sleep(args.poll_seconds)
            _say("the flow drained and stopped")
        k = status.kafka_offsets(cfg.kafka)
        st = status.read_status(conn, meta, job, kafka_end=k.end, kafka_error=k.error, kafka=cfg.kafka,
                                kafka_start=k.start)
        if st.caught_up_with_kafka is False:
            _say(f"warning: {st.kafka_pending} message(s) arrived in Kafka after the stop and are NOT"
                 " applied: were the application's writes to TiDB stopped?")
        ctl.mark_finished(conn, f"applied commit_ts {st.applied_commit_ts}, offset {st.applied_offset}")
        _say(f"job {job!r} finished at commit_ts {st.applied_commit_ts}; the target is fenced against this job's"
             " flow (restart needs --force). Point the application at the target now.")
        return 0
    finally:
        conn.close()


def add_arguments(p) -> None:
    p.add_argument("--max-wait", type=float, default=300.0, help="seconds to wait for catch-up and for the flow to stop")
    p.add_argument("--poll-seconds", type=float, default=0.5, help=argparse_suppress())
    p.add_argument("--flow-stopped", action="store_true", help="no flow runs: do not wait for its acknowledgement")
    p.add_argument("--require-verify", action="store_true",
                   help="refuse unless the job's latest `tidb2mysql verify` finished clean (or fully repaired)")


def argparse_suppress():
    import argparse

    return argparse.SUPPRESS
