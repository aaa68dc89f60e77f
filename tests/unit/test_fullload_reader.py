"""Lane start-up decisions: which chunks to skip and where a chunk resumes (pure)."""

from __future__ import annotations

import logging

from tidb2mysql.fullload.chunking import Chunk, TablePlan
from tidb2mysql.fullload.jobstore import ChunkState
from tidb2mysql.fullload.reader import LaneReader


class FakeStore:
    job = "j"

    def __init__(self):
        self.states = []

    def lane_state(self, conn, lane, run, state):
        self.states.append((lane, run, state))


TABLES = [TablePlan("db", "t", ["id", "v"], ["int", "varchar"], ["id"], "primary", 100),
          TablePlan("db", "nokey", ["a"], ["int"], [], "none", 10)]


def chunks():
    return [
        ChunkState(Chunk(0, 0, None, ["50"], 50), 50, ["49"], True),
        ChunkState(Chunk(1, 0, ["50"], None, 50), 20, ["69"], False),
        ChunkState(Chunk(2, 1, None, None, 10), 4, None, False),
    ]


def lane(resume=None, cs=None):
    store = FakeStore()
    r = LaneReader(0, 2, TABLES, chunks() if cs is None else cs, store, snapshot=None, source_conn=None,
                   target_conn=None, page_rows=10, resume=resume)
    return r, store


def test_done_chunks_are_skipped_and_logged(caplog):
    caplog.set_level(logging.INFO)
    r, store = lane()
    assert [c.chunk.chunk for c in r.todo] == [1, 2]
    assert "chunk 0 of db.t already done (50 rows), skipping" in caplog.text
    assert "chunk 1 of db.t resumes after 20 rows (key 69, from the target's chunk record)" in caplog.text
    assert "chunk 2 of db.nokey (no key) restarts from its first row" in caplog.text
    assert store.states == [(0, 2, "connected")]


def test_bytewax_state_wins_when_further():
    r, _ = lane(resume={"chunk": 1, "after": ["80"], "rows": 31})
    assert (r.todo[0].rows_done, r.todo[0].after_key) == (31, ["80"])
    assert r.state() == {"chunk": 1, "after": ["80"], "rows": 31}


def test_target_record_wins_when_further():
    r, _ = lane(resume={"chunk": 1, "after": ["60"], "rows": 11})
    assert (r.todo[0].rows_done, r.todo[0].after_key) == (20, ["69"])


def test_stale_bytewax_state_for_a_done_chunk_is_ignored():
    r, _ = lane(resume={"chunk": 0, "after": ["10"], "rows": 11})
    assert [c.chunk.chunk for c in r.todo] == [1, 2]


def test_lane_with_nothing_left_is_idle_and_finished():
    cs = [ChunkState(Chunk(0, 0, None, None, 5), 5, ["5"], True)]
    r, store = lane(cs=cs)
    assert r.finished and store.states == [(0, 2, "idle")]
    assert r.state() == {"chunk": None, "after": None, "rows": 0}
