"""The input codec interface: [input] config, the Drainer wrapper, codec_for."""

import pytest

from tidb2mysql.config import ConfigError, parse
from tidb2mysql.drainer.decode import DrainerDecodeError, peek_commit_ts
from tidb2mysql.drainer.encode import encode_ddl, encode_txn
from tidb2mysql.events import DDL, InputDecodeError, Op, KafkaPosition, RowChange, TableChanges, TableSchema, Txn
from tidb2mysql.input.codec import DrainerCodec, InputCodec, codec_for

POS = KafkaPosition("t", 0, 7)
SCHEMA = TableSchema("d", "t", ("id", "v"), ("int", "varchar"), (11, 20), (0, 0), (0,), (("PRIMARY", (0,)),))


def test_input_section_defaults_to_drainer():
    cfg = parse({})
    assert cfg.input.format == "drainer"
    assert isinstance(codec_for(cfg), DrainerCodec)


@pytest.mark.parametrize("fmt", ["ticdc-canal-json", "ticdc-open-protocol"])
def test_ticdc_formats_are_accepted_and_allow_any_partition(fmt):
    cfg = parse({"input": {"format": fmt, "time_zone": "Asia/Shanghai"}, "kafka": {"partition": 3}})
    assert cfg.input.format == fmt
    assert cfg.input.is_ticdc


@pytest.mark.parametrize("data, message", [
    ({"input": {"format": "maxwell"}}, "[input] format: 'maxwell' is not one of"),
    ({"input": {"time_zone": "Mars/Olympus"}}, "[input] time_zone: 'Mars/Olympus' is not an IANA zone"),
    ({"input": {"formt": "drainer"}}, "[input] unknown key(s) formt"),
    ({"kafka": {"partition": 1}}, "[kafka] partition: Drainer writes only partition 0"),
])
def test_input_section_errors(data, message):
    with pytest.raises(ConfigError) as e:
        parse(data)
    assert message in str(e.value)


def test_drainer_codec_decodes_one_event_per_message():
    codec = DrainerCodec("UTC")
    assert isinstance(codec, InputCodec)
    txn = Txn(5 << 18, [TableChanges(SCHEMA, [RowChange(Op.INSERT, (1, "a"), None)])])
    value = encode_txn(txn, "UTC")
    [out] = codec.decode(None, value, POS)
    assert out.commit_ts == txn.commit_ts and out.tables[0].rows[0].new == (1, "a") and out.position == POS
    assert codec.peek_commit_ts(None, value) == txn.commit_ts == peek_commit_ts(value)
    ddl_value = encode_ddl(DDL(9, "d", "t", "ALTER TABLE t ADD c INT"))
    assert codec.decode(None, ddl_value, POS) == [DDL(9, "d", "t", "ALTER TABLE t ADD c INT", POS)]


def test_drainer_decode_error_is_an_input_decode_error():
    with pytest.raises(InputDecodeError) as e:
        DrainerCodec().decode(None, b"\xff\xff", POS)
    assert isinstance(e.value, DrainerDecodeError)
    assert "topic 't' partition 0 offset 7" in str(e.value) and e.value.payload_size == 2


def test_detect_format():
    import orjson

    from tidb2mysql.input import canal_json, open_protocol
    from tidb2mysql.input.codec import detect_format

    txn = Txn(5 << 18, [TableChanges(SCHEMA, [RowChange(Op.INSERT, (1, "a"), None)])])
    assert detect_format(None, encode_txn(txn, "UTC")) == "drainer"
    assert detect_format(None, encode_ddl(DDL(9, "d", "t", "DROP TABLE t"))) == "drainer"
    row = canal_json.encode_row(SCHEMA, txn.tables[0].rows[0], txn.commit_ts)
    assert detect_format(None, row) == "ticdc-canal-json"
    assert detect_format(None, canal_json.encode_watermark(7)) == "ticdc-canal-json"
    plain = orjson.loads(row)
    del plain["_tidb"]
    assert detect_format(None, orjson.dumps(plain)) == "canal-json without enable-tidb-extension"
    assert detect_format(*open_protocol.encode_resolved(7)) == "ticdc-open-protocol"
    assert detect_format(*open_protocol.encode_ddl(DDL(9, "d", "t", "DROP TABLE t"))) == "ticdc-open-protocol"
    assert detect_format(None, b"hello") == "unknown"
    assert detect_format(None, None) == "unknown"
