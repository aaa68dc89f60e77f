"""``tidb2mysql precheck``: check connectivity, privileges, Kafka and compatibility before a job.

Exit code 0 when no check failed (warnings allowed), 1 otherwise. See tidb2mysql/ops/precheck.py.
"""

from __future__ import annotations

import json
import os

from tidb2mysql import config as config_mod


NAME = "precheck"
HELP = "Check source, Kafka and target before migrating (pass/warn/fail with fixes)."


def run(args) -> int:
    from tidb2mysql.ops import precheck

    cfg = config_mod.load(args.config or os.environ.get(config_mod.ENV_VAR))
    checks = precheck.run_precheck(cfg, precheck.PrecheckOptions(keyless=args.keyless, full_load_mb_per_s=args.full_load_mb_per_s,
                                                          scan_data=not args.no_data_scan))
    failed = any(c.status == precheck.FAIL for c in checks)
    if args.json:
        print(json.dumps({"ok": not failed, "checks": [c.to_json() for c in checks]}, indent=2))
    else:
        print(precheck.render(checks))
    return 1 if failed else 0


def add_arguments(p) -> None:
    p.add_argument("--json", action="store_true", help="print the checks as JSON")
    p.add_argument("--keyless", choices=("warn", "fail"), default="warn",
                   help="tables without a primary or unique key: warn (default) or fail")
    p.add_argument("--full-load-mb-per-s", type=float, default=0.0,
                   help="assumed full load speed for the TiDB GC check (default: measured by reading the largest "
                        "selected table's first rows as the full load does)")
    p.add_argument("--no-data-scan", action="store_true",
                   help="skip scanning date and latin1/ascii columns for values the target refuses (full scans)")

