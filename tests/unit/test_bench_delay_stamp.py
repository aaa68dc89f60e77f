"""bench/delay.py stamps pre-encoded Drainer messages with their commit_ts at send time: the
stamped bytes must be exactly what encoding the transaction with that commit_ts writes."""

import time

import pytest

from bench import oltp
from bench.delay import with_commit_ts
from tidb2mysql.drainer.encode import encode_ddl, encode_txn
from tidb2mysql.events import DDL, make_tso


def test_a_stamped_message_is_byte_for_byte_the_message_encoded_with_that_commit_ts():
    now = int(time.time() * 1000)
    for txn in list(oltp.transactions(oltp.make_workload("mix", "d", 300), seed=7))[:30]:
        txn.commit_ts = make_tso(now, 0)
        placeholder = encode_txn(txn, "UTC")
        for ts in (make_tso(now + 1, 0), make_tso(now + 86_400_000, (1 << 18) - 1), make_tso(now, 5)):
            txn.commit_ts = ts
            assert with_commit_ts(placeholder, ts) == encode_txn(txn, "UTC")


def test_a_commit_ts_of_another_length_or_a_ddl_message_is_refused():
    txn = next(oltp.transactions(oltp.make_workload("mix", "d", 10), seed=7))
    txn.commit_ts = make_tso(int(time.time() * 1000), 0)
    msg = encode_txn(txn, "UTC")
    with pytest.raises(ValueError, match="does not fit"):
        with_commit_ts(msg, 5)
    with pytest.raises(ValueError, match="not an encode_txn DML message"):
        with_commit_ts(encode_ddl(DDL(txn.commit_ts, "d", "t", "create table t (id int)")), txn.commit_ts)
