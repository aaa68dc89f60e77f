"""``python -m bench [--smoke | --full] [--only SECTION ...] [--out DIR]``

Sections, in order: incremental (flow and ceiling per workload), shapes, ticdc (the mix
workload from an 8-partition TiCDC canal-json topic next to Drainer), apply (raw apply
ceiling and LOAD DATA), delay, fullload, fullload_tidb (from the real TiDB, ``make up-tidb``, vs
dumpling + the mariadb client), memory. Run one benchmark at a time on this 2-core
machine, and not while the test suite runs. A section that fails is recorded under
``errors`` and the run goes on; the exit status is 1 if any section failed.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import os
import platform
import sys
import tempfile
import time
import traceback
from datetime import datetime, timezone
from pathlib import Path

from bench import apply_ceiling, ceiling, delay, env, fullload, fullload_tidb, incremental, oltp, report
from bench.sizes import MODES
from tidb2mysql.fullload.jobstore import JobStore
from tidb2mysql.mysql.meta import REPLICATION, ensure_meta

SECTIONS = ("incremental", "shapes", "ticdc", "apply", "delay", "fullload", "fullload_tidb", "memory")
log = logging.getLogger("bench")


def bench_workload(cfg, name: str, rows: int, sizes, flows, workdir: Path, res_mem: dict | None = None) -> dict:
    with env.target_database(cfg, name) as database, env.topic(cfg, name) as topic:
        w = oltp.make_workload(name, database, rows)
        t0 = time.monotonic()
        last_ts, msgs = oltp.publish(cfg, topic, w)
        log.info("%s: %d rows in %d messages published in %.1fs", name, rows, msgs, time.monotonic() - t0)
        out = {"describe": w.describe, "rows": rows, "txns": msgs, "flow": {}, "ceiling": {}, "ratio": {},
               "ceiling_load": {}}
        want = oltp.expected_names(w)

        runs: dict = {}  # (kind, configuration) -> its result in every round
        for rnd in range(1, sizes.rounds + 1):
            at = f" round {rnd}" if sizes.rounds > 1 else ""
            for workers, processes in flows:
                oltp.fresh_tables(cfg, w)
                label = "w1" if processes == 1 else f"p{processes}"
                r = incremental.run_flow(cfg, topic, last_ts, rows, workdir, workers=workers, processes=processes,
                                         timeout=sizes.timeout)
                runs.setdefault(("flow", label), []).append(r)
                oltp.check_run(cfg, w, want, f"flow {label}{at}", out, log.error)
                log.info("%s flow %s%s: %s", name, label, at, r)
            for n in sizes.ceiling_procs:
                oltp.fresh_tables(cfg, w)
                r = ceiling.run_ceiling(cfg, topic, rows, n, timeout=sizes.timeout)
                runs.setdefault(("ceiling", str(n)), []).append(r)
                oltp.check_run(cfg, w, want, f"ceiling {n}{at}", out, log.error)
                log.info("%s ceiling %d procs%s: %s", name, n, at, r)
            for n in sizes.ceiling_load_procs:
                oltp.fresh_tables(cfg, w)
                r = ceiling.run_ceiling(cfg, topic, rows, n, timeout=sizes.timeout, load=True)
                runs.setdefault(("ceiling_load", str(n)), []).append(r)
                oltp.check_run(cfg, w, want, f"ceiling with loads {n}{at}", out, log.error)
                log.info("%s ceiling with loads %d procs%s: %s", name, n, at, r)
        for (kind, key), rs in runs.items():  # each configuration's best round (sizes.Sizes.rounds)
            best_run = max(rs, key=lambda r: r["rows_per_s"])
            best_run["rounds_rows_per_s"] = [r["rows_per_s"] for r in rs]
            out[kind][key] = best_run
        best = max(c["rows_per_s"] for c in out["ceiling"].values())
        out["ceiling_best"] = best
        out["ratio"] = {k: env.ratio(v["rows_per_s"], best) for k, v in out["flow"].items()}
        if out["ceiling_load"]:
            best_load = max(c["rows_per_s"] for c in out["ceiling_load"].values())
            out["ratio_load"] = {k: env.ratio(v["rows_per_s"], best_load) for k, v in out["flow"].items()}
        out["target_equal"] = oltp.runs_equal(out)
        return out


def section_incremental(cfg, sizes, workdir, res) -> None:
    inc = res.setdefault("incremental", {})
    for name in res.get("workloads") or oltp.WORKLOADS:
        flows = sizes.flows if name == "insert" else sizes.flows_small
        inc[name] = bench_workload(cfg, name, sizes.rows[name], sizes, flows, workdir)


def section_apply(cfg, sizes, workdir, res) -> None:
    out = {"upsert": {}}
    w = oltp.make_workload("insert", "x", 0)
    for n in sizes.ceiling_procs:
        with env.target_database(cfg, "raw") as database:
            w.tables = [oltp.oltp_schema(database, "oltp")]
            oltp.fresh_tables(cfg, w)
            out["upsert"][str(n)] = apply_ceiling.raw_upsert(cfg, database, sizes.raw_rows, n)
            log.info("raw upsert %d procs: %s", n, out["upsert"][str(n)])
    with env.target_database(cfg, "load") as database:
        w.tables = [oltp.oltp_schema(database, "oltp")]
        oltp.fresh_tables(cfg, w)
        out["load_data"] = apply_ceiling.load_data(cfg, database, sizes.raw_rows)
        log.info("load data: %s", out["load_data"])
    res["apply_ceiling"] = out


def section_delay(cfg, sizes, workdir, res) -> None:
    mix = res.get("incremental", {}).get("mix", {}).get("flow", {}).get("w1")
    if mix is None and not res.get("delay_rate"):  # delay alone: measure the throughput first
        mix = bench_workload(cfg, "mix", sizes.rows["mix"], sizes, ((1, 1),), workdir)["flow"]["w1"]
    rate = res.get("delay_rate") or mix["rows_per_s"] / 2
    with env.target_database(cfg, "delay") as database, env.topic(cfg, "delay") as topic:
        w = oltp.make_workload("mix", database, 0)
        oltp.fresh_tables(cfg, w)
        settle = env.settle_target(cfg)  # the background work of earlier sections (env.py: why)
        log.info("delay: target settled in %ss: %s", settle["waited_s"], settle)
        res["delay"] = delay.run_delay(cfg, topic, database, rate, sizes.delay_seconds, workdir,
                                       shards=incremental.SHARDS, warmup=min(5.0, sizes.delay_seconds / 2))
        res["delay"]["target_settle"] = settle
        res["delay"]["rate_from"] = ("--delay-rate" if res.get("delay_rate")
                                     else "half of the mix workload's flow -w 1 rows/s in this run")
    log.info("delay: %s", res["delay"])


def section_shapes(cfg, sizes, workdir, res) -> None:
    """Issue 12: the flow per table shape (primary key, unique-key-only, key-less), same workload."""
    from bench.table_shapes import run_shapes

    res["table_shapes"] = run_shapes(cfg, max(400, sizes.rows["uk"] // 5), 2, log=log.info)


def section_ticdc(cfg, sizes, workdir, res) -> None:
    """Issue 16: the mix workload from an 8-partition TiCDC canal-json topic, next to Drainer."""
    from bench.ticdc import run_ticdc

    res["ticdc"] = run_ticdc(cfg, sizes.rows["mix"], workdir, sizes.timeout, log=log.info)


def section_fullload(cfg, sizes, workdir, res) -> None:
    res["full_load"] = fullload.run_full_load(cfg, sizes.full_load_scale, workdir)
    log.info("full load: %s", res["full_load"])


def section_fullload_tidb(cfg, sizes, workdir, res) -> None:
    res["full_load_tidb"] = fullload_tidb.run_full_load_tidb(sizes.full_load_scale, workdir)


def section_memory(cfg, sizes, workdir, res) -> None:
    """Flow peak RSS at two table sizes and two transaction sizes (same -w 1 flow)."""
    comps = []
    big = res.get("incremental", {}).get("insert", {}).get("flow", {}).get("w1")
    large_rows = sizes.rows["insert"]
    if big is None:
        big = bench_workload(cfg, "insert", large_rows, sizes, ((1, 1),), workdir)["flow"]["w1"]
    small = bench_workload_flow_only(cfg, "insert", sizes.memory_small_rows, sizes, workdir)
    comps.append({"what": f"inserts, 10 rows/txn: {sizes.memory_small_rows:,} vs {large_rows:,} rows",
                  "small_mib": small["peak_rss_mib"], "large_mib": big["peak_rss_mib"]})
    bigtxn = bench_workload_flow_only(cfg, "insert_bigtxn", sizes.bigtxn_rows, sizes, workdir)
    comps.append({"what": f"transaction size: 10 rows vs {min(50_000, sizes.bigtxn_rows):,} rows/txn ({sizes.bigtxn_rows:,} rows in total)",
                  "small_mib": small["peak_rss_mib"], "large_mib": bigtxn["peak_rss_mib"],
                  "large_rows_per_s": bigtxn["rows_per_s"]})
    fl = res.get("full_load")
    if fl:
        comps.append({"what": f"full load -w 1: {fl['small_w1']['rows']:,} vs {fl['w1']['rows']:,} rows",
                      "small_mib": fl["small_w1"]["peak_rss_mib"], "large_mib": fl["w1"]["peak_rss_mib"]})
    for c in comps:
        c["growth"] = round(c["large_mib"] / c["small_mib"], 2)
    res["memory"] = {"comparisons": comps, "max_growth": max(c["growth"] for c in comps)}
    log.info("memory: %s", res["memory"])


def bench_workload_flow_only(cfg, name, rows, sizes, workdir) -> dict:
    with env.target_database(cfg, name) as database, env.topic(cfg, name) as topic:
        w = oltp.make_workload(name, database, rows)
        last_ts, _ = oltp.publish(cfg, topic, w)
        oltp.fresh_tables(cfg, w)
        return incremental.run_flow(cfg, topic, last_ts, rows, workdir, timeout=sizes.timeout)


RUNNERS = {"incremental": section_incremental, "apply": section_apply, "delay": section_delay,
           "fullload": section_fullload, "fullload_tidb": section_fullload_tidb, "memory": section_memory,
           "shapes": section_shapes, "ticdc": section_ticdc}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    g = ap.add_mutually_exclusive_group()
    g.add_argument("--smoke", action="store_const", dest="mode", const="smoke", help="tiny sizes, < 60 s (CI)")
    g.add_argument("--full", action="store_const", dest="mode", const="full", help="the issue's sizes (1M rows)")
    ap.add_argument("--only", nargs="+", choices=SECTIONS, help="run only these sections")
    ap.add_argument("--workloads", nargs="+", choices=oltp.WORKLOADS, help="incremental: only these workloads")
    ap.add_argument("--ceiling-procs", nargs="+", type=int, help="ceiling: only these process counts")
    ap.add_argument("--delay-rate", type=float, help="delay: offer this many rows/s (default: half the mix rate)")
    ap.add_argument("--kafka-client", nargs="+", metavar="KEY=VALUE", default=[],
                    help="librdkafka settings for the flow's consumer (e.g. queued.max.messages.kbytes=65536)")
    ap.add_argument("--snapshot-seconds", type=int, default=0,
                    help="run the flows with a recovery directory and -s N (Bytewax epoch = N s)")
    ap.add_argument("--shards", type=int, default=incremental.SHARDS,
                    help="[incremental] shards of every flow the bench runs (throughput, delay, memory)")
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parent, help="where results.* go")
    ap.add_argument("--workdir", type=Path,
                    help="keep the flows' configs and logs here (default: a temporary directory, removed)")
    args = ap.parse_args(argv)
    mode = args.mode or "default"
    sizes = MODES[mode]
    if args.ceiling_procs:
        sizes = dataclasses.replace(sizes, ceiling_procs=tuple(args.ceiling_procs))
    logging.basicConfig(level=logging.INFO, format="%(asctime)s bench: %(message)s")
    cfg = env.load_config()
    # The flows create tidb2mysql's meta tables when they start; the bench polls them from the
    # moment it starts a flow, so on a fresh target they must exist first.
    conn = env.target(cfg)
    try:
        ensure_meta(conn, cfg.job.meta_schema, REPLICATION)
        JobStore(cfg.job.meta_schema, cfg.job.name).ensure(conn)  # the full-load job tables
    finally:
        conn.close()
    res = {"mode": mode, "started": datetime.now(timezone.utc).isoformat(timespec="seconds"),
           "machine": f"{os.cpu_count()} CPUs, {platform.platform()}, Python {platform.python_version()}", "cpus": os.cpu_count(),
           "commit": _commit(), "errors": []}
    for kv in args.kafka_client:
        k, _, v = kv.partition("=")
        incremental.KAFKA_CLIENT[k] = int(v) if v.isdigit() else v
    if incremental.KAFKA_CLIENT:
        res["kafka_client"] = dict(incremental.KAFKA_CLIENT)
    incremental.SHARDS = res["shards"] = args.shards
    if args.snapshot_seconds:
        incremental.SNAPSHOT_SECONDS = res["snapshot_seconds"] = args.snapshot_seconds
    if args.delay_rate:
        res["delay_rate"] = args.delay_rate
    if args.workloads:
        res["workloads"] = args.workloads
    t0 = time.monotonic()
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="bench_") as tmp:
        if args.workdir:
            args.workdir.mkdir(parents=True, exist_ok=True)
            tmp = str(args.workdir)
        for name in args.only or SECTIONS:
            s0 = time.monotonic()
            try:
                RUNNERS[name](cfg, sizes, Path(tmp), res)
            except Exception as e:
                traceback.print_exc()
                res["errors"].append(f"{name}: {type(e).__name__}: {e}"[:2000])
            res.setdefault("section_seconds", {})[name] = round(time.monotonic() - s0, 1)
            res["total_seconds"] = time.monotonic() - t0
            report.write(res, args.out)  # partial results survive a later failure
    print((args.out / "results.md").read_text())
    return 1 if res["errors"] else 0


def _commit() -> str:
    """The commit measured (``+ uncommitted changes`` when the tree differs from it)."""
    import subprocess

    root = Path(__file__).resolve().parent.parent
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True,
                              check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root,
                               capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"
    return head + (" + uncommitted changes" if dirty else "")


if __name__ == "__main__":
    sys.exit(main())
