"""decode -> redelivery -> route, incl. large transactions handed out in slices."""

from tidb2mysql.drainer.decode import Decoder
from tidb2mysql.drainer.encode import encode_ddl, encode_txn
from tidb2mysql.events import DDL, Op, KafkaPosition, RowChange, TableChanges, TableSchema, Txn
from tidb2mysql.replication.change import Barrier, ShardChunk, Watermark
from tidb2mysql.replication.pipeline import EndOfInput, Pipeline
from tidb2mysql.replication.route import RUN_BITS, Router
from tidb2mysql.replication.source import MessageSlicer, RawMessage, peek_commit_ts

S = TableSchema("db", "t", ("id", "v"), ("bigint", "varchar"), pk=(0,), unique_keys=(("PRIMARY", (0,)),))


class Clock:
    t = 0.0

    def __call__(self):
        return self.t


def make(letters=None, clock=None):
    return Pipeline(Decoder("UTC"), Router(4), "topic", 0, -1, (letters if letters is not None else []).extend,
                    watermark_interval=1.0, clock=clock or Clock())


def txn_msg(ts, ids, offset):
    v = encode_txn(Txn(ts, [TableChanges(S, [RowChange(Op.INSERT, (i, f"v{i}"), None) for i in ids])]), "UTC")
    return RawMessage(offset, v, ts)


def changes(out):
    return [c for _k, (_s, it) in out if isinstance(it, ShardChunk) for c in it.changes]


def test_redelivered_messages_are_dropped_and_counted():
    p = make()
    out = list(p.process([txn_msg(10, [1], 0), txn_msg(11, [2], 1), txn_msg(10, [1], 2), txn_msg(12, [3], 3)]))
    assert sorted(c.new[0] for c in changes(out)) == [1, 2, 3]
    assert p.redelivered == 1 and p.messages == 3


def test_a_redelivery_is_counted_in_the_metric_and_the_first_is_logged_with_its_place(caplog):
    from tidb2mysql.ops.metrics import METRICS

    before = METRICS.get("redelivered_messages_total", input="drainer") or 0
    p = make()
    with caplog.at_level("INFO", logger="tidb2mysql.replication.pipeline"):
        list(p.process([txn_msg(10, [1], 0), txn_msg(9, [2], 1), txn_msg(10, [1], 2), txn_msg(12, [3], 3)]))
    assert METRICS.get("redelivered_messages_total", input="drainer") - before == 2
    lines = [r.getMessage() for r in caplog.records if "re-delivery" in r.getMessage()]
    assert lines == ["offset 1: commit_ts 9 is not above the last routed 10: skipped as a Drainer re-delivery"
                     " (the first of this run; all are counted)"]


def test_rows_seen_counts_every_row_of_accepted_messages_also_those_other_processes_apply():
    """What a source step is sized by (runtime.step_wants_more): the rows of the messages the
    pipeline accepted, whoever applies them; not a redelivery's, not a DDL's."""
    mine = Pipeline(Decoder("UTC"), Router(4, [0]), "topic", 0, -1, [].extend, watermark_interval=1.0, clock=Clock())
    run = 1 << RUN_BITS  # keys in different runs of the key-runs routing rule, so they spread over shards
    msgs = [txn_msg(10, range(0, 10 * run, run), 0), txn_msg(11, range(10 * run, 30 * run, run), 1), txn_msg(10, [1], 2),
            RawMessage(3, encode_ddl(DDL(12, "db", "t", "alter table t add c int")), 12)]
    out = list(mine.process(msgs))
    assert mine.rows_seen == 30
    assert 0 < len(changes(out)) < 30  # only shard 0's rows were routed here


def test_undecodable_message_goes_to_dead_letters_with_its_offset():
    letters = []
    p = make(letters)
    out = list(p.process([txn_msg(10, [1], 0), RawMessage(1, b"\xff\xffnot protobuf", None), txn_msg(11, [2], 2)]))
    assert len(changes(out)) == 2
    assert [(d.kind, d.offset) for d in letters] == [("decode", 1)] and "offset 1" in letters[0].error


