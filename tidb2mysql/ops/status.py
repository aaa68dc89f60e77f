"""``tidb2mysql status``: where a job is, read from the TARGET's meta tables only.

Why only the target: it is the truth about what was applied (checkpoints are written in the
same transaction as the rows), it is reachable from any machine, and it answers while the
flow is down. Kafka is asked only for its end offset, when reachable, to tell "delayed" from
"upstream idle": Drainer sends no heartbeats, so the delay (now minus the physical time of
the applied commit_ts) keeps growing while nothing happens upstream. The job is therefore
"not delayed" when the delay is under the threshold OR every message in Kafka is applied.

"Every message in Kafka is applied" is decided by offsets first: a shard's checkpoint records
the last offset it covered. A flow that started after a snapshot (``start_commit_ts``) and
read nothing since has no offset to record (its checkpoints keep ``kafka_offset = -1``) even
though the messages before its start are in the snapshot; then the messages after the applied
offset are read (the newest :data:`TAIL_WINDOW` of them) and count as applied when their
commit_ts is covered by every shard's position, ``(commit_ts, MAX_SEQ) <= min position``.
Older messages than that window are covered too, because Drainer's commit_ts increase along
the partition (the flow's own start-from-checkpoint search relies on the same).

The Kafka clients here are short-lived and quiet: the end offset comes from an AdminClient
(no consumer group), librdkafka's log lines are collected rather than printed, and a wrong
password or certificate is reported at once with what to fix (kafka_settings.check_connection).
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import Optional

from tidb2mysql.events import tso_physical_ms
from tidb2mysql.ops.fencing import JobControl
from tidb2mysql.mysql.meta import table_exists
from tidb2mysql.mysql.sql import quote_ident


@dataclass
class FullLoadProgress:
    stage: str
    snapshot_ts: Optional[int]
    tables: int
    tables_done: int
    chunks: int
    chunks_done: int
    rows_done: int
    rows_estimated: int


@dataclass
class Status:
    job: str
    meta_schema: str
    stage: str
    control_state: Optional[str] = None
    full_load: Optional[FullLoadProgress] = None
    shards: int = 0
    applied_commit_ts: Optional[int] = None  # min over shards: everything at or below is applied
    delay_seconds: Optional[float] = None
    applied_offset: Optional[int] = None  # min over shards of the last Kafka offset covered
    kafka_end_offset: Optional[int] = None  # high watermark (next offset to be written)
    kafka_error: Optional[str] = None
    caught_up_with_kafka: Optional[bool] = None
    # messages in Kafka not applied yet (None when unknown); with caught_up_with_kafka, 0
    kafka_pending: Optional[int] = None
    # True when the catch-up was decided by commit_ts, not offsets (messages after the applied
    # offset that the start position or a snapshot already covered)
    caught_up_by_commit_ts: bool = False
    not_delayed: bool = False
    threshold_seconds: float = 60.0
    rows_applied: int = 0
    rows_per_second: Optional[float] = None
    dead_letters: int = 0
    # table -> DELETE/UPDATE changes that matched no target row (dead letters of kind divergence)
    divergences: dict = field(default_factory=dict)
    ddl: dict = field(default_factory=dict)  # status -> count
    # DDL not done: "blocked since T: reason" (transient, retried) or "stopped: ..." (failed,
    # waits for `tidb2mysql ddl resolve`), one line each, oldest first
    ddl_waiting: list = field(default_factory=list)
    quarantined: list = field(default_factory=list)  # "db.table (since commit_ts N: reason)"
    last_update: Optional[str] = None
    notes: list = field(default_factory=list)
    # TiDB itself (source_view): its current TSO, binlog and Drainer; None when not asked
    source: Optional["SourceView"] = None

    def to_json(self) -> dict:
        return asdict(self)


@dataclass
class SourceView:
    """What TiDB says right now: the counterpart of the applied position.

    Kafka alone cannot tell "the upstream is idle" from "TiDB commits that never reach Kafka"
    (binlog off, Pump or Drainer down): the topic just stops growing in both cases. TiDB's
    current TSO, ``@@log_bin`` and ``SHOW DRAINER STATUS`` (Drainer's Max_Commit_Ts keeps
    advancing while TiDB is idle, Pump sends it fake binlogs) tell them apart."""

    kind: str = "unknown"  # "tidb", "other" (not TiDB: nothing to compare), "unreachable"
    tso: Optional[int] = None
    log_bin: Optional[str] = None
    drainers: list = field(default_factory=list)  # [(node id, state, max commit ts)]
    error: Optional[str] = None


def read_source(conn) -> SourceView:
    from tidb2mysql.fullload.snapshot import tidb_current_ts

    with conn.cursor() as cur:
        cur.execute("SELECT VERSION()")
        version = str(cur.fetchone()[0])
    if "tidb" not in version.lower():
        return SourceView(kind="other")
    v = SourceView(kind="tidb", tso=tidb_current_ts(conn, RuntimeError))
    with conn.cursor() as cur:
        cur.execute("SELECT @@global.log_bin")
        v.log_bin = str(cur.fetchone()[0])
        try:
            cur.execute("SHOW DRAINER STATUS")
            v.drainers = [(_s(r[0]), _s(r[2]), int(r[3] or 0)) for r in cur.fetchall()]
        except Exception as e:  # noqa: BLE001 - no binlog registry reachable: said in the verdict
            v.error = f"SHOW DRAINER STATUS failed: {e.args[-1] if getattr(e, 'args', None) else e}"
    return v


def _s(v) -> str:
    return v.decode() if isinstance(v, (bytes, bytearray)) else str(v)


def judge_source(st: Status, v: Optional[SourceView], drainer: bool = True) -> None:
    """Fold TiDB's view into the verdict: "not delayed" needs TiDB's commits to reach Kafka.
    ``drainer``: the input is TiDB Binlog (binlog and Drainer checked); False for TiCDC, where
    only TiDB's current TSO is reported."""
    st.source = v
    if v is None or v.kind == "other":
        if st.caught_up_with_kafka:
            st.notes.append("TiDB not asked (source not TiDB or --no-source): \"caught up with Kafka\" cannot see TiDB"
                            " commits that never reached Kafka (binlog off, Pump/Drainer down)")
        return
    if v.kind != "tidb":
        st.not_delayed = False
        st.notes.append(f"cannot ask TiDB ({v.error}): whether its commits reach Kafka is unknown")
        return
    if not drainer:  # TiCDC: binlog and Drainer say nothing about it; TiDB's TSO is still shown
        v = st.source = SourceView(kind=v.kind, tso=v.tso, log_bin=v.log_bin)
    problems = _binlog_problems(st, v) if drainer else []
    if st.applied_commit_ts:
        behind = (tso_physical_ms(v.tso) - tso_physical_ms(st.applied_commit_ts)) / 1000
        st.notes.append(f"TiDB's TSO now is {v.tso}: {_fmt_delay(max(0.0, behind))} after the applied commit_ts")
    if problems:
        st.not_delayed = False
        st.notes.extend(problems)


