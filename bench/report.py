"""results.json (everything measured) and results.md (the tables a person reads)."""

from __future__ import annotations

import json
import os
from pathlib import Path


def _n(x) -> str:
    if x is None:
        return "-"
    if isinstance(x, float) and x < 100:
        return f"{x:.2f}"
    return f"{x:,.0f}" if isinstance(x, (int, float)) else str(x)


def goals(res: dict) -> list[dict]:
    out = []
    for name, w in res.get("incremental", {}).items():
        best = max((r for r in w.get("ratio", {}).values()), default=None)
        need = 1.0 if name == "insert" else 0.8
        out.append({"goal": f"incremental {name} >= {need}x ceiling (best flow config)", "value": best,
                    "met": best is not None and best >= need})
        f, c = w.get("flow", {}), w.get("ceiling", {})
        if "w1" in f and "p2" in f and "1" in c and "2" in c:
            # issue 13: flow(-p 2)/flow(-w 1) >= 0.9 x ceiling(2 procs)/ceiling(1 proc), same run
            v = (f["p2"]["rows_per_s"] / f["w1"]["rows_per_s"]) / (c["2"]["rows_per_s"] / c["1"]["rows_per_s"])
            out.append({"goal": f"scaling {name}: (flow p2 / w1) / (ceiling 2 / 1) >= 0.9", "value": round(v, 3),
                        "met": v >= 0.9})
    d = res.get("delay")
    if d:
        out.append({"goal": "p99 delay < 1 s at half load", "value": d["p99_ms"], "met": d["p99_ms"] < 1000})
    f = res.get("full_load")
    if f:
        out.append({"goal": "full load >= 1.0x mariadb-dump \\| mariadb", "value": f["ratio_best_vs_dump"],
                    "met": f["ratio_best_vs_dump"] >= 1.0})
    ft = res.get("full_load_tidb")
    if ft:
        out.append({"goal": "full load from TiDB >= 1.0x dumpling \\| mariadb", "value": ft["ratio_best_vs_dumpling"],
                    "met": ft["ratio_best_vs_dumpling"] >= 1.0})
    m = res.get("memory")
    if m:
        for c in m.get("comparisons", []):  # issue 13: backlog <= 1.2x; transaction size (and full load) <= 1.5x
            limit = 1.2 if c["what"].startswith("inserts") else 1.5
            out.append({"goal": f"memory: peak RSS {c['what']} <= {limit}x", "value": c["growth"], "met": c["growth"] <= limit})
    return out