def test_a_raw_message_reads_its_commit_ts_only_when_asked_and_once():
    """The reader hands ``peek`` over instead of reading every message's commit_ts (~1 us per
    message in every process); only stopping at a commit_ts, seeking and dead letters ask."""
    calls = []

    def peek(value):
        calls.append(value)
        return 42

    m = RawMessage(3, b"x", None, None, peek)
    assert calls == []
    assert m.commit_ts == 42 and m.commit_ts == 42
    assert calls == [b"x"]
    assert RawMessage(3, b"x", 7).commit_ts == 7 and RawMessage(3, b"x", None).commit_ts is None
    assert RawMessage(3, b"x", None, None, lambda v: None).commit_ts is None


def test_a_dead_letter_names_the_commit_ts_peeked_from_the_bytes_that_failed():
    """Lazily read commit_ts still reaches the dead letter of a message whose envelope is
    readable but whose body is not."""
    letters = []
    p = make(letters)
    good = txn_msg(10, [1], 0).value
    broken = good[:-3]  # the envelope (type, commit_ts) intact, the last row cut
    out = list(p.process([RawMessage(5, broken, None, None, peek_commit_ts)]))
    assert not changes(out)
    assert [(d.offset, d.commit_ts) for d in letters] == [(5, 10)]


def test_ddl_becomes_a_barrier_for_every_shard():
    p = make()
    out = list(p.process([RawMessage(0, encode_ddl(DDL(5, "db", "t", "alter table t add c int")), 5)]))
    assert [s for _k, (s, it) in out if isinstance(it, Barrier)] == [0, 1, 2, 3]


def test_slices_route_like_the_whole_message_and_no_watermark_covers_a_partial_one():
    ids = list(range(100))
    whole = txn_msg(20, ids, 7)
    expected = sorted((c.commit_ts, c.seq, c.new) for c in changes(make().process([whole])))
    clock = Clock()
    p = make(clock=clock)
    d = Decoder("UTC")
    b = d.parse(whole.value, KafkaPosition("topic", 0, 7))
    slicer = MessageSlicer(7, b, d.mutation_counts(b), max_rows=30)
    got, watermarks = [], []
    list(p.process([txn_msg(19, [1000], 6)]))
    while not slicer.done:
        clock.t += 2  # a watermark is due on every call
        out = list(p.process([slicer.next_slice()]))
        got += changes(out)
        watermarks += [it.commit_ts for _k, (_s, it) in out if isinstance(it, Watermark)]
    assert sorted((c.commit_ts, c.seq, c.new) for c in got) == expected
    assert watermarks and max(watermarks[:-4]) == 19  # while slicing: only the previous message
    assert watermarks[-1] == 20  # after the last slice the transaction is complete
    end = list(p.process([EndOfInput(20)]))
    assert {it.commit_ts for _k, (_s, it) in end} == {20} and all(it.force for _k, (_s, it) in end)


def test_a_source_step_reads_on_only_while_full_polls_carry_too_few_own_rows():
    from tidb2mysql.replication.runtime import MAX_POLLS_PER_STEP, step_wants_more

    # one process owns every row: its first poll is the whole step (-w 1 as before)
    assert not step_wants_more(1, True, owned_rows=5000, first_poll_rows=5000)
    # -p 2: half the rows of the first poll are its own -> one more poll, then enough
    assert step_wants_more(1, True, owned_rows=2500, first_poll_rows=5000)
    assert not step_wants_more(2, True, owned_rows=5000, first_poll_rows=5000)
    # a poll that was not full (caught up, a large message, a barrier or watermark): stop at once
    assert not step_wants_more(1, False, owned_rows=0, first_poll_rows=5000)
    # a process that applies none of these rows reads at most MAX_POLLS_PER_STEP polls
    assert step_wants_more(MAX_POLLS_PER_STEP - 1, True, owned_rows=0, first_poll_rows=5000)
    assert not step_wants_more(MAX_POLLS_PER_STEP, True, owned_rows=0, first_poll_rows=5000)
    # nothing seen (all redeliveries or DDL): nothing to fill
    assert not step_wants_more(1, True, owned_rows=0, first_poll_rows=0)