def _binlog_problems(st: Status, v: SourceView) -> list[str]:
    """Why TiDB's commits would not reach Kafka through TiDB Binlog (empty: they do)."""
    problems = []
    if str(v.log_bin).upper() not in ("1", "ON"):
        problems.append(f"TiDB binlog is OFF (@@log_bin = {v.log_bin}): commits after commit_ts "
                        f"{st.applied_commit_ts} never reach Kafka, so the target is missing them")
    online = [d for d in v.drainers if d[1].lower() == "online"]
    if v.error:
        problems.append(v.error)
    elif not online:
        problems.append("no Drainer is online" + (f" ({', '.join(f'{d[0]}: {d[1]}' for d in v.drainers)})"
                                                   if v.drainers else " (none registered)")
                        + ": TiDB's commits are not written to Kafka")
    else:
        newest = max(d[2] for d in online)
        lag = (tso_physical_ms(v.tso) - tso_physical_ms(newest)) / 1000 if newest else None
        if lag is None or lag >= st.threshold_seconds:
            problems.append(f"Drainer's newest commit_ts {newest} is {_fmt_delay(lag)} behind TiDB (TSO {v.tso}):"
                            " TiDB commits are waiting in Pump/Drainer, not in Kafka")
    return problems


def _rows_applied(cur, m: str, job: str) -> int:
    cur.execute(f"SELECT COALESCE(SUM(rows_applied), 0) FROM {m}.`checkpoint` WHERE job=%s", (job,))
    return int(cur.fetchone()[0])


