"""Replication delay at a fixed offered rate (half the measured throughput).

A paced producer (its own process, so its CPU and GIL do not disturb the measuring thread)
publishes the ``mix`` workload in 10-row transactions whose commit_ts is *now* (a real TSO:
physical ms << 18 | logical), while the flow runs (``-w 1``, not stopping at the end).

The delay of a transaction = the time the checkpoint of every shard its rows went to
covered it - the physical time of its commit_ts. Which shards and which positions a
transaction needs is computed with the flow's own :class:`Router`. The checkpoint table is
polled every 50 ms; each distinct position is timed twice:

* ``server``: its ``updated_at`` (TIMESTAMP(3), set by the server in the same transaction
  as the rows, just before COMMIT) - the closer estimate;
* ``poll``: the time the bench first saw it - an upper bound (adds up to one poll interval).

Server and bench share one clock (same machine).
"""

from __future__ import annotations

import bisect
import multiprocessing as mp
import time
from pathlib import Path

from confluent_kafka import Producer

from bench import env, oltp
from bench.procmem import PeakRSS, machine_busy
from bench.threads import target_cpu, tree_cpu
from tidb2mysql.drainer.encode import encode_txn
from tidb2mysql.drainer.wire import _varint as read_varint
from tidb2mysql.events import make_tso
from tidb2mysql.kafka_settings import producer_config
from tidb2mysql.replication.route import Router

def _paced_producer(cfg, topic: str, database: str, rate: float, seconds: float, warmup: float, shards: int,
                    out) -> None:
    """Why everything is encoded first: encoding ~16k rows/s in Python took ~0.75 of a core,
    on a 2-core machine that also runs the flow, Kafka and MariaDB - the delay then measured
    the load generator's CPU more than the flow (Drainer runs on other machines). While
    paced, this process only stamps each message with its commit_ts and produces it."""
    try:
        seconds += warmup
        w = oltp.make_workload("mix", database, int(rate * (seconds + 10)))
        router = Router(shards)
        stamp = make_tso(int(time.time() * 1000), 0)
        plan = []  # (message with a placeholder commit_ts, [(shard, last seq)], rows)
        for txn in oltp.transactions(w, seed=7):
            txn.commit_ts = stamp
            shards = [(s, chunk.changes[-1].seq) for _k, (s, chunk) in router.route_txn(txn)]
            plan.append((encode_txn(txn, "UTC"), shards, txn.row_count))
        p = Producer(producer_config(cfg.kafka, **{"linger.ms": 1, "enable.idempotence": True}))  # in order (oltp.producer)
        need, warm = [], []
        last_ms, logical = 0, 0
        t0 = time.time()
        sent = 0
        for value, shards, rows in plan:
            due = t0 + sent / rate
            now = time.time()
            if due > now:
                time.sleep(due - now)
            elif now - t0 > seconds + 5:
                break
            if time.time() - t0 >= seconds:
                break
            ms = int(time.time() * 1000)
            logical = logical + 1 if ms <= last_ms else 0
            last_ms = max(ms, last_ms)
            ts = make_tso(last_ms, logical)
            p.produce(topic, with_commit_ts(value, ts), partition=0)
            p.poll(0)
            if time.time() - t0 >= warmup:
                need.append((ts, shards))
            else:
                warm.append((ts, shards))
            sent += rows
        p.flush(30)
        out.put({"need": need, "warm": warm, "rows": sent, "seconds": time.time() - t0})
    except BaseException as e:
        out.put({"error": f"paced producer: {type(e).__name__}: {e}"})


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


_HEAD = b"\x08\x00\x10"  # Binlog.type = DML (field 1), then the commit_ts tag (field 2, varint)


def with_commit_ts(message: bytes, commit_ts: int) -> bytes:
    """A Drainer DML message (encode.encode_txn) with its ``commit_ts`` replaced: the field
    follows the type, so only its varint changes (same length for every TSO of this era)."""
    if not message.startswith(_HEAD):
        raise ValueError("not an encode_txn DML message")
    i = len(_HEAD)
    _old, j = read_varint(message, i, len(message))
    new = _varint(commit_ts)
    if len(new) != j - i:
        raise ValueError(f"commit_ts {commit_ts} does not fit the placeholder's {j - i} bytes")
    return message[:i] + new + message[j:]


