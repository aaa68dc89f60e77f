"""Showing a plan: a human table or one JSON document (``--json``), same content.

Every step lists its action, status, statements (in a dry run: what would run) and every
decision with level and reason, so a reviewer can approve a migration from the dry run.
"""

from __future__ import annotations

import json

from tidb2mysql.schema.plan import SchemaPlan


def as_dict(plan: SchemaPlan, dry_run: bool, source: str) -> dict:
    steps = [s.as_dict() for s in plan.steps]
    summary: dict[str, int] = {}
    for s in plan.steps:
        key = f"{s.obj.kind}s_{s.action}"
        summary[key] = summary.get(key, 0) + 1
    summary["failed"] = sum(1 for s in plan.steps if s.status == "failed")
    summary["errors"] = sum(1 for s in plan.steps if s.level == "error") + \
        sum(1 for n in plan.notes if n["level"] == "error")
    summary["warnings"] = sum(1 for s in plan.steps if s.level == "warning") + \
        sum(1 for n in plan.notes if n["level"] == "warning")
    return {"source": source, "target": str(plan.target), "dry_run": dry_run, "existing": plan.existing,
            "database_map": plan.database_map, "objects": steps, "not_migrated": plan.notes, "summary": summary}


def to_json(plan: SchemaPlan, dry_run: bool, source: str) -> str:
    return json.dumps(as_dict(plan, dry_run, source), indent=2, default=str)


def to_text(plan: SchemaPlan, dry_run: bool, source: str, statements: bool = True) -> str:
    d = as_dict(plan, dry_run, source)
    lines = [f"schema migration {'plan (dry run: nothing is changed)' if dry_run else 'result'}: "
             f"{source} -> target {d['target']} (existing objects: {plan.existing})"]
    rows = [("KIND", "SOURCE", "TARGET", "ACTION", "STATUS", "LEVEL")]
    rows += [(o["kind"], o["source"], o["target"], o["action"], o["status"], o["level"]) for o in d["objects"]]
    widths = [max(len(str(r[i])) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        lines.append("  ".join(str(c).ljust(w) for c, w in zip(r, widths)).rstrip())
    lines.append("")
    for o in d["objects"]:
        interesting = [x for x in o["decisions"] if x["action"] != "unchanged" or x["level"] != "info"]
        if not interesting and not o["error"] and not (dry_run and statements and o["statements"]):
            continue
        lines.append(f"{o['kind']} {o['source']} -> {o['target']}: {o['action']}, {o['status']}")
        for x in o["decisions"]:
            lines.append(f"    {x['level'].upper()} {x['action']}: {x['reason']}")
        if o["error"] and o["error"] not in [x["reason"] for x in o["decisions"]]:
            lines.append(f"    FAILED: {o['error']}")
        if dry_run and statements:
            for s in o["statements"]:
                lines.append("    | " + s.replace("\n", "\n    | ") + ";")
    for n in d["not_migrated"]:
        lines.append(f"not migrated {n['source']}: {n['level'].upper()} {n['action']}: {n['reason']}")
    s = d["summary"]
    lines.append("summary: " + ", ".join(f"{k}={v}" for k, v in sorted(s.items())))
    return "\n".join(lines)
