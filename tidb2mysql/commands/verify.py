"""``tidb2mysql verify``: compare source and target while replication runs; repair with --fix.

Exit codes: 0 = clean (or every difference repaired), 1 = differences or unsettled rows
remain, 2 = configuration / connection problem. See docs/verify.md.
"""

from __future__ import annotations

import json
import os
import sys

from tidb2mysql import config as config_mod


NAME = "verify"
HELP = "Compare source and target (chunk checksums, rows re-checked past the flow's lag); --fix repairs."


def run(args) -> int:
    from tidb2mysql.ops.metrics import serve
    from tidb2mysql.verify.runner import VerifyOptions, VerifyError, verify

    cfg = config_mod.load(args.config or os.environ.get(config_mod.ENV_VAR))
    if args.metrics_port:
        serve(args.metrics_bind, args.metrics_port)
    opts = VerifyOptions(tables=[t.strip() for t in (args.tables or "").split(",") if t.strip()], fix=args.fix,
                   rate=args.rate, lanes=args.lanes, restart=args.restart, repair_sql=args.repair_sql,
                   chunk_rows=args.chunk_rows)
    try:
        rep = verify(cfg, opts)
    except VerifyError as e:
        print(f"tidb2mysql verify: {e}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(rep.to_json(), default=str, indent=1))
    else:
        print(rep.text())
    if rep.clean:
        return 0
    fixed = rep.repaired is not None and rep.repaired >= rep.difference_count and not rep.unsettled
    return 0 if fixed else 1


def add_arguments(p) -> None:
    p.add_argument("--tables", help="comma-separated source db.table / db.* (default: [verify] tables, else the "
                                    "full load's selection)")
    p.add_argument("--fix", action="store_true", help="repair the differences in the target (online, re-verified)")
    p.add_argument("--rate", type=float, help="rows per second over all lanes (0 = unlimited; [verify] rate)")
    p.add_argument("--lanes", type=int, help="parallel lanes ([verify] lanes)")
    p.add_argument("--chunk-rows", type=int, help="rows per chunk for a new run ([verify] chunk_rows)")
    p.add_argument("--repair-sql", help="write the repair statements here (default when differences are found "
                                        "without --fix: ./tidb2mysql-verify-<job>-<run>.sql)")
    p.add_argument("--restart", action="store_true", help="start a new run instead of resuming an unfinished one")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument("--metrics-port", type=int, default=0, help="serve Prometheus metrics on this port")
    p.add_argument("--metrics-bind", default="127.0.0.1", help="address of the metrics endpoint")