def _cpu_now(flow_pid: int) -> tuple:
    return time.monotonic(), tree_cpu(flow_pid), target_cpu(), machine_busy()


def _cpu_per_row(a: tuple, b: tuple, rows: int) -> dict:
    """What the paced rows cost, from two :func:`_cpu_now` samples around the producer's life
    (warm-up included): flow and target CPU per row, and the whole machine's busy cores
    (producer and Kafka included). Why: a lower delay bought with smaller flushes costs CPU
    per row, and the headroom left at half load is what absorbs a slow minute."""
    secs = b[0] - a[0]
    us = lambda x, y: round((y - x) / rows * 1e6, 2) if rows and x is not None and y is not None else None  # noqa: E731
    return {"flow_cpu_us_per_row": us(a[1], b[1]), "target_cpu_us_per_row": us(a[2], b[2]),
            "machine_cores_busy": round((b[3] - a[3]) / secs, 2) if secs > 0 and a[3] is not None and b[3] is not None else None}


def _percentile(xs: list[float], q: float) -> float:
    if not xs:
        return float("nan")
    s = sorted(xs)
    return s[min(len(s) - 1, int(round(q * (len(s) - 1))))]


def run_delay(cfg, topic: str, database: str, rate: float, seconds: float, workdir: Path,
              shards: int, warmup: float = 5.0) -> dict:
    """``warmup`` seconds at the same rate come first and are reported apart: the flow opens
    each shard's connection and reads the target's structure when the shard's first change
    arrives, which delays the first transactions by up to several seconds once.

    ``shards``: the flow's ``[incremental] shards``, the same as the throughput flows of the
    run (``--shards``). A transaction's delay ends when the last of the shards its rows went
    to has committed; measured on 2 cores at 29,425 rows/s offered: p99 1,044 / 2,888 /
    2,165 ms with 8 shards, 461-730 ms with 2 (docs/performance.md)."""
    job = env.unique("delay")
    conf = env.flowrun.write_config(workdir / f"{job}.toml", topic=topic, job=job, incremental={"shards": shards})
    log = workdir / f"{job}.log"
    conn = env.target(cfg)
    proc = env.flowrun.start(env.flowrun.incremental_cmd(conf, 1, 1, stop_at_end=False), log)
    mem = PeakRSS(proc.pid)
    seen: dict[int, list] = {s: [] for s in range(shards)}  # shard -> [((ts, seq), server_t, poll_t)]

    def poll():
        with conn.cursor() as cur:
            cur.execute("SELECT shard, commit_ts, seq, UNIX_TIMESTAMP(updated_at) FROM tidb2mysql.checkpoint "
                        "WHERE job = %s", (job,))
            rows = cur.fetchall()
        now = time.time()
        for s, ts, seq, upd in rows:
            lst = seen[int(s)]
            pos = (int(ts), int(seq))
            if not lst or lst[-1][0] != pos:
                lst.append((pos, float(upd), now))
        return rows

    try:
        env.wait(lambda: len(poll()) >= shards and proc.poll() is None, 120, "the flow to start")
        time.sleep(3)  # the flow is up and has read the (empty) topic
        ctx = mp.get_context("spawn")
        out = ctx.Queue()
        prod = ctx.Process(target=_paced_producer, args=(cfg, topic, database, rate, seconds, warmup, shards, out), daemon=True)
        cpu_start = _cpu_now(proc.pid)
        prod.start()
        result = None
        while result is None:
            if proc.poll() is not None:
                raise RuntimeError(f"bench: flow exited {proc.returncode}; log {log}:\n{env.flowrun.tail(log)}")
            poll()
            try:
                result = out.get(timeout=0.05)
            except Exception:
                pass
        cpu_end = _cpu_now(proc.pid)
        prod.join(timeout=30)
        if "error" in result:
            raise RuntimeError(result["error"])
        need = result["need"]
        warm = result["warm"]

        def covered(ts, shards):
            for s, seq in shards:
                lst = seen[s]
                if not lst or lst[-1][0] < (ts, seq):
                    return False
            return True

        deadline = time.time() + 60
        while need and not covered(*need[-1]) and time.time() < deadline:
            poll()
            time.sleep(0.05)
        keys = {s: [p for p, _, _ in lst] for s, lst in seen.items()}

        def delays(txns, when=None):
            server, polled, missing = [], [], 0
            for ts, shards in txns:
                t_srv = t_poll = 0.0
                ok = True
                for s, seq in shards:
                    lst = seen[s]
                    i = bisect.bisect_left(keys[s], (ts, seq))
                    if i == len(lst):
                        ok = False
                        break
                    t_srv = max(t_srv, lst[i][1])
                    t_poll = max(t_poll, lst[i][2])
                if not ok:
                    missing += 1
                    continue
                c = (ts >> 18) / 1000
                server.append(t_srv - c)
                polled.append(t_poll - c)
                if when is not None:
                    when.append(c)
            return server, polled, missing

        commit_s: list[float] = []  # commit time of each measured transaction, in order
        server, polled, missing = delays(need, commit_s)
        warm_server, _, warm_missing = delays(warm)
        missing += warm_missing
    finally:
        peak = mem.stop()
        env.flowrun.kill(proc)
        conn.close()
        env.delete_job(cfg, job)
    if missing:
        raise RuntimeError(f"bench: {missing} of {len(need)} transactions were not applied 60 s after the producer stopped")
    ms = lambda x: round(x * 1000, 1)  # noqa: E731
    third = max(1, len(server) // 3)
    return {
        "shards": shards, "offered_rows_per_s": round(rate), "achieved_rows_per_s": round(result["rows"] / result["seconds"]),  # warm-up included
        "seconds": round(result["seconds"] - warmup, 1), "txns": len(need),
        "warmup_s": warmup, "warmup_max_ms": ms(max(warm_server)) if warm_server else None,
        "p50_ms": ms(_percentile(server, 0.5)), "p99_ms": ms(_percentile(server, 0.99)), "max_ms": ms(max(server)),
        "poll_p50_ms": ms(_percentile(polled, 0.5)), "poll_p99_ms": ms(_percentile(polled, 0.99)),
        "poll_max_ms": ms(max(polled)), "peak_rss_mib": round(peak / 1048576, 1),
        # a backlog that grows shows as a rising p50 from the first to the last third
        "p50_ms_by_third": [ms(_percentile(server[i * third:(i + 1) * third], 0.5)) for i in range(3)],
        # where the slow transactions are: the worst delay of each 10 s of commit time
        "max_ms_by_10s": _max_by_window(commit_s, server, 10.0),
        "checkpoint_gaps": _gaps(seen, commit_s[0] if commit_s else 0.0),
        **_cpu_per_row(cpu_start, cpu_end, result["rows"]),
    }


def _gaps(seen: dict, start: float, top: int = 5) -> dict:
    """Why a transaction was late: the longest pauses between successive checkpoint writes
    of each shard (server time) after ``start``, and for the worst ones how many shards wrote
    nothing during the same pause (all of them = the flow process stalled; one = that
    shard's flush was slow)."""
    times = {s: [t for _p, t, _q in lst if t >= start] for s, lst in seen.items()}
    gaps = []
    for s, ts in times.items():
        gaps.extend((b - a, a, s) for a, b in zip(ts, ts[1:]))
    gaps.sort(reverse=True)
    worst = []
    for g, a, s in gaps[:top]:
        quiet = sum(1 for ts in times.values() if not any(a < t < a + g for t in ts))
        worst.append({"at_s": round(a - start, 1), "shard": s, "gap_ms": round(g * 1000), "shards_quiet": quiet})
    return {"max_ms_by_shard": [round(max((b - a for a, b in zip(ts, ts[1:])), default=0) * 1000)
                                for _s, ts in sorted(times.items())],
            "worst": worst}


def _max_by_window(when: list[float], delay: list[float], window: float) -> list[float]:
    if not when:
        return []
    t0 = when[0]
    out: list[float] = []
    for c, d in zip(when, delay):
        i = int((c - t0) // window)
        while len(out) <= i:
            out.append(0.0)
        out[i] = max(out[i], round(d * 1000, 1))
    return out
