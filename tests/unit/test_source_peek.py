"""peek_commit_ts reads commit_ts from serialized Binlog bytes without a full parse."""

import pytest

from tidb2mysql.drainer import secondary_binlog_pb2 as pb
from tidb2mysql.replication.source import peek_commit_ts


@pytest.mark.parametrize("ts", [0, 1, 127, 128, 300, 1 << 40, (1_700_000_000_000 << 18) | 12345, (1 << 63) - 1])
@pytest.mark.parametrize("kind", [pb.DML, pb.DDL])
def test_peek_matches_full_parse(ts, kind):
    b = pb.Binlog(type=kind, commit_ts=ts)
    if kind == pb.DDL:
        b.ddl_data.schema_name = "db"
        b.ddl_data.ddl_query = b"create table t (id int)"
    else:
        t = b.dml_data.tables.add(schema_name="db", table_name="t")
        t.column_info.add(name="id", mysql_type="int", is_primary_key=True)
    raw = b.SerializeToString()
    assert peek_commit_ts(raw) == pb.Binlog.FromString(raw).commit_ts == ts


def test_peek_with_type_written_explicitly_as_zero():
    # gogo's non-nullable marshaller writes type even when it is DML (0): 08 00 10 <ts>
    raw = bytes([0x08, 0x00, 0x10, 0x05])
    assert peek_commit_ts(raw) == 5


@pytest.mark.parametrize("raw", [b"", b"\x08", b"\xff\xff", b"\x10\x80", b"garbage bytes", b"\x1a\x00"])
def test_peek_gives_up_on_other_bytes(raw):
    assert peek_commit_ts(raw) is None


def test_an_overlong_or_negative_commit_ts_is_not_trusted():
    """Found by fuzzing: a 10-byte varint carries more than 64 bits; a TSO is never negative."""
    overlong = bytes([0x08, 0x00, 0x10]) + b"\xff" * 9 + b"\x7f"
    assert peek_commit_ts(overlong) is None or 0 <= peek_commit_ts(overlong) < 1 << 63
    negative = bytes([0x08, 0x00, 0x10]) + b"\xff" * 9 + b"\x01"  # -1 as int64
    assert peek_commit_ts(negative) is None
