"""Every Drainer mysql_type round-trips native -> encode -> decode -> native, with edge values.

Also checks the exact text/fields the encoder writes (what Drainer writes), and that values
MySQL cannot hold are rejected by the encoder with a clear error.
"""

from __future__ import annotations

import math
import struct
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest

from tidb2mysql.drainer import secondary_binlog_pb2 as pb
from tidb2mysql.drainer.decode import Decoder
from tidb2mysql.drainer.encode import encode_txn
from tidb2mysql.events import Op, KafkaPosition, RowChange, TableChanges, TableSchema, Txn

POS = KafkaPosition("t", 0, 1)


def schema(mysql_type: str, flen: int = 0, decimal: int = 0, unsigned: bool = False) -> TableSchema:
    return TableSchema(
        "db", "tb", ("id", "v"), ("bigint", mysql_type), (20, flen), (0, decimal),
        pk=(0,), unique_keys=(("PRIMARY", (0,)),), unsigned=(1,) if unsigned else (),
    )


def encode_one(value, mysql_type, flen=0, decimal=0, unsigned=False, tz="UTC") -> bytes:
    s = schema(mysql_type, flen, decimal, unsigned)
    return encode_txn(Txn(1, [TableChanges(s, [RowChange(Op.INSERT, (1, value), None)])]), tz)


def column_of(payload: bytes) -> pb.Column:
    b = pb.Binlog()
    b.ParseFromString(payload)
    return b.dml_data.tables[0].mutations[0].row.columns[1]


def roundtrip(value, mysql_type, flen=0, decimal=0, unsigned=False, tz="UTC"):
    payload = encode_one(value, mysql_type, flen, decimal, unsigned, tz)
    txn = Decoder(tz).decode(payload, POS)
    return txn.tables[0].rows[0].new[1]


def set_field(c: pb.Column) -> str:
    names = [f.name for f, _ in c.ListFields()]
    assert len(names) == 1, names
    return names[0]


# ------------------------------------------------------------------ integers

INT_RANGES = {
    "tinyint": (8,), "smallint": (16,), "mediumint": (24,), "int": (32,), "bigint": (64,),
}


@pytest.mark.parametrize("t", list(INT_RANGES))
def test_integer_edges_signed_and_unsigned(t):
    bits = INT_RANGES[t][0]
    for v in (-(1 << (bits - 1)), -1, 0, 1, (1 << (bits - 1)) - 1):
        assert roundtrip(v, t) == v
        assert set_field(column_of(encode_one(v, t))) == "int64_value"
    for v in (0, 1, (1 << bits) - 1):
        assert roundtrip(v, t, unsigned=True) == v
        assert set_field(column_of(encode_one(v, t, unsigned=True))) == "uint64_value"


def test_integer_out_of_range_rejected():
    with pytest.raises(ValueError, match="int64 range"):
        encode_one(1 << 63, "bigint")
    with pytest.raises(ValueError, match="uint64 range"):
        encode_one(-1, "bigint", unsigned=True)
    with pytest.raises(ValueError, match="uint64 range"):
        encode_one(1 << 64, "bigint", unsigned=True)


# ------------------------------------------------------------------ floats


def test_double_exact_and_negative_zero():
    for v in (0.0, 1.5, -1e308, 5e-324, 0.1, 1.7976931348623157e308):
        assert roundtrip(v, "double") == v
    z = roundtrip(-0.0, "double")
    assert z == 0.0 and math.copysign(1, z) == -1


def test_float_widened_from_float32():
    c = column_of(encode_one(0.1, "float", -1, -1))
    assert c.double_value == 0.10000000149011612
    assert roundtrip(0.1, "float", -1, -1) == struct.unpack("f", struct.pack("f", 0.1))[0]
    assert roundtrip(3.4028234663852886e38, "float") == 3.4028234663852886e38


@pytest.mark.parametrize("v", [math.inf, -math.inf, math.nan])
@pytest.mark.parametrize("t", ["float", "double"])
def test_inf_nan_rejected(t, v):
    # MySQL has no NaN or infinity: never write something the target cannot hold.
    with pytest.raises(ValueError, match="NaN or infinity"):
        encode_one(v, t)


def test_float_overflow_rejected():
    with pytest.raises(ValueError, match="float32 range"):
        encode_one(1e39, "float")


# ------------------------------------------------------------------ decimal

