"""Where a flow's CPU goes, per process and thread, next to the target server's.

    .venv/bin/python -m bench.threads [--workload insert] [--rows 300000] [--rounds 2] [w1 p2 ...]

Pre-fills a fresh topic like :mod:`bench.incremental`, then runs each layout (``wN``: ``-w N``,
``pN``: ``-p N``) on fresh tables, alternating them round by round (this machine drifts between
minutes), while sampling the CPU time of every thread of the flow's process tree from /proc. It
prints rows/s, the flow's and the local target's CPU per row, and each thread's CPU seconds
(Bytewax's worker ``timely:work-N``, the shards' writer threads, Bytewax's cluster main thread
``python``, librdkafka's ``rdk:*``).

Why a tool: the measurements behind docs/performance.md ("Where ``-p 2``'s extra CPU goes")
were made with throw-away scripts each session; this keeps the method. Not part of ``make bench``.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Optional

from bench import env, incremental, oltp
from bench.procmem import PeakRSS, _bracket, cores_busy, tree_pids

_HZ = os.sysconf("SC_CLK_TCK")


def stat_cpu(stat: bytes) -> tuple[str, float]:
    """(command name, user + system CPU seconds) of one ``/proc/.../stat`` line; the name may
    hold spaces and parentheses (it runs to the last ')')."""
    name = stat[stat.index(b"(") + 1:stat.rindex(b")")].decode(errors="replace")
    fields = stat[stat.rindex(b")") + 2:].split()
    return name, (int(fields[11]) + int(fields[12])) / _HZ


def _read(path: str) -> Optional[bytes]:
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError:
        return None


class ThreadCPU(PeakRSS):
    """:class:`PeakRSS` that also keeps the last CPU time seen of every thread of the tree
    (``threads``: ``(pid, tid) -> (name, seconds)``; a thread that ended keeps its last sample, so
    up to one interval of CPU at the very end, shutdown, is not counted) and each sample's
    snapshot with its ``time.monotonic()`` (``series``), to take the timed window apart from
    start-up (:func:`window`)."""

    def __init__(self, pid: int, interval: float = 0.1):
        # read only after stop() has joined the sampling thread
        self.threads: dict[tuple[int, int], tuple[str, float]] = {}
        self.series: list[tuple[float, dict[tuple[int, int], tuple[str, float]]]] = []
        self.commands: dict[int, str] = {}
        super().__init__(pid, interval)

    def _run_once(self) -> None:
        for pid in tree_pids(self.pid):
            if pid not in self.commands:
                cmd = _read(f"/proc/{pid}/cmdline")
                if cmd:
                    self.commands[pid] = cmd.replace(b"\0", b" ").decode(errors="replace").strip()
            try:
                tids = os.listdir(f"/proc/{pid}/task")
            except OSError:
                continue
            for tid in tids:
                st = _read(f"/proc/{pid}/task/{tid}/stat")
                if st:
                    self.threads[(pid, int(tid))] = stat_cpu(st)
        self.series.append((time.monotonic(), dict(self.threads)))
        super()._run_once()


def by_thread(threads: dict[tuple[int, int], tuple[str, float]],
              min_seconds: float = 0.05) -> list[tuple[tuple[int, int], str, float]]:
    """``((pid, tid), label, seconds)`` of the threads that used at least ``min_seconds``, largest
    first. Threads are kept apart (the shards' writer threads carry the name of the thread that
    started them); a process's main thread is labelled ``(main)``: in a Bytewax cluster it runs
    no dataflow, only start-up and Bytewax's signal-check loop."""
    out = [((pid, tid), f"{name} (main)" if tid == pid else f"{name} {tid}", round(secs, 2))
           for (pid, tid), (name, secs) in threads.items() if secs >= min_seconds]
    return sorted(out, key=lambda r: (-r[2], r[0]))


def window(series: list[tuple[float, dict]], start: float, end: float) -> dict[tuple[int, int], tuple[str, float]]:
    """Each thread's CPU between the last sample at or before ``start`` and the first at or
    after ``end`` (a thread not yet there at the first of them counts from 0).

    Why: a flow process spends its first ~0.25 s of CPU importing, building the dataflow and
    preparing the target, before the timed window (first commit to last) opens; counted in,
    it looked like a per-row cost of every extra process (docs/performance.md)."""
    if not series:
        return {}
    first, last = _bracket(series, start, end)
    a = first[1] if first is not None else {}
    return {k: (name, secs - (a[k][1] if k in a else 0.0)) for k, (name, secs) in last[1].items()}