def read_status(conn, meta: str, job: str, *, kafka_end: Optional[int] = None, kafka_error: Optional[str] = None,
                threshold: float = 60.0, sample_seconds: float = 0.0, now: Optional[float] = None,
                kafka=None, kafka_start: int = 0) -> Status:
    """Everything from the target (``conn``: autocommit); ``kafka_end`` from the caller.

    ``kafka`` (the job's KafkaConfig): when the offsets say "behind", read the messages after
    the applied offset and count those whose commit_ts every shard covers as applied (see the
    module docstring). ``kafka_start``: the partition's low watermark (older messages are gone).
    """
    m = quote_ident(meta)
    st = Status(job=job, meta_schema=meta, stage="not started", threshold_seconds=threshold,
                kafka_end_offset=kafka_end, kafka_error=kafka_error)
    ctl = JobControl(meta, job).load(conn)
    st.control_state = ctl.state if ctl else None
    has = {t: table_exists(conn, meta, t) for t in ("checkpoint", "ddl_history", "dead_letter", "full_load_job", "quarantine",
                                                    "unique_handoff")}
    with conn.cursor() as cur:
        if has["full_load_job"]:
            cur.execute(f"SELECT stage, snapshot_ts FROM {m}.full_load_job WHERE job=%s", (job,))
            row = cur.fetchone()
            if row:
                cur.execute(
                    f"SELECT COUNT(DISTINCT tbl), COUNT(*), COALESCE(SUM(done),0), COALESCE(SUM(rows_done),0),"
                    f" COALESCE(SUM(est_rows),0) FROM {m}.full_load_chunks WHERE job=%s", (job,))
                ntab, nch, nd, rows, est = cur.fetchone()
                cur.execute(f"SELECT COUNT(*) FROM (SELECT tbl FROM {m}.full_load_chunks WHERE job=%s"
                            f" GROUP BY tbl HAVING SUM(done)=COUNT(*)) x", (job,))
                tdone = cur.fetchone()[0]
                st.full_load = FullLoadProgress(row[0], None if row[1] is None else int(row[1]), int(ntab), int(tdone),
                                                int(nch), int(nd), int(rows), int(est))
        cps = []
        if has["checkpoint"]:
            cur.execute(f"SELECT shard, commit_ts, seq, kafka_offset, rows_applied, updated_at FROM {m}.`checkpoint`"
                        f" WHERE job=%s ORDER BY shard", (job,))
            cps = cur.fetchall()
        if has["ddl_history"]:
            cur.execute(f"SELECT status, COUNT(*) FROM {m}.ddl_history WHERE job=%s GROUP BY status", (job,))
            st.ddl = {s: int(n) for s, n in cur.fetchall()}
            cur.execute(f"SELECT commit_ts, status, blocked_since, error, query FROM {m}.ddl_history"
                        f" WHERE job=%s AND status IN ('running', 'failed') ORDER BY commit_ts", (job,))
            for ts, status, since, error, query in cur.fetchall():
                what = f"commit_ts {ts} ({query[:80]})"
                if status == "failed":
                    st.ddl_waiting.append(f"STOPPED at DDL {what}: {error}; decide with"
                                          f" `tidb2mysql ddl resolve --commit-ts {ts} --retry|--skip|--applied-by-hand`")
                elif since is not None:
                    st.ddl_waiting.append(f"DDL blocked since {since}: {error} -- {what}; retried with backoff")
                else:
                    st.ddl_waiting.append(f"DDL running: {what}")
        if has["quarantine"]:
            cur.execute(f"SELECT schema_name, table_name, commit_ts, reason FROM {m}.quarantine WHERE job=%s"
                        f" ORDER BY schema_name, table_name", (job,))
            st.quarantined = [f"{d}.{t} (since DDL at commit_ts {ts}: {r[:200]})" for d, t, ts, r in cur.fetchall()]
        if has["dead_letter"]:
            cur.execute(f"SELECT COUNT(*) FROM {m}.dead_letter WHERE job=%s", (job,))
            st.dead_letters = int(cur.fetchone()[0])
            cur.execute(f"SELECT schema_name, table_name, COUNT(*) FROM {m}.dead_letter WHERE job=%s"
                        f" AND kind='divergence' GROUP BY schema_name, table_name ORDER BY schema_name, table_name",
                        (job,))
            st.divergences = {f"{d}.{t}": int(n) for d, t, n in cur.fetchall()}
        if has["unique_handoff"]:
            cur.execute(f"SELECT COUNT(*), MIN(until_ts) FROM {m}.unique_handoff WHERE job=%s", (job,))
            owed, until = cur.fetchone()
            if owed:
                st.notes.append(f"{int(owed)} row(s) owed by unique-key handoffs (a unique value moved between rows"
                                f" of different shards; each is written again by its shard by commit_ts {until} at"
                                " the latest, else dead-lettered; replication/unique_handoff.py)")
        if cps and sample_seconds > 0:
            first = _rows_applied(cur, m, job)
            time.sleep(sample_seconds)
            st.rows_per_second = max(0, _rows_applied(cur, m, job) - first) / sample_seconds
            cur.execute(f"SELECT shard, commit_ts, seq, kafka_offset, rows_applied, updated_at FROM {m}.`checkpoint`"
                        f" WHERE job=%s ORDER BY shard", (job,))
            cps = cur.fetchall()
    # Stage.
    if st.control_state == "finished":
        st.stage = "finished"
    elif st.full_load is not None and st.full_load.stage in ("loading", "loaded"):
        st.stage = "full load" if st.full_load.stage == "loading" else "full load done"
    elif cps:
        st.stage = "incremental"
    if st.control_state in ("cutover_requested", "stopped"):
        st.notes.append(f"cut-over in progress: {st.control_state}")
    if not cps:
        st.notes.append("no incremental checkpoint yet")
        return st
    st.shards = len(cps)
    st.rows_applied = sum(int(r[4]) for r in cps)
    st.applied_commit_ts = min(int(r[1]) for r in cps)
    st.applied_offset = min(int(r[3]) for r in cps)
    st.last_update = str(max(r[5] for r in cps))
    if st.applied_commit_ts > 0:
        now = time.time() if now is None else now
        st.delay_seconds = max(0.0, now - tso_physical_ms(st.applied_commit_ts) / 1000)
    if kafka_end is not None:
        st.caught_up_with_kafka = st.applied_offset + 1 >= kafka_end
        st.kafka_pending = max(0, kafka_end - st.applied_offset - 1)
        if not st.caught_up_with_kafka and kafka is not None:
            low = min((int(r[1]), int(r[2])) for r in cps)
            first = max(st.applied_offset + 1, kafka_start)
            if st.applied_offset >= 0 and kafka_start > st.applied_offset + 1:
                st.notes.append(f"offsets {st.applied_offset + 1}..{kafka_start - 1} are no longer in Kafka (retention)"
                                " although not every shard recorded them as applied: if no flow read them, their changes"
                                " are lost (copy the affected tables again)")
            try:
                pending = pending_after(kafka, low, first, kafka_end)
            except Exception as e:  # noqa: BLE001 - the offsets' answer stands; say why not better
                st.notes.append(f"could not read the messages after the applied offset to compare commit_ts: {e}")
            else:
                st.kafka_pending = pending
                if pending == 0:
                    st.caught_up_with_kafka = st.caught_up_by_commit_ts = True
                    st.notes.append(f"caught up by commit_ts: the {kafka_end - first} message(s) after the applied"
                                    f" offset are at or below every shard's position (commit_ts {low[0]}): they were"
                                    " in the snapshot or read before the start position")
    st.not_delayed = bool(st.caught_up_with_kafka) or (st.delay_seconds is not None and st.delay_seconds < threshold)
    if st.delay_seconds is not None and st.delay_seconds >= threshold and st.caught_up_with_kafka:
        st.notes.append("all of Kafka is applied; the delay grows while no new binlog arrives (Drainer sends no"
                        " heartbeats to Kafka): the upstream is idle, or its commits do not reach Kafka (see TiDB below)")
    return st


