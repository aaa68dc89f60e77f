"""Issue 16: the incremental flow on TiCDC input, next to the same workload from Drainer.

The "mix" OLTP workload (bench/oltp.py) is published as TiCDC's Kafka sink would with
``protocol=canal-json&enable-tidb-extension=true``, 8 partitions and the index-value
dispatcher (simulator/ticdc.py TiCDCPublisher: one message per row, a resolved event on every
partition every ``WATERMARK_EVERY`` transactions and at the end), then replayed by the real
flow (``[input] format = "ticdc-canal-json"``) with -w 1 and -w 2; the Drainer flow of the
same workload runs once (-w 1) for comparison. Timing as in bench/incremental.py.
"""

from __future__ import annotations

from pathlib import Path

from confluent_kafka import Producer

from bench import env, incremental, oltp
from tidb2mysql.simulator.ticdc import TiCDCOptions, TiCDCPublisher
from tidb2mysql.kafka_settings import producer_config

PARTITIONS = 8
WATERMARK_EVERY = 20  # transactions between resolved events (TiCDC: about once a second)
FORMAT = "ticdc-canal-json"


def publish(cfg, topic: str, w: oltp.Workload, seed: int = 1) -> tuple[int, int]:
    """The workload as TiCDC canal-json messages; returns (last commit_ts, messages)."""
    pub = TiCDCPublisher(TiCDCOptions(FORMAT, PARTITIONS, "index-value"))
    p = Producer(producer_config(cfg.kafka, **{"linger.ms": 20, "queue.buffering.max.messages": 1_000_000,
                                               "enable.idempotence": True}))  # in order (oltp.producer)
    errors: list = []

    def on_delivery(err, _msg):
        if err is not None:
            errors.append(err)

    def send(msgs) -> int:
        for part, key, value in msgs:
            while True:
                try:
                    p.produce(topic, value, key=key, partition=part, on_delivery=on_delivery)
                    break
                except BufferError:
                    p.poll(0.05)
        p.poll(0)
        return len(msgs)

    last = n = txns = 0
    for txn in oltp.transactions(w, seed):
        n += send(pub.txn(txn))
        last = txn.commit_ts
        txns += 1
        if txns % WATERMARK_EVERY == 0:
            n += send(pub.watermark(last))
    n += send(pub.watermark(last))
    if p.flush(120) != 0 or errors:
        raise RuntimeError(f"bench: producing TiCDC messages to {topic} failed: {errors[:3]}")
    w.txns = txns
    return last, n


def run_ticdc(cfg, rows: int, workdir: Path, timeout: float, log=print) -> dict:
    out: dict = {"workload": "mix", "rows": rows, "format": FORMAT, "partitions": PARTITIONS,
                 "dispatcher": "index-value", "flow": {}}
    with env.target_database(cfg, "ticdc") as database:
        w = oltp.make_workload("mix", database, rows)
        want = oltp.expected_names(w)
        with env.topic(cfg, "ticdc", partitions=PARTITIONS) as topic:
            last_ts, msgs = publish(cfg, topic, w)
            out["messages"] = msgs
            for workers in (1, 2):
                oltp.fresh_tables(cfg, w)
                r = incremental.run_flow(cfg, topic, last_ts, rows, workdir, workers=workers, timeout=timeout,
                                         sections={"input": {"format": FORMAT}})
                out["flow"][f"w{workers}"] = r
                oltp.check_run(cfg, w, want, f"ticdc_w{workers}", out, log)
                log(f"ticdc flow -w {workers}: {r}")
        with env.topic(cfg, "ticdc_drainer") as topic:
            last_ts, _ = oltp.publish(cfg, topic, w)
            oltp.fresh_tables(cfg, w)
            out["drainer_w1"] = incremental.run_flow(cfg, topic, last_ts, rows, workdir, timeout=timeout)
            oltp.check_run(cfg, w, want, "drainer_w1", out, log)
            log(f"drainer flow -w 1 (same workload): {out['drainer_w1']}")
    out["target_equal"] = oltp.runs_equal(out)  # TiCDC -w 1, -w 2 and Drainer: the generator's final state
    return out