D65_MAX = Decimal("9" * 35 + "." + "9" * 30)


@pytest.mark.parametrize(
    "v, text",
    [
        (D65_MAX, "9" * 35 + "." + "9" * 30),
        (Decimal("-" + "9" * 35 + "." + "9" * 30), "-" + "9" * 35 + "." + "9" * 30),
        (Decimal("0"), "0." + "0" * 30),
        (Decimal("-0"), "0." + "0" * 30),
        (Decimal("1E-30"), "0." + "0" * 29 + "1"),
        (Decimal("-12.5"), "-12.5" + "0" * 29),
        (Decimal("1E+34"), "1" + "0" * 34 + "." + "0" * 30),
    ],
)
def test_decimal_65_30_plain_text_with_scale(v, text):
    c = column_of(encode_one(v, "decimal", 65, 30))
    assert c.string_value == text  # never exponent notation, exactly 30 digits
    back = roundtrip(v, "decimal", 65, 30)
    assert back == v and format(back, "f") == text  # str() may use exponents; "f" never


def test_decimal_scale_zero_and_two():
    assert column_of(encode_one(Decimal("-5"), "decimal", 10, 0)).string_value == "-5"
    assert column_of(encode_one(Decimal("0.5"), "decimal", 12, 2)).string_value == "0.50"
    assert roundtrip(Decimal("123.45"), "decimal", 12, 2) == Decimal("123.45")


def test_decimal_too_many_digits_and_nan_rejected():
    with pytest.raises(ValueError, match="more than 2 fractional digits"):
        encode_one(Decimal("1.234"), "decimal", 12, 2)
    with pytest.raises(ValueError, match="NaN or infinity"):
        encode_one(Decimal("NaN"), "decimal", 12, 2)


# ------------------------------------------------------------------ bit


def test_bit_1_and_64_big_endian():
    assert column_of(encode_one(1, "bit", 1)).bytes_value == b"\x01"
    assert column_of(encode_one(0, "bit", 1)).bytes_value == b"\x00"
    assert column_of(encode_one(0x0102, "bit", 10)).bytes_value == b"\x01\x02"
    top = (1 << 64) - 1
    assert column_of(encode_one(top, "bit", 64)).bytes_value == b"\xff" * 8
    for v, flen in ((0, 1), (1, 1), (top, 64), (1 << 63, 64), (5, 3)):
        assert roundtrip(v, "bit", flen) == v
    with pytest.raises(ValueError, match="does not fit BIT"):
        encode_one(256, "bit", 8)


# ------------------------------------------------------------------ dates and times


def test_date_and_zero_dates():
    for v in (date(1000, 1, 1), date(9999, 12, 31), date(2024, 2, 29)):
        assert roundtrip(v, "date") == v
    for z in ("0000-00-00", "2020-00-00", "2020-01-00"):
        assert roundtrip(z, "date") == z
        assert column_of(encode_one(z, "date")).string_value == z
    with pytest.raises(ValueError):
        encode_one("2020-13-01", "date")


@pytest.mark.parametrize("fsp", range(7))
@pytest.mark.parametrize("t", ["datetime", "timestamp"])
def test_datetime_fsp_text_and_roundtrip(t, fsp):
    us = int("123456"[:fsp].ljust(6, "0")) if fsp else 0
    v = datetime(2021, 3, 4, 5, 6, 7, us)
    text = column_of(encode_one(v, t, 0, fsp)).string_value
    assert text == "2021-03-04 05:06:07" + ("." + "123456"[:fsp] if fsp else "")
    assert roundtrip(v, t, 0, fsp) == v


def test_datetime_extra_fraction_rejected():
    with pytest.raises(ValueError, match="fractional"):
        encode_one(datetime(2021, 1, 1, 0, 0, 0, 5), "datetime", 0, 3)


def _parsed(f, s):
    try:
        return f(s)
    except ValueError as e:
        return ("error", str(e))