TAIL_WINDOW = 20  # newest messages after the applied offset that status reads to compare commit_ts


@dataclass
class KafkaEnd:
    """The Drainer partition's offsets, or why Kafka could not tell them."""

    end: Optional[int] = None  # high watermark: next offset to be written
    start: int = 0  # low watermark: oldest retained offset
    error: Optional[str] = None
    permanent: bool = False  # a configuration error (authentication, TLS): asking again cannot help


def kafka_offsets(kafka_cfg, timeout: float = 5.0) -> KafkaEnd:
    """Low and high watermark of the Drainer partition through an AdminClient (no consumer
    group, library log lines collected), within about ``timeout`` seconds; a wrong password or
    certificate is reported at once, with the fix."""
    from confluent_kafka import TopicPartition
    from confluent_kafka.admin import OffsetSpec

    from tidb2mysql.kafka_settings import KafkaConnectError, check_connection

    try:
        admin, md = check_connection(kafka_cfg, timeout=timeout, refused_limit=3)
    except KafkaConnectError as e:
        return KafkaEnd(error=str(e), permanent=e.permanent)
    t = md.topics.get(kafka_cfg.topic)  # all topics listed: naming one may auto-create it on the broker
    if t is None or t.error is not None or kafka_cfg.partition not in t.partitions:
        return KafkaEnd(error=f"topic {kafka_cfg.topic!r} partition {kafka_cfg.partition} not found"
                        + (f" ({t.error})" if t is not None and t.error else "")
                        + (f" (with ACLs: can user {kafka_cfg.username!r} Describe it?)" if kafka_cfg.username else ""))
    tp = TopicPartition(kafka_cfg.topic, kafka_cfg.partition)
    try:
        hi = admin.list_offsets({tp: OffsetSpec.latest()}, request_timeout=timeout)[tp].result(timeout=timeout).offset
        lo = admin.list_offsets({tp: OffsetSpec.earliest()}, request_timeout=timeout)[tp].result(timeout=timeout).offset
    except Exception as e:  # noqa: BLE001 - status must answer even when Kafka misbehaves
        return KafkaEnd(error=f"Kafka {kafka_cfg.describe()}: cannot list the offsets of {kafka_cfg.topic!r}: {e}")
    return KafkaEnd(end=int(hi), start=max(0, int(lo)))