def tree_cpu(root: int) -> float:
    """User + system CPU seconds of ``root`` and all its descendants now (a process that
    ended is not counted)."""
    total = 0.0
    for pid in tree_pids(root):
        st = _read(f"/proc/{pid}/stat")
        if st:
            total += stat_cpu(st)[1]
    return total


def target_cpu() -> Optional[float]:
    """CPU seconds of the local stack's MariaDB (None when the target is not the local stack)."""
    pid = _read(str(env.REPO / ".stack" / "target" / "mysqld.pid"))
    st = _read(f"/proc/{pid.decode().strip()}/stat") if pid else None
    return stat_cpu(st)[1] if st else None


def layout(name: str) -> tuple[int, int]:
    """``w2`` -> (2 workers, 1 process); ``p2`` -> (1 worker, 2 processes)."""
    if len(name) < 2 or name[0] not in "wp" or not name[1:].isdigit() or int(name[1:]) < 1:
        raise argparse.ArgumentTypeError(f"layout {name!r}: expected wN (-w N) or pN (-p N), e.g. w1 p2")
    n = int(name[1:])
    return (n, 1) if name[0] == "w" else (1, n)


def main(argv: Optional[list[str]] = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m bench.threads", description=__doc__.split("\n\n")[0])
    ap.add_argument("layouts", nargs="*", default=["w1", "p2"], help="wN (-w N) or pN (-p N); default: w1 p2")
    ap.add_argument("--workload", default="insert", choices=oltp.WORKLOADS)
    ap.add_argument("--rows", type=int, default=300_000)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--set", action="append", default=[], metavar="KEY=INT",
                    help="an [incremental] setting for every run, e.g. --set batch_ms=50 (repeatable)")
    args = ap.parse_args(argv)
    try:
        settings = {k: int(v) for k, v in (kv.split("=", 1) for kv in args.set)}
    except ValueError:
        ap.error(f"--set expects KEY=INT, got {args.set!r}")
    try:
        layouts = [(name, layout(name)) for name in args.layouts]
    except argparse.ArgumentTypeError as e:
        ap.error(str(e))
    cfg = env.load_config()
    with env.target_database(cfg, "threads") as database, env.topic(cfg, "threads") as topic, \
            tempfile.TemporaryDirectory() as tmp:
        w = oltp.make_workload(args.workload, database, args.rows)
        last_ts, _ = oltp.publish(cfg, topic, w)
        for r in range(args.rounds):
            for name, (workers, processes) in layouts:
                oltp.fresh_tables(cfg, w)
                samplers: list[ThreadCPU] = []

                def sampler(pid: int) -> ThreadCPU:
                    samplers.append(ThreadCPU(pid))
                    return samplers[-1]

                m0 = target_cpu()
                t0 = time.monotonic()
                out = incremental.run_flow(cfg, topic, last_ts, args.rows, Path(tmp), workers=workers,
                                           processes=processes, sampler=sampler, settings=settings)
                m1 = target_cpu()
                s = samplers[0]
                start = t0 + out["startup_s"]
                timed = window(s.series, start, start + out["seconds"])
                whole = sum(secs for _name, secs in s.threads.values())
                inside = sum(secs for _name, secs in timed.values())
                maria = f"{(m1 - m0) / args.rows * 1e6:.2f}" if m0 is not None and m1 is not None else "-"
                cores = cores_busy(s.busy, start, start + out["seconds"])
                print(f"{args.workload} {name} round {r + 1}: {out['rows_per_s']:,} rows/s over {out['seconds']} s;"
                      f" flow CPU {inside / args.rows * 1e6:.2f} us/row in that window"
                      f" ({whole / args.rows * 1e6:.2f} with start-up), target {maria} us/row (whole run),"
                      f" machine {'-' if cores is None else f'{cores:.2f}'} cores busy in the window")
                for line in Path(out["log"]).read_text(errors="replace").splitlines():
                    if " flushes, " in line and "worker " in line:  # a worker's progress: rows, flushes
                        print("    " + line[line.index("worker "):])
                print("    in the window / whole run, per thread:")
                for key, label, secs in by_thread(s.threads):
                    print(f"    {timed.get(key, ('', 0.0))[1]:6.2f} / {secs:5.2f} s  {label:22s} pid {key[0]}"
                          f"  {s.commands.get(key[0], '')[-60:]}")
                sys.stdout.flush()


if __name__ == "__main__":
    main()
