"""Rendering of ``tidb2mysql status`` (pure): verdict wording, Kafka catch-up, delay units."""

from __future__ import annotations

from tidb2mysql.ops.status import FullLoadProgress, Status, _fmt_delay, render


def base(**kw) -> Status:
    st = Status(job="j", meta_schema="tidb2mysql", stage="incremental", shards=8, applied_commit_ts=123,
                delay_seconds=45.0, applied_offset=99, rows_applied=1000, rows_per_second=250.0, threshold_seconds=10)
    for k, v in kw.items():
        setattr(st, k, v)
    return st


def test_caught_up_with_kafka_reads_not_delayed():
    text = render(base(kafka_end_offset=100, caught_up_with_kafka=True, not_delayed=True, ddl={"applied": 2, "failed": 1}))
    assert "end offset 100, applied offset 99: caught up with Kafka" in text
    assert "NOT DELAYED" in text and "250 rows/s" in text
    assert "DDL              2 applied, 1 failed" in text


def test_behind_kafka_counts_messages():
    text = render(base(kafka_end_offset=105, caught_up_with_kafka=False, not_delayed=False))
    assert "5 message(s) behind" in text and "verdict          DELAYED" in text


def test_kafka_unreachable_is_said():
    text = render(base(kafka_error="Kafka unreachable: timeout"))
    assert "Kafka unreachable: timeout; applied offset 99" in text


def test_full_load_progress_line():
    st = base(stage="full load", shards=0, full_load=FullLoadProgress("loading", 42, 2, 1, 3, 2, 230, 300))
    assert "1/2 tables, 2/3 chunks, 230 rows 77% of ~300 rows; snapshot TSO 42" in render(st)


def test_delay_units():
    assert _fmt_delay(None) == "-" and _fmt_delay(5.04) == "5.0s"
    assert _fmt_delay(600) == "10.0min" and _fmt_delay(7200 * 3) == "6.0h"


def test_caught_up_by_commit_ts_and_pending_from_commit_ts():
    text = render(base(applied_offset=-1, kafka_end_offset=25, caught_up_with_kafka=True, caught_up_by_commit_ts=True,
                       kafka_pending=0, not_delayed=True))
    assert "end offset 25, applied offset -1: caught up with Kafka (by commit_ts)" in text
    text = render(base(applied_offset=-1, kafka_end_offset=26, caught_up_with_kafka=False, kafka_pending=1))
    assert "applied offset -1: 1 message(s) behind" in text  # not 26: those before the start are covered


def test_kafka_error_is_said_without_checkpoints():
    text = render(base(shards=0, kafka_error="Kafka u@b:1 (sasl_ssl, SCRAM-SHA-256): SASL ... failed; fix: check"))
    assert "kafka            Kafka u@b:1 (sasl_ssl, SCRAM-SHA-256): SASL ... failed; fix: check" in text
    assert "verdict" not in text
