"""Fuzzing the TiCDC decoders (bounded, for CI): every mutated message decodes or fails with
TiCDCDecodeError naming topic/partition/offset - never another exception, never a value of
the wrong Python type. Corpus, mutations and contract: tests/support/ticdc_fuzz.py
(``make fuzz`` runs a million plain mutations).
"""

from __future__ import annotations

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.ticdc_fuzz import CANAL, OPEN, POS, check, check_types, mutate_bytes, mutate_json, mutation_run
from tidb2mysql.input import canal_json, open_protocol

SETTINGS = settings(max_examples=400, deadline=None, database=None, derandomize=True,
                    suppress_health_check=list(HealthCheck))


@SETTINGS
@given(st.data())
def test_canal_json_mutations_decode_or_fail_named(data):
    codec = canal_json.CanalJsonCodec("Asia/Shanghai")
    raw = data.draw(st.sampled_from(CANAL))
    if data.draw(st.booleans()):
        value = orjson.dumps(mutate_json(orjson.loads(raw), data))
    else:
        value = mutate_bytes(raw, data)
    check(codec, None, value)


@SETTINGS
@given(st.data())
def test_open_protocol_mutations_decode_or_fail_named(data):
    codec = open_protocol.OpenProtocolCodec("Asia/Shanghai")
    key, value = data.draw(st.sampled_from(OPEN))
    where = data.draw(st.sampled_from(["key", "value", "json"]))
    if where == "key":
        key = mutate_bytes(key, data)
    elif where == "value":
        value = mutate_bytes(value, data)
    else:  # edit the JSON of one framed value, keep the framing right
        parts = open_protocol._chunks(value, "value")
        n = data.draw(st.integers(0, len(parts) - 1))
        if parts[n]:
            parts[n] = orjson.dumps(mutate_json(orjson.loads(parts[n]), data))
        value = open_protocol._framed(parts)
    check(codec, key, value)


def test_unmutated_messages_decode():
    for v in CANAL:
        check_types(canal_json.CanalJsonCodec("Asia/Shanghai").decode(None, v, POS))
    for k, v in OPEN:
        check_types(open_protocol.OpenProtocolCodec("Asia/Shanghai").decode(k, v, POS))


def test_plain_mutation_run():
    counts = mutation_run(3000, seed=7)
    assert counts["decoded"] + counts["dead_letter"] == 3000 and counts["dead_letter"] > 0 and counts["decoded"] > 0
