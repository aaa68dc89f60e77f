"""drainer/wire.py: a large message decoded slice by slice from its wire index equals the
message parsed whole by the protobuf library, and anything unusual falls back to that."""

from __future__ import annotations

import hypothesis.strategies as st
import pytest
from hypothesis import given, settings

from tidb2mysql.drainer import secondary_binlog_pb2 as pb
from tidb2mysql.drainer.decode import Decoder, DrainerDecodeError
from tidb2mysql.drainer.encode import encode_ddl, encode_txn
from tidb2mysql.drainer.wire import WireBinlog, WireError
from tidb2mysql.events import DDL, Op, KafkaPosition, RowChange, TableChanges, TableSchema, Txn

A = TableSchema("db", "a", ("id", "v", "d"), ("bigint", "varchar", "decimal"), flen=(20, 20, 10), decimal=(0, 0, 2),
                pk=(0,), unique_keys=(("PRIMARY", (0,)),))
B = TableSchema("db", "b", ("k", "x"), ("varchar", "double"), unique_keys=(("k", (0,)),))
POS = KafkaPosition("topic", 0, 42)


def _txn(rows_a: int, rows_b: int, ts: int = 77) -> Txn:
    import decimal

    ra = [RowChange(Op.INSERT, (i, f"v{i}", decimal.Decimal(f"{i}.25")), None) for i in range(rows_a)]
    ra += [RowChange(Op.UPDATE, (i, "new", None), (i, f"v{i}", decimal.Decimal("1.00"))) for i in range(rows_a // 3)]
    rb = [RowChange(Op.DELETE, None, (f"k{i}", i / 3)) for i in range(rows_b)]
    return Txn(ts, [TableChanges(A, ra), TableChanges(B, rb)])


def _slices(d: Decoder, b, size: int):
    out = []
    for ti, n in enumerate(d.mutation_counts(b)):
        for a in range(0, n, size):
            out.append(d.decode_slice(b, POS, ti, a, min(n, a + size)))
    return out


@settings(max_examples=60, deadline=None)
@given(rows_a=st.integers(0, 40), rows_b=st.integers(0, 25), size=st.integers(1, 17), ts=st.integers(-5, 1 << 62))
def test_wire_slices_equal_slices_of_the_whole_parse(rows_a, rows_b, size, ts):
    value = encode_txn(_txn(rows_a, rows_b, ts), "UTC")
    d = Decoder("UTC")
    whole, wire = d.parse(value, POS), d.parse_large(value, POS)
    assert isinstance(wire, WireBinlog) and wire.commit_ts == whole.commit_ts == ts and wire.type == pb.DML
    assert d.mutation_counts(wire) == d.mutation_counts(whole)
    assert _slices(d, wire, size) == _slices(d, whole, size)
    assert wire.SerializeToString() == value  # a dead letter keeps the exact bytes


def test_unusual_messages_are_parsed_whole():
    d = Decoder("UTC")
    value = encode_txn(_txn(3, 2), "UTC")
    b = pb.Binlog()
    b.ParseFromString(value)
    twice = value + pb.Binlog(commit_ts=5).SerializeToString()  # commit_ts twice: protobuf keeps the last
    with pytest.raises(WireError, match="appears twice"):
        WireBinlog(twice)
    parsed = d.parse_large(twice, POS)
    assert not isinstance(parsed, WireBinlog) and parsed.commit_ts == 5
    assert not isinstance(d.parse_large(encode_ddl(DDL(9, "db", "a", "drop table a")), POS), WireBinlog)
    with pytest.raises(DrainerDecodeError, match="offset 42"):
        d.parse_large(value[:-3], POS)  # truncated: the whole parse names the message


def test_a_corrupt_row_fails_its_slice_naming_the_rows():
    d = Decoder("UTC")
    value = bytearray(encode_txn(_txn(6, 0), "UTC"))
    wire = WireBinlog(bytes(value))
    t = wire.tables[0]
    # the 4th mutation's payload: make its first byte an invalid tag (field 0)
    value[t.starts[4] + 2] = 0
    wire = WireBinlog(bytes(value))
    assert len(d.decode_slice(wire, POS, 0, 0, 4).rows) == 4  # the rows before it are fine
    with pytest.raises(DrainerDecodeError, match=r"offset 42.*rows 4-6"):
        d.decode_slice(wire, POS, 0, 4, 6)