def kafka_end_offset(kafka_cfg, timeout: float = 5.0) -> tuple[Optional[int], Optional[str]]:
    """High watermark of the Drainer partition, or (None, why) when Kafka cannot tell it."""
    k = kafka_offsets(kafka_cfg, timeout)
    return k.end, k.error


def pending_after(kafka_cfg, position: tuple[int, int], first: int, end: int, window: int = TAIL_WINDOW,
                  timeout: float = 10.0) -> int:
    """How many messages of ``[first, end)`` are not covered by ``position`` (the lowest shard
    position), judged by commit_ts.

    A message is covered when ``(commit_ts, MAX_SEQ) <= position``; one whose commit_ts cannot
    be read is not. The newest ``window`` messages are read one by one (exact, also for a
    Drainer redelivery among them) up to the first uncovered one, after which everything is
    pending (commit_ts increase along the partition). Only when the oldest message of the
    window is already uncovered are the older ones searched by bisection for the first
    uncovered one (the flow's start-from-checkpoint search does the same).
    """
    from confluent_kafka import Consumer, KafkaError, TopicPartition

    from tidb2mysql.drainer.decode import Decoder
    from tidb2mysql.events import KafkaPosition
    from tidb2mysql.kafka_settings import ClientLog, consumer_config
    from tidb2mysql.replication.route import MAX_SEQ
    from tidb2mysql.replication.source import peek_commit_ts

    if first >= end:
        return 0
    topic, part = kafka_cfg.topic, kafka_cfg.partition
    clog = ClientLog()
    c = Consumer(consumer_config(kafka_cfg, **{"group.id": "tidb2mysql-status", "enable.partition.eof": True},
                                 **clog.config()))
    decoder = Decoder("UTC")  # only commit_ts is read: the zone does not matter
    deadline = time.monotonic() + timeout

    def read_from(off: int):
        """Messages from ``off`` on, one at a time, as (offset, covered)."""
        c.assign([TopicPartition(topic, part, off)])
        while off < end:
            if time.monotonic() >= deadline:
                raise TimeoutError(f"could not read {topic}[{part}] offset {off} within {timeout:g}s"
                                   + (f" ({clog.lines[-1]})" if clog.lines else ""))
            for m in c.consume(min(end - off, 100), 0.5):
                err = m.error()
                if err is not None:
                    if err.code() == KafkaError._PARTITION_EOF or err.retriable():
                        continue
                    raise RuntimeError(str(err))
                if m.offset() < off:
                    continue
                v = m.value() or b""
                ts = peek_commit_ts(v)
                if ts is None:
                    try:
                        ts = decoder.parse(v, KafkaPosition(topic, part, m.offset())).commit_ts
                    except ValueError:
                        ts = None
                off = m.offset() + 1
                yield m.offset(), ts is not None and (ts, MAX_SEQ) <= tuple(position)

    def covered_at(off: int) -> bool:
        for _o, ok in read_from(off):
            return ok
        return True

    try:
        start = max(first, end - window)
        for off, ok in read_from(start):
            if ok:
                continue
            if off > start or start == first:
                return end - off
            # the whole window is pending: bisect [first, start) for the first uncovered message
            lo, hi = first - 1, start  # lo covered (or before the range), hi not
            while hi - lo > 1:
                mid = (lo + hi) // 2
                if covered_at(mid):
                    lo = mid
                else:
                    hi = mid
            return end - hi
        return 0
    finally:
        c.close()


