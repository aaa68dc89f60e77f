"""The real incremental flow, end to end, on a pre-filled topic.

Timing: the clock starts when ``tidb2mysql incremental --stop-at-end`` is started and stops
when every shard's checkpoint in the target covers the topic's last commit_ts (polled every
50 ms; the checkpoint is written in the same transaction as the rows it covers, so this is
"applied and committed"). Two rates are reported:

* ``rows_per_s``: rows / (done - first rows committed). Start-up (interpreter, Bytewax,
  connections, start position lookup) is excluded, the same way for the ceiling loop, so
  the ratio compares steady-state work.
* ``rows_per_s_wall``: rows / (done - process start), start-up included.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pymysql

from bench import env
from bench.procmem import PeakRSS
from tidb2mysql.replication.checkpoint import Checkpoints
from tidb2mysql.replication.route import MAX_SEQ

# The flows' [incremental] shards (``--shards``). 2 = one apply connection per process at the
# largest -p measured. On this 2-core machine more concurrent apply connections cost CPU per
# row in the flow and in MariaDB alike (A/B in docs/performance.md: at -w 1 the flow's
# CPU per row is 20 % lower with 2 than with 8; the ceiling is slower at 4 processes than at 2).
SHARDS = 2
# librdkafka overrides for every flow run (``--kafka-client KEY=VALUE``), e.g. to bound the
# consumer's prefetch; empty = the project's settings (tidb2mysql/kafka_settings.py).
KAFKA_CLIENT: dict = {}
# ``--snapshot-seconds N``: run every flow with a fresh recovery directory and ``-s N``. Bytewax's
# epoch is then N s instead of 10 s, and epochs are its only input backpressure point.
SNAPSHOT_SECONDS: int = 0


def run_flow(cfg, topic: str, last_ts: int, rows: int, workdir: Path, *, workers: int = 1, processes: int = 1,
             timeout: float = 1800, settings: dict | None = None, sections: dict | None = None,
             sampler=PeakRSS) -> dict:
    """Run the flow on the pre-filled ``topic`` until every shard covers ``last_ts``; ``sampler(pid)``
    watches the flow's process tree (peak RSS; bench/threads.py also samples CPU per thread)."""
    job = env.unique(f"flow_{workers}x{processes}")
    inc = {"shards": SHARDS}
    inc.update(settings or {})
    extra = {"kafka": {"client": dict(KAFKA_CLIENT)}} if KAFKA_CLIENT else {}
    extra.update(sections or {})  # e.g. {"input": {"format": "ticdc-canal-json"}}
    conf = env.flowrun.write_config(workdir / f"{job}.toml", topic=topic, job=job, incremental=inc, **extra)
    log = workdir / f"{job}.log"
    cps = Checkpoints("tidb2mysql", job)
    conn = env.target(cfg)
    t0 = time.monotonic()
    cmd = env.flowrun.incremental_cmd(conf, workers, processes, stop_at_end=True)
    if SNAPSHOT_SECONDS:
        (workdir / job).mkdir()
        cmd += ["-r", str(workdir / job), "-s", str(SNAPSHOT_SECONDS)]
    proc = env.flowrun.start(cmd, log)
    mem = sampler(proc.pid)
    first = None
    try:
        deadline = t0 + timeout
        while True:
            if proc.poll() is not None and proc.returncode != 0:
                raise RuntimeError(f"bench: flow exited {proc.returncode}; log {log}:\n{env.flowrun.tail(log)}")
            with conn.cursor() as cur:
                try:
                    cur.execute("SELECT COALESCE(SUM(rows_applied), 0), "
                                "SUM(commit_ts > %s OR (commit_ts = %s AND seq >= %s)), COUNT(*) "
                                "FROM tidb2mysql.checkpoint WHERE job = %s", (last_ts, last_ts, MAX_SEQ, job))
                    applied, covered, n = cur.fetchone()
                except pymysql.err.ProgrammingError as e:
                    if e.args[0] != 1146:  # ER_NO_SUCH_TABLE: a fresh target, the flow creates it
                        raise
                    applied = covered = n = 0
            now = time.monotonic()
            if first is None and applied and int(applied) > 0:
                first = now
            if n and int(covered or 0) >= SHARDS:
                done = now
                break
            if now > deadline:
                raise TimeoutError(f"bench: flow did not apply {rows} rows within {timeout}s; log {log}")
            time.sleep(0.05)
        try:
            proc.wait(timeout=60)
        except Exception:
            env.flowrun.kill(proc)
    finally:
        peak = mem.stop()
        if proc.poll() is None:
            env.flowrun.kill(proc)
        dead = env.dead_letters(conn, job)  # read before the job is forgotten
        conn.close()
        env.delete_job(cfg, job)
    _ = cps
    first = first if first is not None and first < done else t0
    return {
        "workers": workers, "processes": processes, "rows": rows,
        "seconds": round(done - first, 3), "startup_s": round(first - t0, 3),
        "rows_per_s": round(rows / max(done - first, 1e-9)),
        "rows_per_s_wall": round(rows / max(done - t0, 1e-9)),
        "peak_rss_mib": round(peak / 1048576, 1),
        # the whole machine's busy cores in the timed window (flow, target, Kafka; of os.cpu_count())
        "machine_cores_busy": mem.cores(first, done),
        "log": str(log),
        "dead_letters": dead,
        "redeliveries_skipped": redeliveries_skipped(log),
    }


_SKIPPED = re.compile(r"(\d+) messages skipped as (?:Drainer|TiCDC) re-deliveries in this run")


def redeliveries_skipped(log: Path) -> int:
    """Messages the flow's sources skipped as re-deliveries (their log lines at close). A
    bench topic is written once, in order (idempotent producer): anything but 0 means the
    topic was out of order and rows were dropped as old."""
    try:
        return sum(int(n) for n in _SKIPPED.findall(log.read_text(errors="replace")))
    except OSError:
        return -1
