"""TiCDC value texts: Go's shortest float formatting and exact float32 parsing (ticdc_values)."""

from __future__ import annotations

import random
import struct

import pytest

from tidb2mysql.drainer.values import check_float32
from tidb2mysql.input.ticdc_values import float32_from_text, float32_text, float64_text


def f32(x: float) -> float:
    return struct.unpack("<f", struct.pack("<f", x))[0]


# Go: strconv.FormatFloat(float64(float32(x)), 'f', -1, 32) and FormatFloat(x, 'f', -1, 64)
@pytest.mark.parametrize("value, text", [
    (f32(0.1), "0.1"),
    (f32(1.0), "1"),
    (f32(-2.5), "-2.5"),
    (f32(123456.789), "123456.79"),
    (f32(16777217.0), "16777216"),
    (f32(3.4028234663852886e38), "340282350000000000000000000000000000000"),
    (f32(1e-45), "0." + "0" * 44 + "1"),
    (-0.0, "-0"),
    (0.0, "0"),
])
def test_float32_text_like_go(value, text):
    assert float32_text(value) == text
    assert float32_from_text(text) == value


@pytest.mark.parametrize("value, text", [
    (0.1, "0.1"), (1e21, "1000000000000000000000"), (1 / 3, "0.3333333333333333"), (-0.0, "-0"),
    (5e-324, "0." + "0" * 323 + "5"), (123.0, "123"),
])
def test_float64_text_like_go(value, text):
    assert float64_text(value) == text
    assert float(text) == value


def test_float32_parse_is_exact_at_midpoints():
    # 1 + 2**-24 is exactly halfway between float32 1.0 and 1 + 2**-23: ties to even -> 1.0
    assert float32_from_text("1.000000059604644775390625") == 1.0
    # a hair above the midpoint rounds up, although its nearest double is the midpoint itself
    assert float32_from_text("1.0000000596046447753906250001") == f32(1 + 2 ** -23)
    assert float32_from_text("-1.0000000596046447753906250001") == -f32(1 + 2 ** -23)


def test_float32_round_trip_random():
    rnd = random.Random(4)
    for _ in range(3000):
        v = struct.unpack("<f", struct.pack("<I", rnd.getrandbits(32)))[0]
        if v != v or v in (float("inf"), float("-inf")):
            continue
        assert float32_from_text(float32_text(v)) == v
        assert check_float32(v) == v


@pytest.mark.parametrize("text", ["nan", "inf", "1e39", "-3.5e38"])
def test_float32_parse_rejects_what_float32_cannot_hold(text):
    with pytest.raises(ValueError):
        float32_from_text(text)
