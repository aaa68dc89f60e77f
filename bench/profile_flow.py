"""Profile the incremental flow's hot path with py-spy (a profiling tool, not a dependency).

    .venv/bin/pip install py-spy        # once, into the venv, for profiling only
    .venv/bin/python -m bench.profile_flow [--workload insert] [--rows 300000] [-p 1]

Pre-fills a fresh topic like :mod:`bench.incremental`, runs the flow under
``py-spy record --subprocesses --format raw`` and prints the functions with the most samples,
by *self* time and by *total* (inclusive) time, so the dominant costs are visible.
"""

from __future__ import annotations

import argparse
import collections
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import env, oltp


def summarize(raw: Path, top: int = 25) -> str:
    self_t: collections.Counter = collections.Counter()
    total_t: collections.Counter = collections.Counter()
    n = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack:
            continue
        c = int(count)
        n += c
        frames = [f.split(" (")[0] + " (" + f.split(" (")[1].split(":")[0].replace(str(env.REPO) + "/", "") + ")"
                  if " (" in f else f for f in stack.split(";")]
        self_t[frames[-1]] += c
        for f in set(frames):
            total_t[f] += c
    out = [f"{n} samples", "", "self time:"]
    out += [f"  {100 * c / n:5.1f}%  {f}" for f, c in self_t.most_common(top)]
    out += ["", "total (inclusive) time:"]
    out += [f"  {100 * c / n:5.1f}%  {f}" for f, c in total_t.most_common(top)]
    return "\n".join(out)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--workload", default="insert", choices=oltp.WORKLOADS)
    ap.add_argument("--rows", type=int, default=300_000)
    ap.add_argument("-p", "--processes", type=int, default=1)
    ap.add_argument("--rate", type=int, default=250, help="py-spy samples per second")
    ap.add_argument("--raw", type=Path, help="also keep py-spy's raw stacks in this file")
    ap.add_argument("--idle", action="store_true", help="also sample waiting threads, one stack per thread (where the flow waits)")
    ap.add_argument("--native", action="store_true", help="also sample native frames (Bytewax's Rust, librdkafka)")
    args = ap.parse_args()
    spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    cfg = env.load_config()
    with env.target_database(cfg, "prof") as database, env.topic(cfg, "prof") as topic, \
            tempfile.TemporaryDirectory() as tmp:
        w = oltp.make_workload(args.workload, database, args.rows)
        oltp.publish(cfg, topic, w)
        conn = env.target(cfg)
        oltp.create_tables(conn, w)
        conn.close()
        job = env.unique("prof")
        conf = env.flowrun.write_config(Path(tmp) / "p.toml", topic=topic, job=job, incremental={"shards": 8})
        raw = Path(tmp) / "profile.txt"
        cmd = [spy, "record", "--subprocesses", "--format", "raw", *(["--idle", "--threads"] if args.idle else []), *(["--native"] if args.native else []), "--rate", str(args.rate), "-o", str(raw), "--"]
        cmd += env.flowrun.incremental_cmd(conf, 1, args.processes, stop_at_end=True)
        t0 = time.monotonic()
        subprocess.run(cmd, check=True, cwd=env.REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        print(f"{args.workload}: {args.rows} rows in {time.monotonic() - t0:.1f}s under py-spy")
        env.delete_job(cfg, job)
        print(summarize(raw))
        if args.raw:
            shutil.copyfile(raw, args.raw)


if __name__ == "__main__":
    main()
