"""``tidb2mysql simulate``: play TiDB + Pump + Drainer against the source and the Kafka topic."""

from __future__ import annotations

import dataclasses
import json
import sys

from tidb2mysql import config as config_mod


NAME = "simulate"
HELP = "Play TiDB + Drainer (or TiCDC): run a seeded workload on the source and publish its messages."


def run(args) -> int:
    from tidb2mysql.simulator import SimulatorOptions, run_simulation

    cfg = config_mod.load(args.config)
    if args.topic:
        cfg = dataclasses.replace(cfg, kafka=dataclasses.replace(cfg.kafka, topic=args.topic))
    lo, hi = (int(x) for x in args.txn_rows.split(","))
    opts = SimulatorOptions(
        seed=args.seed, txns=args.txns, duration_s=args.duration, rate=args.rate,
        databases=[d for d in args.databases.split(",") if d] if args.databases else [],
        tables=args.tables, row_width=args.row_width, txn_rows=(lo, hi), ddl_every=args.ddl_every,
        edge_values=args.edge_values, redeliver=args.redeliver, drop_existing=not args.no_drop,
        setup_only=args.setup_only, source=args.source, output=args.output, partitions=args.partitions,
        dispatcher=args.dispatcher, watermark_every=args.watermark_every, watermark_ms=args.watermark_ms,
        batch_size=args.batch_size,
    )
    s = run_simulation(cfg, opts)
    if args.json:
        print(json.dumps(dataclasses.asdict(s), indent=2))
    else:
        print(f"simulated {s.txns} transactions ({s.rows} row changes) and {s.ddls} DDL in {s.seconds:.1f}s"
              f" ({s.txns / max(s.seconds, 1e-9):.0f} txn/s) on {cfg.source.describe()}", file=sys.stderr)
        print(f"published {s.messages} {s.output} messages ({s.redelivered} redelivered) to topic"
              f" {cfg.kafka.topic!r}, commit_ts {s.first_commit_ts}..{s.last_commit_ts}", file=sys.stderr)
        print(f"databases: {', '.join(s.databases)}; tables: {len(s.tables)}", file=sys.stderr)
    return 0


def add_arguments(p) -> None:
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--txns", type=int, default=1000, help="DML transactions (0: run for --duration)")
    p.add_argument("--duration", type=float, default=0.0, help="seconds to run when --txns is 0")
    p.add_argument("--rate", type=float, default=0.0, help="transactions per second (0: as fast as possible)")
    p.add_argument("--databases", help="comma-separated source databases to create and use (default sim_<seed>)")
    p.add_argument("--tables", type=int, default=4, help="generic OLTP tables per database")
    p.add_argument("--row-width", type=int, default=100, help="bytes of TEXT payload per row")
    p.add_argument("--txn-rows", default="1,8", help="MIN,MAX row changes per transaction")
    p.add_argument("--ddl-every", type=int, default=0, help="about one DDL per N transactions (0: none)")
    p.add_argument("--edge-values", type=float, default=0.05, help="probability of edge values")
    p.add_argument("--redeliver", type=float, default=0.0, help="probability per message of a Drainer-restart redelivery")
    p.add_argument("--topic", help="override [kafka] topic")
    p.add_argument("--no-drop", action="store_true", help="keep existing databases of the same names")
    p.add_argument("--setup-only", action="store_true", help="create the schema (and publish its DDL) only")
    p.add_argument("--source", choices=("auto", "tidb", "mariadb"), default="auto",
                   help="the source's flavour: a real TiDB gives commit TSOs and DDL jobs, the MariaDB"
                        " stand-in gets them from the simulator (default: by the source's VERSION())")
    p.add_argument("--output", default="", choices=["", "drainer", "ticdc-canal-json", "ticdc-open-protocol"],
                   help="message format to publish (default: the config's [input] format)")
    p.add_argument("--partitions", type=int, default=1, help="TiCDC: partitions of the topic when it is created")
    p.add_argument("--dispatcher", default="table", choices=["default", "table", "index-value", "ts"],
                   help="TiCDC: partition dispatcher")
    p.add_argument("--watermark-every", type=int, default=1, help="TiCDC: a watermark after every N transactions")
    p.add_argument("--watermark-ms", type=float, default=0.0, help="TiCDC: also a watermark every M ms (0: off)")
    p.add_argument("--batch-size", type=int, default=16, help="TiCDC open protocol: rows per message")
    p.add_argument("--json", action="store_true")