def markdown(res: dict) -> str:
    L = [f"# tidb2mysql benchmark ({res['mode']} mode, {res['started']})", "",
         f"Commit: {res.get('commit', 'not recorded')}. Machine: {res['machine']}. "
         f"Wall time of the whole run: {res.get('total_seconds', 0):.0f} s.", ""]
    inc = res.get("incremental", {})
    if inc:
        L += ["## Incremental replication (rows/s, steady state: first commit to last commit)", "",
              f"Flows run with `[incremental] shards = {res.get('shards', 8)}`.", "",
              "| workload | rows | flow -w 1 | flow -p 2 | ceiling 1 proc | 2 procs | 4 procs | flow/ceiling -w 1 | -p 2 | flow peak RSS MiB | target equal |",
              "|---|---|---|---|---|---|---|---|---|---|---|"]
        for name, w in inc.items():
            f, c, r = w["flow"], w["ceiling"], w["ratio"]
            L.append("| " + " | ".join([
                f"{name}: {w['describe']}", _n(w["rows"]),
                _n(f.get("w1", {}).get("rows_per_s")), _n(f.get("p2", {}).get("rows_per_s")),
                _n(c.get("1", {}).get("rows_per_s")), _n(c.get("2", {}).get("rows_per_s")),
                _n(c.get("4", {}).get("rows_per_s")), _n(r.get("w1")), _n(r.get("p2")),
                "/".join(_n(x.get("peak_rss_mib")) for x in f.values()), "yes" if w["target_equal"] else "NO"]) + " |")
        per_workload = []  # every round's rows/s of every configuration, when there were rounds
        for n, w in inc.items():
            runs = [(f"{kind} {k}", x.get("rounds_rows_per_s", ())) for kind in ("flow", "ceiling", "ceiling_load")
                    for k, x in w[kind].items()]
            if any(len(r) > 1 for _, r in runs):
                per_workload.append(f"{n} " + ", ".join(f"{k} " + "/".join(_n(v) for v in r) for k, r in runs))
        if per_workload:
            L += ["", "Each configuration ran once per round, rounds one after another; the table shows each one's "
                  "best round. Every round (rows/s): " + "; ".join(per_workload) + "."]
        loads = [(n, w) for n, w in inc.items() if w.get("ceiling_load")]
        if loads:
            L += ["", "The flow writes rows expected new with `LOAD DATA LOCAL` (`[incremental] load_rows`); the "
                  "ceiling above upserts every row, as the issue's goals were set against it. The same ceiling "
                  "loading the rows of INSERT changes the way the flow does (bench/ceiling.py `load=True`), "
                  "same run:", "",
                  "| workload | ceiling with loads 1 proc | 2 procs | flow/it -w 1 | -p 2 | scaling vs it |",
                  "|---|---|---|---|---|---|"]
            for name, w in loads:
                f, c, r = w["flow"], w["ceiling_load"], w.get("ratio_load", {})
                sc = None
                if "w1" in f and "p2" in f and "1" in c and "2" in c:
                    sc = round((f["p2"]["rows_per_s"] / f["w1"]["rows_per_s"]) / (c["2"]["rows_per_s"] / c["1"]["rows_per_s"]), 3)
                L.append("| " + " | ".join([name, _n(c.get("1", {}).get("rows_per_s")), _n(c.get("2", {}).get("rows_per_s")),
                                            _n(r.get("w1")), _n(r.get("p2")), _n(sc)]) + " |")
        busy = [(n, w) for n, w in inc.items()
                if any(x.get("machine_cores_busy") is not None for k in ("flow", "ceiling") for x in w[k].values())]
        if busy:
            cpus = res.get("cpus") or os.cpu_count() or 1
            L += ["", f"Whole-machine cores busy in each best round's window (of {cpus}: flow or ceiling, target "
                  "server and Kafka together), and what it means for the scaling goal: a second process can add "
                  "at most the cores the first left idle, so at the same machine CPU per row flow -p 2 / -w 1 "
                  f"<= {cpus} / (cores busy at -w 1); the goal asks for 0.9 x ceiling 2 / 1.", "",
                  "| workload | flow -w 1 | flow -p 2 | ceiling 1 | ceiling 2 | ceiling 4 | flow p2/w1 | its bound | goal asks |",
                  "|---|---|---|---|---|---|---|---|---|"]
            for name, w in busy:
                f, c = w["flow"], w["ceiling"]
                cb = [_n(x.get(k, {}).get("machine_cores_busy")) for x, k in
                      ((f, "w1"), (f, "p2"), (c, "1"), (c, "2"), (c, "4"))]
                got = bound = need = None
                if "w1" in f and "p2" in f:
                    got = round(f["p2"]["rows_per_s"] / f["w1"]["rows_per_s"], 3)
                    w1c = f["w1"].get("machine_cores_busy")
                    bound = round(cpus / w1c, 3) if w1c else None
                if "1" in c and "2" in c:
                    need = round(0.9 * c["2"]["rows_per_s"] / c["1"]["rows_per_s"], 3)
                L.append("| " + " | ".join([name] + cb + [_n(got), _n(bound), _n(need)]) + " |")
        L += ["", "Start-up of the flow (process start to first commit) is excluded above; "
              "with it: " + "; ".join(f"{n} " + "/".join(_n(x["rows_per_s_wall"]) for x in w["flow"].values())
                                      for n, w in inc.items()) + " rows/s.", ""]
    a = res.get("apply_ceiling")
    if a:
        L += ["## Apply ceiling without Kafka or decode (pre-built rows, OLTP table, new keys)", "",
              "| method | rows | rows/s |", "|---|---|---|"]
        for k, v in a["upsert"].items():
            L.append(f"| multi-row upsert, {k} process(es), 1000 rows/stmt | {_n(v['rows'])} | {_n(v['rows_per_s'])} |")
        L.append(f"| LOAD DATA LOCAL INFILE (PyMySQL) | {_n(a['load_data']['rows'])} | {_n(a['load_data']['rows_per_s'])} |")
        L.append("")
    d = res.get("delay")
    if d:
        L += [f"## Delay at half load (mix workload, flow -w 1, {d.get('shards', 8)} shards)", "",
              f"After {d.get('warmup_s')} s of warm-up at the same rate (max delay during warm-up: "
              f"{d.get('warmup_max_ms')} ms; shards connect on their first change). Median by thirds of the "
              f"window: {d.get('p50_ms_by_third')} ms (rising = a growing backlog).", "",
              "| offered rows/s | achieved | seconds | txns | p50 ms | p99 ms | max ms | (poll-time p50/p99/max ms) | peak RSS MiB |",
              "|---|---|---|---|---|---|---|---|---|",
              f"| {_n(d['offered_rows_per_s'])} | {_n(d['achieved_rows_per_s'])} | {d['seconds']} | {_n(d['txns'])} | "
              f"{d['p50_ms']} | {d['p99_ms']} | {d['max_ms']} | {d['poll_p50_ms']}/{d['poll_p99_ms']}/{d['poll_max_ms']} | "
              f"{d['peak_rss_mib']} |", ""]
        if d.get("flow_cpu_us_per_row") is not None:
            L += [f"While the producer ran (warm-up included): flow CPU {d['flow_cpu_us_per_row']} us per row, target "
                  f"{d.get('target_cpu_us_per_row')} us per row, the whole machine {d.get('machine_cores_busy')} cores busy "
                  f"(of 2; producer and Kafka included).", ""]
        st = d.get("target_settle")
        if st:
            b, a = st["before"], st["after"]
            L += [f"Before it the target was let settle ({st['waited_s']} s, settled: {st['settled']}): dirty pages "
                  f"{_n(b.get('innodb_buffer_pool_pages_dirty'))} -> {_n(a.get('innodb_buffer_pool_pages_dirty'))}, "
                  f"redo checkpoint age {_n(b.get('innodb_checkpoint_age'))} -> {_n(a.get('innodb_checkpoint_age'))} "
                  f"bytes, purge history {_n(b.get('innodb_history_list_length'))} -> "
                  f"{_n(a.get('innodb_history_list_length'))} (bench/env.py settle_target).", ""]
    f = res.get("full_load")
    if f:
        L += ["## Full load (every column kind; same tables for all three)", "",
              "| run | rows | seconds | rows/s | peak RSS MiB | equal to source |", "|---|---|---|---|---|---|"]
        for k in ("small_w1", "w1", "p2", "dump_pipe"):
            v = f[k]
            L.append(f"| {k} | {_n(v['rows'])} | {v['seconds']} | {_n(v['rows_per_s'])} | "
                     f"{_n(v.get('peak_rss_mib'))} | {'yes' if v['equal'] else 'no'} |")
        L += ["", f"Best full load / dump pipe: **{f['ratio_best_vs_dump']}x**", ""]
        for v in f.get("verify", []):
            L.append(f"- `tidb2mysql verify --lanes {v['lanes']}` of the same tables (clean): {_n(v['rows'])} rows, "
                     f"{v['chunks']} chunks, {v['seconds']} s, **{_n(v['rows_per_s'])} rows/s**")
        if f.get("verify"):
            L.append("")
    ft = res.get("full_load_tidb")
    if ft:
        L += [f"## Full load from TiDB ({ft['source']}; the same tables; peer: dumpling, loaded with the mariadb client)",
              "", "| run | rows | seconds | rows/s | equal to TiDB |", "|---|---|---|---|---|"]
        for k in ("w1", "p2", "dumpling_pipe"):
            v = ft[k]
            L.append(f"| {k} | {_n(v['rows'])} | {v['seconds']} | {_n(v['rows_per_s'])} | {'yes' if v['equal'] else 'no'} |")
        d = ft["dumpling_pipe"]
        L += ["", f"Best full load / dumpling pipe: **{ft['ratio_best_vs_dumpling']}x** (dumpling alone "
                  f"{d['dump_seconds']} s of {d['seconds']} s)", ""]
        if not d["equal"]:
            L += ["The dumpling pipeline's copy differs from TiDB:", "", "```", d["difference"], "```", ""]
    sh = res.get("table_shapes")
    if sh:
        L += ["## Incremental per table shape (-w 2, startup included; 60 % inserts, 25 % updates, 15 % deletes)", "",
              "| shape | changes | rows/s | seconds |", "|---|---|---|---|"]
        for shape, r in sh.items():
            L.append(f"| {shape} | {_n(r['changes'])} | {_n(r['rows_per_s'])} | {r['seconds']} |")
        L.append("")
    tc = res.get("ticdc")
    if tc:
        L += [f"## Incremental from TiCDC ({tc['format']}, {tc['partitions']} partitions, {tc['dispatcher']} dispatcher)"
              f" next to Drainer; workload {tc['workload']}, {_n(tc['rows'])} rows", "",
              "| input | flow | rows/s | rows/s (startup included) | peak RSS MiB |", "|---|---|---|---|---|"]
        for label, r in tc["flow"].items():
            L.append(f"| TiCDC | {label} | {_n(r['rows_per_s'])} | {_n(r['rows_per_s_wall'])} | {r['peak_rss_mib']} |")
        d = tc.get("drainer_w1")
        if d:
            L.append(f"| Drainer | w1 | {_n(d['rows_per_s'])} | {_n(d['rows_per_s_wall'])} | {d['peak_rss_mib']} |")
        L.append(f"Target after TiCDC and Drainer flows identical: {tc.get('target_equal')}.")
        L.append("")
    m = res.get("memory")
    if m:
        L += ["## Memory (peak RSS of the flow's process tree, MiB)", "", "| comparison | small | large | large/small |",
              "|---|---|---|---|"]
        for c in m["comparisons"]:
            L.append(f"| {c['what']} | {c['small_mib']} | {c['large_mib']} | {c['growth']} |")
        L.append("")
    L += _servers_md(res.get("server_variables") or {})
    L += ["## Goals", "", "| goal | value | met |", "|---|---|---|"]
    for g in res.get("goals", []):
        v = g["value"]  # a ratio with all its digits: 0.896 is not 0.90
        L.append(f"| {g['goal']} | {v if isinstance(v, float) and v < 10 else _n(v)} | {'yes' if g['met'] else '**no**'} |")
    if res.get("errors"):
        L += ["", "## Errors", ""] + [f"- {e}" for e in res["errors"]]
    return "\n".join(L) + "\n"


