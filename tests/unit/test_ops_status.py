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


def _tso(seconds: float) -> int:
    return int(seconds * 1000) << 18


def test_caught_up_with_kafka_is_not_enough_when_tidb_binlog_is_off():
    """Issue 20 item 4: binlog off, 209 unreplicated transactions, and status said NOT DELAYED."""
    from tidb2mysql.ops.status import SourceView, Status, judge_source, render

    st = Status(job="j", meta_schema="m", stage="incremental", shards=2, applied_commit_ts=_tso(1000),
                caught_up_with_kafka=True, not_delayed=True, kafka_end_offset=5, applied_offset=4)
    judge_source(st, SourceView(kind="tidb", tso=_tso(1300), log_bin="0", drainers=[]))
    assert not st.not_delayed
    text = render(st)
    assert "verdict          DELAYED" in text and "binlog is OFF" in text and "5.0min after the applied" in text


def test_idle_upstream_with_a_live_drainer_stays_not_delayed():
    from tidb2mysql.ops.status import SourceView, Status, judge_source

    st = Status(job="j", meta_schema="m", stage="incremental", shards=2, applied_commit_ts=_tso(1000),
                caught_up_with_kafka=True, not_delayed=True)
    judge_source(st, SourceView(kind="tidb", tso=_tso(1300), log_bin="1",
                                drainers=[("drainer-1", "online", _tso(1298))]))
    assert st.not_delayed


def test_a_drainer_far_behind_tidb_or_offline_is_delayed():
    from tidb2mysql.ops.status import SourceView, Status, judge_source

    for drainers in ([("d", "online", _tso(1000))], [("d", "paused", _tso(1299))], []):
        st = Status(job="j", meta_schema="m", stage="incremental", shards=1, applied_commit_ts=_tso(1000),
                    caught_up_with_kafka=True, not_delayed=True)
        judge_source(st, SourceView(kind="tidb", tso=_tso(1300), log_bin="ON", drainers=drainers))
        assert not st.not_delayed, drainers


def test_a_source_that_is_not_tidb_keeps_the_kafka_verdict_and_says_so():
    from tidb2mysql.ops.status import SourceView, Status, judge_source

    st = Status(job="j", meta_schema="m", stage="incremental", shards=1, caught_up_with_kafka=True, not_delayed=True)
    judge_source(st, SourceView(kind="other"))
    assert st.not_delayed and any("cannot see TiDB" in n for n in st.notes)
    judge_source(st, SourceView(kind="unreachable", error="cannot connect"))
    assert not st.not_delayed


def test_with_ticdc_input_binlog_and_drainer_do_not_count():
    from tidb2mysql.ops.status import SourceView, Status, judge_source

    st = Status(job="j", meta_schema="m", stage="incremental", shards=1, applied_commit_ts=_tso(1000),
                caught_up_with_kafka=True, not_delayed=True)
    judge_source(st, SourceView(kind="tidb", tso=_tso(1010), log_bin="0", error="SHOW DRAINER STATUS failed"),
                 drainer=False)
    assert st.not_delayed and st.source.error is None and any("TiDB's TSO now" in n for n in st.notes)
