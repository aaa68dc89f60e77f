"""Fuzzing the Drainer decoder (bounded, for CI): hostile messages never crash it.

Why: the decoder runs on the one worker that reads the partition; an exception other than
DrainerDecodeError there stops the whole flow, and a value of the wrong Python type (bytes
in a text column) would be written silently. The generator and the contract are in
tests/support/drainer_fuzz.py; `make fuzz` runs the same with a million cases.
"""

from hypothesis import HealthCheck, given, settings

from tests.support.drainer_fuzz import binlog_bytes, check_decode, run
from tidb2mysql.drainer import secondary_binlog_pb2 as pb
from tidb2mysql.drainer.decode import Decoder, DrainerDecodeError

DECODER = Decoder("UTC")


@settings(max_examples=1500, deadline=None, database=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
@given(binlog_bytes())
def test_hostile_messages_decode_or_fail_naming_the_offset(raw):
    check_decode(DECODER, raw)


def test_invalid_utf8_in_string_value_is_a_decode_error_not_bytes():
    b = pb.Binlog(type=pb.DML, commit_ts=5)
    t = b.dml_data.tables.add(schema_name="db", table_name="t")
    t.column_info.add(name="v", mysql_type="varchar")
    m = t.mutations.add(type=pb.Insert)
    c = m.row.columns.add()
    c.ParseFromString(b"\x32\x02\xff\xfe")
    err = check_decode(DECODER, b.SerializeToString(), 42)
    assert isinstance(err, DrainerDecodeError) and "'v'" in str(err) and "UTF-8" in str(err)


def test_invalid_utf8_in_a_table_name_is_a_decode_error():
    b = pb.Binlog(type=pb.DML, commit_ts=5)
    t = b.dml_data.tables.add()
    t.MergeFromString(b"\x0a\x02\xff\xfe")  # schema_name with invalid UTF-8
    err = check_decode(DECODER, b.SerializeToString(), 43)
    assert isinstance(err, DrainerDecodeError) and "UTF-8" in str(err)


def test_the_runner_counts_both_outcomes():
    counts = run(300)
    assert counts["decoded"] > 0 and counts["dead_letter"] > 0
    assert sum(counts.values()) >= 300