# Server settings that decide what a benchmark measures (docs/performance.md, "The target server").
SERVER_VARIABLES = ("version", "innodb_buffer_pool_size", "innodb_log_file_size", "innodb_log_buffer_size",
                    "innodb_flush_log_at_trx_commit", "innodb_flush_method", "innodb_io_capacity",
                    "innodb_io_capacity_max", "innodb_doublewrite", "innodb_change_buffering", "log_bin",
                    "sync_binlog", "max_allowed_packet", "max_connections", "local_infile")


def server_variables() -> dict:
    """The stack servers' settings, read from the servers themselves at bench time."""
    from bench import env  # the stack's config; only when a run records its results
    from tidb2mysql.mysql import db
    cfg = env.load_config()
    names = ",".join(f"'{v}'" for v in SERVER_VARIABLES)
    out = {}
    for role, ep in (("target", cfg.target), ("source", cfg.source)):
        conn = db.connect(ep)
        try:
            with conn.cursor() as cur:
                cur.execute(f"SHOW GLOBAL VARIABLES WHERE Variable_name IN ({names})")
                out[role] = {k: (int(v) if str(v).isdigit() else v) for k, v in cur.fetchall()}
        finally:
            conn.close()
    return out


def _servers_md(sv: dict) -> list:
    t = sv.get("target", {})
    if not t:
        return []
    mib = lambda k: f"{int(t[k]) // 1048576} MiB" if isinstance(t.get(k), int) else str(t.get(k, "-"))  # noqa: E731
    return ["## Target server (read from it at bench time; all variables in results.json)", "",
            f"MariaDB {t.get('version')}: buffer pool {mib('innodb_buffer_pool_size')}, redo log "
            f"{mib('innodb_log_file_size')}, log buffer {mib('innodb_log_buffer_size')}, "
            f"innodb_flush_log_at_trx_commit = {t.get('innodb_flush_log_at_trx_commit')}, flush method "
            f"{t.get('innodb_flush_method')}, io_capacity {t.get('innodb_io_capacity')}/"
            f"{t.get('innodb_io_capacity_max')}, doublewrite {t.get('innodb_doublewrite')}, binlog "
            f"{t.get('log_bin')} (sync_binlog {t.get('sync_binlog')}).", ""]


def write(res: dict, out_dir: Path) -> None:
    if "server_variables" not in res:
        try:
            res["server_variables"] = server_variables()
        except Exception as e:
            res["server_variables"] = {"error": f"{type(e).__name__}: {e}"[:300]}
    res["goals"] = goals(res)
    (out_dir / "results.json").write_text(json.dumps(res, indent=2, default=str) + "\n")
    (out_dir / "results.md").write_text(markdown(res))