def _fmt_delay(s: Optional[float]) -> str:
    if s is None:
        return "-"
    return f"{s:.1f}s" if s < 120 else f"{s / 60:.1f}min" if s < 7200 else f"{s / 3600:.1f}h"


def render(st: Status) -> str:
    lines = [f"job              {st.job} (meta schema {st.meta_schema})", f"stage            {st.stage}"]
    if st.control_state:
        lines.append(f"cut-over         {st.control_state}")
    fl = st.full_load
    if fl is not None:
        pct = f"{100 * fl.rows_done / fl.rows_estimated:.0f}% of ~{fl.rows_estimated} rows" if fl.rows_estimated else ""
        lines.append(f"full load        {fl.stage}: {fl.tables_done}/{fl.tables} tables, {fl.chunks_done}/{fl.chunks}"
                     f" chunks, {fl.rows_done} rows {pct}; snapshot TSO {fl.snapshot_ts}")
    if st.shards:
        lines.append(f"applied          commit_ts {st.applied_commit_ts} (min over {st.shards} shards),"
                     f" delay {_fmt_delay(st.delay_seconds)}")
        if st.kafka_end_offset is not None:
            pending = st.kafka_pending if st.kafka_pending is not None else \
                st.kafka_end_offset - st.applied_offset - 1
            caught = ("caught up with Kafka" + (" (by commit_ts)" if st.caught_up_by_commit_ts else "")) \
                if st.caught_up_with_kafka else f"{pending} message(s) behind"
            lines.append(f"kafka            end offset {st.kafka_end_offset}, applied offset {st.applied_offset}: {caught}")
        else:
            lines.append(f"kafka            {st.kafka_error or 'not asked'}; applied offset {st.applied_offset}")
        verdict = "NOT DELAYED" if st.not_delayed else "DELAYED"
        basis = "caught up with Kafka" + (" and TiDB's binlog reaches it" if st.source and st.source.kind == "tidb"
                                          else "")
        lines.append(f"verdict          {verdict} (threshold {st.threshold_seconds:g}s or {basis})")
        rate = "-" if st.rows_per_second is None else f"{st.rows_per_second:.0f}"
        lines.append(f"rows             {st.rows_applied} applied, {rate} rows/s; last checkpoint {st.last_update}")
    elif st.kafka_error:
        lines.append(f"kafka            {st.kafka_error}")
    v = st.source
    if v is not None and v.kind == "tidb":
        dr = ", ".join(f"{d[0]} {d[1]} at commit_ts {d[2]}" for d in v.drainers) or v.error or "none registered"
        lines.append(f"TiDB             TSO now {v.tso}, binlog {v.log_bin}, Drainer: {dr}")
    ddl = ", ".join(f"{n} {s}" for s, n in sorted(st.ddl.items())) or "none"
    lines.append(f"DDL              {ddl}")
    lines += [f"DDL waiting      {w}" for w in st.ddl_waiting]
    lines += [f"quarantined      {qt}; its changes go to the dead-letter table (copy it again)"
              for qt in st.quarantined]
    lines.append(f"dead letters     {st.dead_letters}")
    if st.divergences:
        per = ", ".join(f"{t} {n}" for t, n in st.divergences.items())
        lines.append(f"DIVERGED         {sum(st.divergences.values())} delete/update change(s) matched no target row"
                     f" ({per}); see dead_letter kind 'divergence'")
    lines += [f"note             {n}" for n in st.notes]
    return "\n".join(lines)


__all__ = ["TAIL_WINDOW", "FullLoadProgress", "KafkaEnd", "SourceView", "Status", "judge_source", "read_source", "kafka_end_offset", "kafka_offsets",
           "pending_after", "read_status", "render"]