def test_datetime_fast_path_admits_exactly_what_the_pattern_admits():
    """parse_datetime's fast path (fixed separators + fromisoformat) against the exact path
    (the pattern, then fromisoformat), on valid texts and on >15k near misses: one or two
    characters replaced, inserted or deleted, offsets and suffixes appended, other separators."""
    import random

    from tidb2mysql.drainer.values import _parse_datetime_exact, parse_datetime

    rnd = random.Random(7)
    alphabet = "0123456789 -:.T+Z,_\u0661\uff10ab"
    seeds = ["2021-03-04 05:06:07", "1999-12-31 23:59:59.999999", "2020-02-29 00:00:00.5", "0000-00-00 00:00:00",
             "2020-00-00 00:00:00", "2021-02-29 01:02:03", "9999-12-31 23:59:59.12", "2024-05-06 07:08:09.123"]
    texts = set(seeds)
    for seed in seeds:
        for suffix in ("Z", "+01:00", "-0530", "+01", ".", ".1234567", " ", "\n", ".1Z", ".12+02:00", ".123-05"):
            texts.add(seed + suffix)
        texts.add(seed.replace(" ", "T"))
        texts.add(seed.replace("-", ""))
        for _ in range(4000):
            t = list(seed)
            for _ in range(rnd.randint(1, 2)):
                i = rnd.randrange(len(t) + 1)
                kind = rnd.randrange(3)
                if kind == 0 and i < len(t):
                    t[i] = rnd.choice(alphabet)
                elif kind == 1:
                    t.insert(i, rnd.choice(alphabet))
                elif i < len(t):
                    del t[i]
            texts.add("".join(t))
    assert len(texts) > 15_000
    fast_accepts = 0
    for t in sorted(texts):
        want = _parsed(_parse_datetime_exact, t)
        got = _parsed(parse_datetime, t)
        assert got == want, t
        assert type(got) is type(want), t
        fast_accepts += isinstance(want, datetime)
    assert fast_accepts > 100  # the valid texts are many, not only the seeds


def test_zero_datetime_and_timestamp_not_zone_converted():
    z = "0000-00-00 00:00:00"
    for t in ("datetime", "timestamp"):
        assert roundtrip(z, t, tz="Asia/Shanghai") == z
        assert column_of(encode_one(z, t, tz="Asia/Shanghai")).string_value == z
    assert roundtrip("2020-00-00 00:00:00", "datetime") == "2020-00-00 00:00:00"


def test_timestamp_utc_shanghai_new_york():
    utc = datetime(2020, 1, 1, 0, 0, 0, 500000)
    assert column_of(encode_one(utc, "timestamp", 0, 6)).string_value == "2020-01-01 00:00:00.500000"
    assert column_of(encode_one(utc, "timestamp", 0, 6, tz="Asia/Shanghai")).string_value == "2020-01-01 08:00:00.500000"
    assert column_of(encode_one(utc, "timestamp", 0, 6, tz="America/New_York")).string_value == "2019-12-31 19:00:00.500000"
    summer = datetime(2020, 7, 1, 12, 0)
    assert column_of(encode_one(summer, "timestamp", tz="America/New_York")).string_value == "2020-07-01 08:00:00"
    for tz in ("UTC", "Asia/Shanghai", "America/New_York"):
        for v in (utc, summer, datetime(1970, 1, 1, 0, 0, 1), datetime(2038, 1, 19, 3, 14, 7)):
            fsp = 6 if v.microsecond else 0
            assert roundtrip(v, "timestamp", 0, fsp, tz=tz) == v


def test_timestamp_dst_ambiguous_hour_reads_first_occurrence():
    # 2021-11-07 01:30 happens twice in New York: 05:30 UTC (EDT) and 06:30 UTC (EST).
    # Drainer's text cannot tell them apart; the decoder takes the first (fold=0).
    first, second = datetime(2021, 11, 7, 5, 30), datetime(2021, 11, 7, 6, 30)
    for v in (first, second):
        assert column_of(encode_one(v, "timestamp", tz="America/New_York")).string_value == "2021-11-07 01:30:00"
    assert roundtrip(first, "timestamp", tz="America/New_York") == first
    assert roundtrip(second, "timestamp", tz="America/New_York") == first  # documented loss


@pytest.mark.parametrize("fsp", range(7))
def test_time_fsp(fsp):
    us = int("654321"[:fsp].ljust(6, "0")) if fsp else 0
    v = timedelta(hours=25, minutes=1, seconds=2, microseconds=us)
    frac = "." + "654321"[:fsp] if fsp else ""
    assert column_of(encode_one(v, "time", 0, fsp)).string_value == "25:01:02" + frac
    assert roundtrip(v, "time", 0, fsp) == v
    assert column_of(encode_one(-v, "time", 0, fsp)).string_value == "-25:01:02" + frac
    assert roundtrip(-v, "time", 0, fsp) == -v


