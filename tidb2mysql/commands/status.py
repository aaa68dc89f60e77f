"""``tidb2mysql status``: stage, applied commit_ts, delay, Kafka catch-up, rows/s - from the target.

Reads only the target's meta tables (and Kafka's end offset when reachable), so it works from
any machine and while the flow is down. Exit code 0 when "not delayed", 1 when delayed or
nothing is replicated yet. See tidb2mysql/ops/status.py.
"""

from __future__ import annotations

import json
import os

from tidb2mysql import config as config_mod
from tidb2mysql.mysql import db


NAME = "status"
HELP = "Show a job's stage, applied position, delay and counts (reads the target only)."


def run(args) -> int:
    from tidb2mysql.ops import status

    cfg = config_mod.load(args.config or os.environ.get(config_mod.ENV_VAR))
    k = status.KafkaEnd(error="not asked (--no-kafka)") if args.no_kafka else status.kafka_offsets(cfg.kafka)
    conn = db.connect(cfg.target, autocommit=True)
    try:
        st = status.read_status(conn, cfg.job.meta_schema, cfg.job.name, kafka_end=k.end, kafka_error=k.error,
                                threshold=args.not_delayed_seconds, sample_seconds=args.sample_seconds,
                                kafka=None if args.no_kafka else cfg.kafka, kafka_start=k.start)
    finally:
        conn.close()
    if not args.no_source:
        status.judge_source(st, _source_view(cfg, status), drainer=cfg.input.format == "drainer")
    if args.json:
        print(json.dumps(st.to_json(), indent=2, default=str))
    else:
        print(status.render(st))
    return 0 if st.not_delayed else 1


def _source_view(cfg, status):
    try:
        src = db.connect(cfg.source, autocommit=True)
    except Exception as e:  # noqa: BLE001 - status still reports the target's view
        return status.SourceView(kind="unreachable", error=f"cannot connect to the source: {e}")
    try:
        return status.read_source(src)
    except Exception as e:  # noqa: BLE001
        return status.SourceView(kind="unreachable", error=str(e))
    finally:
        src.close()


def add_arguments(p) -> None:
    p.add_argument("--json", action="store_true", help="print the status as JSON")
    p.add_argument("--not-delayed-seconds", type=float, default=60.0,
                   help="delay under which the job counts as not delayed (default 60)")
    p.add_argument("--sample-seconds", type=float, default=1.0,
                   help="seconds between two checkpoint samples for rows/s (0 = skip)")
    p.add_argument("--no-kafka", action="store_true", help="do not ask Kafka for its end offset")
    p.add_argument("--no-source", action="store_true",
                   help="do not ask TiDB for its current TSO, binlog and Drainer state (then \"caught up\" only means"
                        " caught up with Kafka)")

