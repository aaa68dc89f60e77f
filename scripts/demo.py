"""`make demo`: the real thing, end to end, on the local stack.

The simulator plays TiDB + Drainer (writes into the source - the MariaDB stand-in, or with
`--config .stack/tidb2mysql-tidb.toml` (make demo SOURCE=tidb) a real TiDB - and publishes
Drainer messages to Kafka) while `tidb2mysql incremental` applies them to the target. Progress and
delay are printed every two seconds; at the end the source and target are compared.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tidb2mysql import config as config_mod  # noqa: E402
from tidb2mysql.mysql import db  # noqa: E402
from tidb2mysql.compare import compare_databases  # noqa: E402
from tidb2mysql.events import tso_physical_ms  # noqa: E402
from tidb2mysql.replication.checkpoint import Checkpoints  # noqa: E402
from tidb2mysql.simulator import SimulatorOptions, run_simulation  # noqa: E402
from tests.support.flowrun import write_config  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--config", default=str(REPO / ".stack" / "tidb2mysql.toml"))
    ap.add_argument("--seconds", type=float, default=20.0, help="how long the simulator writes")
    ap.add_argument("--rate", type=float, default=300.0, help="simulated transactions per second")
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()

    run_id = uuid.uuid4().hex[:6]
    base = config_mod.load(args.config)
    topic, job = f"demo_{run_id}", f"demo_{run_id}"
    databases = [f"demo_{run_id}_shop", f"demo_{run_id}_crm"]
    work = REPO / ".stack" / "demo"
    work.mkdir(parents=True, exist_ok=True)
    cfg_path = write_config(work / f"{job}.toml", topic=topic, job=job, base=Path(args.config))
    cfg = config_mod.load(cfg_path)
    log_path = work / f"{job}.log"
    print(f"demo {run_id}: simulator -> {base.source.describe()} + Kafka topic {topic!r};"
          f" tidb2mysql incremental ({args.workers} workers) -> {base.target.describe()}")

    summary = {}

    def simulate():
        summary["s"] = run_simulation(cfg, SimulatorOptions(
            seed=int(time.time()), txns=0, duration_s=args.seconds, rate=args.rate, databases=databases,
            tables=4, ddl_every=300, redeliver=0.005, edge_values=0.05))

    sim = threading.Thread(target=simulate, daemon=True)
    sim.start()
    time.sleep(1.0)  # the simulator creates the topic and the schema first
    env = dict(os.environ, TIDB2MYSQL_CONFIG=str(cfg_path))
    flow = subprocess.Popen([sys.executable, "-m", "tidb2mysql.cli", "incremental", "--config", str(cfg_path),
                             "-w", str(args.workers)], cwd=REPO, env=env, stdout=open(log_path, "w"),
                            stderr=subprocess.STDOUT, start_new_session=True)
    conn = db.connect(cfg.target)
    cps = Checkpoints(cfg.job.meta_schema, job)
    t0 = time.monotonic()
    try:
        while True:
            time.sleep(2.0)
            if flow.poll() is not None:
                print(open(log_path).read()[-3000:])
                print("the flow stopped unexpectedly")
                return 1
            rows = cps.load_all(conn)
            applied = min((c.commit_ts for c in rows), default=0)
            n = sum(c.rows_applied for c in rows)
            delay = f"{time.time() - tso_physical_ms(applied) / 1000:5.2f}s" if applied > 1 << 18 else "  -  "
            state = "simulating" if sim.is_alive() else "catching up"
            print(f"[{time.monotonic() - t0:5.1f}s] {state:11}  target: {n:7d} row changes applied,"
                  f" applied commit_ts {applied}, delay {delay}")
            if not sim.is_alive():
                if applied >= summary["s"].last_commit_ts:  # every shard is past the last transaction
                    break
    finally:
        if flow.poll() is None:
            os.killpg(flow.pid, signal.SIGTERM)
            try:
                flow.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(flow.pid, signal.SIGKILL)
    s = summary["s"]
    print(f"simulator: {s.txns} transactions, {s.rows} row changes, {s.ddls} DDL,"
          f" {s.redelivered} redelivered messages")
    print("flow log (last lines):")
    print("\n".join("  " + line for line in open(log_path).read().splitlines()[-6:]))
    src = db.connect(cfg.source)
    ok = True
    for d in databases:
        res = compare_databases(src, d, conn, d)
        print(res)
        ok &= res.equal
    with conn.cursor() as cur:
        cur.execute(f"SELECT COUNT(*) FROM `{cfg.job.meta_schema}`.dead_letter WHERE job=%s", (job,))
        dead = cur.fetchone()[0]
        cur.execute(f"SELECT status, COUNT(*) FROM `{cfg.job.meta_schema}`.ddl_history WHERE job=%s GROUP BY status", (job,))
        ddl = dict(cur.fetchall())
    print(f"DDL replayed: {ddl}; dead letters: {dead}")
    print("RESULT: target equals source" if ok and not dead else "RESULT: DIFFERENT")
    return 0 if ok and not dead else 1


if __name__ == "__main__":
    sys.exit(main())