def test_time_extremes():
    top = timedelta(hours=838, minutes=59, seconds=59)
    assert column_of(encode_one(top, "time")).string_value == "838:59:59"
    assert column_of(encode_one(-top, "time", 0, 6)).string_value == "-838:59:59.000000"
    assert roundtrip(-top, "time", 0, 6) == -top
    assert roundtrip(top, "time") == top
    assert roundtrip(timedelta(0), "time") == timedelta(0)
    assert roundtrip(timedelta(microseconds=-1), "time", 0, 6) == timedelta(microseconds=-1)
    assert column_of(encode_one(timedelta(microseconds=-1), "time", 0, 6)).string_value == "-00:00:00.000001"
    with pytest.raises(ValueError, match="838"):
        encode_one(top + timedelta(seconds=1), "time")


def test_year():
    for v in (0, 1901, 2155):
        assert roundtrip(v, "year") == v
    assert column_of(encode_one(0, "year")).string_value == "0"
    with pytest.raises(ValueError):
        encode_one(1900, "year")


# ------------------------------------------------------------------ text, binary, json, enum, set


@pytest.mark.parametrize("t", ["char", "varchar", "tinytext", "text", "mediumtext", "longtext"])
def test_text_utf8_and_empty_vs_null(t):
    for v in ("", "a", "héllo", "😀 4-byte \U0010ffff", "x" * 70000):
        assert roundtrip(v, t) == v
    assert roundtrip(None, t) is None
    assert set_field(column_of(encode_one("", t))) == "string_value"
    assert set_field(column_of(encode_one(None, t))) == "is_null"


@pytest.mark.parametrize("t", ["binary", "varbinary", "tinyblob", "blob", "mediumblob", "longblob"])
def test_binary_nul_bytes_and_empty_vs_null(t):
    for v in (b"", b"\x00", b"\x00\xff\x00", bytes(range(256)) * 10):
        assert roundtrip(v, t) == v
    assert roundtrip(None, t) is None
    assert set_field(column_of(encode_one(b"", t))) == "bytes_value"


def test_json_large_and_unicode():
    v = '{"k": [' + ",".join(f'"é{i}😀"' for i in range(50000)) + "]}"
    assert roundtrip(v, "json") == v
    assert column_of(encode_one('{"a": 1}', "json")).bytes_value == b'{"a": 1}'


@pytest.mark.parametrize("t", ["enum", "set"])
def test_enum_set(t):
    for v in (0, 1, 2, 64, (1 << 64) - 1):
        assert roundtrip(v, t) == v
        assert set_field(column_of(encode_one(v, t))) == "uint64_value"


def test_unknown_type_decodes_string(caplog):
    c = pb.Column(string_value="POINT(1 2)")
    from tidb2mysql.drainer.values import decoder_for

    with caplog.at_level("WARNING"):
        assert decoder_for("geometry_xyz", None)(c) == "POINT(1 2)"
        decoder_for("geometry_xyz", None)
    assert sum("geometry_xyz" in r.message for r in caplog.records) == 1  # warned once


def test_wrong_python_type_rejected():
    with pytest.raises(ValueError, match="column 'v'"):
        encode_one("1", "int")
    with pytest.raises(ValueError):
        encode_one(True, "int")
    with pytest.raises(ValueError):
        encode_one("x", "blob")


def test_timestamp_text_as_drainer_wrote_it_in_its_zone():
    from tidb2mysql.drainer.values import decoder_for, zone_for

    dec = decoder_for("timestamp", zone_for("Asia/Shanghai"))
    assert dec(pb.Column(string_value="2020-01-01 08:00:00.5")) == datetime(2020, 1, 1, 0, 0, 0, 500000)
    assert dec(pb.Column(string_value="0000-00-00 00:00:00")) == "0000-00-00 00:00:00"
    # A DST-gap wall time (02:30 on 2021-03-14 does not exist in New York) never comes from
    # Drainer; if it does, fold=0 applies the offset before the jump (EST, UTC-5).
    ny = decoder_for("timestamp", zone_for("America/New_York"))
    assert ny(pb.Column(string_value="2021-03-14 02:30:00")) == datetime(2021, 3, 14, 7, 30)
