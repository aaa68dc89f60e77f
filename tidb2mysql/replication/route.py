"""Routing: which shard applies which row change.

A shard is one Bytewax state key; a fixed number of them is spread over all workers and
processes. Rules (see docs/architecture.md, "Guarantees"):

* Tables with a primary key and no secondary unique key: shard = hash(table, primary key).
  Changes to one row always meet in the same shard, in stream order.
* Tables without a primary key whose message lists exactly ONE unique key: that key is the
  row identity, as MySQL makes a NOT NULL unique key the clustered key. A change whose key
  values are all non-NULL goes to shard = hash(table, key) with a derived schema that names
  the key as its primary key (:func:`row_key_schema`), so it is merged and upserted like a
  primary-key table. A change whose key holds a NULL (the key is nullable: Drainer does not
  say, so this is decided per row) has no identity: it goes to the table's shard with the
  key-less schema and is applied in order with whole-row matching. The two never interfere:
  a NULL-keyed row never equals a keyed one, and NULLs never collide in a unique index.
* Tables with a primary key and a secondary unique key: under ``key-runs-1024-spread-unique``
  (the new jobs' rule) and an all-integer primary key, by primary key like any keyed table; a
  unique value that moves between rows of different shards is resolved in the target by the
  flush that meets it (replication/unique_handoff.py, :func:`spreads_unique_table` says why
  integers). Otherwise, and for other tables without a primary key (none, or several unique
  keys): the whole table goes to one shard (hash of the table name), so the unique
  constraints and the "ordered" full-row matching see every change in order.
* A primary-key-changing UPDATE becomes ``DELETE(old key)`` + ``INSERT(new image)``; the two
  halves may land in different shards (they are different rows). The same holds for the
  unique key of a unique-key-only table, each half routed by its own image's key.
* A DDL becomes a :class:`Barrier` copy for every shard; a :class:`Watermark` likewise.
* A row change another process owns may reach the router *undecoded* (``new`` and ``old``
  both None, see :meth:`Router.interest`): it counts for ``seq`` and goes nowhere.

The shard of a key is ``crc32(table, key text) % shard_count`` under the job's *routing rule*,
stable across processes and runs: a job keeps the rule it was created with (stored in its
checkpoint rows, like its shard count):

* ``key-runs-1024`` (the default of ``[incremental] routing`` for new jobs before
  ``key-runs-1024-spread-unique``): the key's last
  column, when it is an integer, is hashed as ``value >> 10``, so runs of 1,024 consecutive
  values share a shard.
  Why: with every key hashed on its own, sequential keys (AUTO_INCREMENT, the common case)
  were spread over all shards, so the shards' writers filled the same target B-tree pages
  concurrently, each inserting between the other's rows: pages split half-empty. Measured on
  1M sequential inserts at ``-p 2``: 44 InnoDB pages created per 1,000 rows instead of 17 (the
  table 2.6x its size), 630 KB of redo per 1,000 rows instead of 288, and MariaDB ~0.6 us more
  CPU per row (docs/performance.md). Runs keep a shard's rows together in the index, while
  changes still spread over shards at any realistic rate (1,024 rows is a fraction of a batch).
* ``key-runs-1024-spread-unique`` (the default for new jobs): the same hash, and tables with a
  secondary unique key spread too (above). Why: such a table applied whole by one shard could
  not use a second process at all (bench unique-key workload ``-p 2`` / ``-w 1`` 0.91-0.97;
  spread 1.19-1.25, docs/performance.md "Nineteenth session").
* ``hash`` (jobs created before it, or new jobs configured so): the whole key hashed as it is.
  Why a user may choose it: key runs put a hot set of recent keys (rows updated soon after
  their insert) on one or two shards, while whole-key hashing spreads it over every shard.
"""

from __future__ import annotations

import dataclasses
import logging
import zlib
from dataclasses import dataclass
from typing import Any, Callable, Collection, Iterable, Iterator, Optional

from tidb2mysql.config.incremental import ROUTING_HASH, ROUTING_KEY_RUNS, ROUTING_RULES, ROUTING_SPREAD_UNIQUE
from tidb2mysql.drainer.values import INT_TYPES
from tidb2mysql.drainer.decode import UnwalkedRows
from tidb2mysql.events import DDL, Op, TableSchema, Txn
from tidb2mysql.replication.change import Barrier, Change, ShardChunk, ShardChunks, Watermark

log = logging.getLogger(__name__)

MAX_SEQ = 1 << 62  # a position (ts, MAX_SEQ) means "all of transaction ts"

# Enum members as module constants: ``Op.UPDATE`` is a class attribute lookup of ~70 ns on
# Python 3.11, paid per row change in the hot loop of route_txn.
_INSERT, _UPDATE, _DELETE = Op.INSERT, Op.UPDATE, Op.DELETE
_crc32 = zlib.crc32

# ---------------------------------------------------------------------------------------
# Shard state keys. Bytewax places state key k on worker SipHash13(k + 0xFF) % workers
# (research/bytewax.md section 3). Key names are fixed forever (Bytewax snapshots are keyed by
# them, so they must not depend on the worker count); we pick, per shard i, the first name
# "shard-i" / "shard-i.j" whose hash lands on worker i % 8, which balances shards evenly for
# 1, 2, 4 and 8 workers. Correctness never depends on this, only balance.


def _rotl(x: int, b: int) -> int:
    return ((x << b) | (x >> (64 - b))) & 0xFFFFFFFFFFFFFFFF


def _siphash13(data: bytes) -> int:
    import struct

    m64 = 0xFFFFFFFFFFFFFFFF
    v0, v1, v2, v3 = 0x736F6D6570736575, 0x646F72616E646F6D, 0x6C7967656E657261, 0x7465646279746573

    def rnd(v0, v1, v2, v3):
        v0 = (v0 + v1) & m64
        v1 = _rotl(v1, 13) ^ v0
        v0 = _rotl(v0, 32)
        v2 = (v2 + v3) & m64
        v3 = _rotl(v3, 16) ^ v2
        v0 = (v0 + v3) & m64
        v3 = _rotl(v3, 21) ^ v0
        v2 = (v2 + v1) & m64
        v1 = _rotl(v1, 17) ^ v2
        v2 = _rotl(v2, 32)
        return v0, v1, v2, v3

    n = len(data)
    end = n - n % 8
    for i in range(0, end, 8):
        m = struct.unpack_from("<Q", data, i)[0]
        v3 ^= m
        v0, v1, v2, v3 = rnd(v0, v1, v2, v3)
        v0 ^= m
    b = (n & 0xFF) << 56 | int.from_bytes((data[end:] + b"\0" * 7)[:7], "little")
    v3 ^= b
    v0, v1, v2, v3 = rnd(v0, v1, v2, v3)
    v0 ^= b
    v2 ^= 0xFF
    for _ in range(3):
        v0, v1, v2, v3 = rnd(v0, v1, v2, v3)
    return v0 ^ v1 ^ v2 ^ v3


def bytewax_worker_for_key(key: str, worker_count: int) -> int:
    """The worker Bytewax 0.21.1 assigns a state key to (verified in research/bytewax.md)."""
    return _siphash13(key.encode() + b"\xff") % worker_count


def shard_key_names(shard_count: int, balance_for: int = 8) -> list[str]:
    names = []
    for i in range(shard_count):
        want = i % balance_for
        name = f"shard-{i}"
        j = 0
        while bytewax_worker_for_key(name, balance_for) != want:
            j += 1
            name = f"shard-{i}.{j}"
        names.append(name)
    return names


def shards_of_process(shard_count: int, process: int, workers_per_process: int, processes: int) -> list[int]:
    """The shards whose Bytewax state key lives on a worker of ``process``.

    Bytewax numbers workers ``process * workers_per_process + thread``; a state key's worker
    is :func:`bytewax_worker_for_key`. The reader of a process routes only to these shards,
    so the keyed apply step never moves an item to another process.
    """
    total = workers_per_process * processes
    keys = shard_key_names(shard_count)
    return [s for s, k in enumerate(keys) if bytewax_worker_for_key(k, total) // workers_per_process == process]


def shard_index_of_key(key: str) -> int:
    return int(key.split("-", 1)[1].split(".", 1)[0])


# ---------------------------------------------------------------------------------------


def _key_text(values: Iterable) -> bytes:
    return "\x1f".join(map(repr, values)).encode("utf-8", "surrogatepass")


def _table_seed(schema: TableSchema) -> int:
    """crc32 of the table prefix of every row key of ``schema``: the running value
    :func:`_key_hash` continues from (``crc32(prefix + key) == crc32(key, crc32(prefix))``)."""
    return zlib.crc32(f"{schema.schema}.{schema.table}\x1e".encode())


def _key_hash(seed: int, key: tuple) -> int:
    """``crc32(table prefix + key text)``, the shard function's hash of one row key.

    Why the fast path: every process hashes the key of every row of the topic (also of the
    rows other processes apply); a one-column key skips the join (same bytes: the text of a
    one-value key is its ``repr``)."""
    if len(key) == 1:
        return _hash_one(seed, key[0])
    return _crc32(_key_text(key), seed)


def _hash_one(seed: int, value) -> int:
    """``_key_hash(seed, (value,))`` without the tuple (the hot loops' one-column keys)."""
    return _crc32(repr(value).encode("utf-8", "surrogatepass"), seed)


# -- routing rules (module docstring): a job keeps its rule for life ---------------------

HASH, KEY_RUNS = ROUTING_HASH, ROUTING_KEY_RUNS  # the names: config/incremental.py (validated there)
SPREAD_UNIQUE = ROUTING_SPREAD_UNIQUE
NEW_JOB_ROUTING = SPREAD_UNIQUE  # the default of [incremental] routing: the rule a new job gets
RUN_BITS = 10  # KEY_RUNS: 2**10 consecutive integer values of the key's last column per run


def _run_key_hash(seed: int, key: tuple) -> int:
    """:func:`_key_hash` under ``key-runs-1024``: the last column, if an integer, by its run."""
    last = key[-1]
    if last.__class__ is int:
        key = key[:-1] + (last >> RUN_BITS,)
    return _key_hash(seed, key)


def _run_hash_one(seed: int, value) -> int:
    """:func:`_hash_one` under ``key-runs-1024`` (``>>`` floors, so negative runs are whole too)."""
    if value.__class__ is int:
        value >>= RUN_BITS
    return _crc32(repr(value).encode("utf-8", "surrogatepass"), seed)


_HASHES = {HASH: (_key_hash, _hash_one), KEY_RUNS: (_run_key_hash, _run_hash_one),
           SPREAD_UNIQUE: (_run_key_hash, _run_hash_one)}
_RUNS = frozenset({KEY_RUNS, SPREAD_UNIQUE})  # rules that hash integer keys by runs


def spreads_unique_table(routing: str, schema: TableSchema) -> bool:
    """Whether ``routing`` spreads this table with a secondary unique key over shards by
    primary key (else the whole table goes to one shard).

    Only under ``key-runs-1024-spread-unique``, and only when every primary-key column is an
    integer. Why integers: a unique value held by a row of another shard is resolved by the
    holder's shard (replication/unique_handoff.py), computed from the primary key the *target*
    returns; an integer reads back as the same Python ``int`` the decoder gives, so it hashes
    to the same shard, while a string, decimal or temporal key could come back in another
    form and name the wrong shard."""
    return (routing == SPREAD_UNIQUE and schema.has_secondary_unique_key and bool(schema.pk)
            and all(schema.types[i] in INT_TYPES for i in schema.pk))


def shard_of_key(routing: str, shard_count: int, schema: TableSchema, key: tuple) -> int:
    """The shard of a row of ``schema`` with primary-key values ``key`` under ``routing``
    (what :meth:`Router.route_txn` computes for a primary-key table's row)."""
    return _HASHES[check_routing(routing)][0](_table_seed(schema), key) % shard_count


def _run_shards(seed: int, shard_count: int, owned: Optional[Collection[int]] = None) -> Callable[[Any], Any]:
    """A one-column key's shard under ``key-runs-1024`` (with ``owned``: whether this reader
    owns it, ``RowInterest.owns_one``), remembering the answer for the last run asked.

    Why: the decoder asks for every row of the topic in every process and ``route_txn`` again
    for every owned row; consecutive rows mostly fall in one run (sequential keys), and the
    hash was most of the call (microbenchmark, 10-row inserts, a row another process applies:
    1.80 -> 1.67 us)."""
    last_run: Any = None
    last: Any = None

    def of(value):
        nonlocal last_run, last
        if value.__class__ is int:
            run = value >> RUN_BITS
            if run != last_run:
                shard = _run_hash_one(seed, value) % shard_count
                last = shard if owned is None else shard in owned
                last_run = run
            return last
        shard = _run_hash_one(seed, value) % shard_count
        return shard if owned is None else shard in owned

    return of


def check_routing(rule: str) -> str:
    """``rule`` if it is a routing rule this version knows; ValueError otherwise."""
    if rule not in _HASHES:
        raise ValueError(f"unknown routing rule {rule!r}: this tidb2mysql knows {', '.join(ROUTING_RULES)}")
    return rule


def sole_unique_key(schema: TableSchema) -> tuple[int, ...]:
    """The row-identity key of a table without primary key: its only unique key, or ()."""
    if schema.pk or len(schema.unique_keys) != 1:
        return ()
    return tuple(schema.unique_keys[0][1])


def row_key_schema(schema: TableSchema) -> TableSchema:
    """The schema a keyed change of a unique-key-only table carries: the key as primary key.

    Merge, SQL and writer then treat the table exactly like a primary-key table (merged per
    key, upserted; the writer uses ``ON DUPLICATE KEY UPDATE`` only when that key is the
    target table's only unique key, else delete + insert).
    """
    uk = sole_unique_key(schema)
    if not uk:
        raise ValueError(f"table {schema.qualified}: no sole unique key to identify rows by")
    return dataclasses.replace(schema, pk=uk, unique_keys=(("PRIMARY", uk),))


@dataclass(frozen=True, slots=True)
class RowInterest:
    """Which row changes of one table a reader must decode fully (:meth:`Router.interest`).

    ``key``: the routing key's column positions; ``owns(key values)``: does a row image with
    these key values go to a shard of this reader? A row change is wanted when one of its
    images is owned (an UPDATE whose key changes splits into two halves, each routed by its
    own image). ``NO_ROWS``: no row change of the table goes to this reader.
    ``owns_one(value)``: ``owns((value,))`` for a one-column key, without building the tuple
    (set whenever ``key`` has one column). Why: the decoder asks this for every row of the
    topic in every process, and the tuple and the extra call were a fifth of that cost.
    """

    key: tuple[int, ...]
    owns: Callable[[tuple], bool]
    owns_one: Optional[Callable[[Any], bool]] = None
    # (table seed, owned shards as bytes of 0/1 per shard, run bits or -1 for ``hash``): the
    # shard rule of a one-column primary key as parameters, for the decoder's C row scan
    # (drainer/_rowscan.c), which computes ``owns_one`` of integer keys from the bytes.
    scan: Optional[tuple[int, bytes, int]] = None


NO_ROWS = RowInterest((), lambda k: False)


class Router:
    """Turns decoded events into ``(shard_key, (shard_index, item))`` pairs."""

    def __init__(self, shard_count: int, owned: Optional[Collection[int]] = None, routing: str = NEW_JOB_ROUTING):
        """``owned``: route only to these shards (the reader of one process); None = all.
        ``routing``: the job's routing rule (its checkpoint rows say which; module docstring)."""
        if shard_count < 1:
            raise ValueError("shard_count must be >= 1")
        self.routing = check_routing(routing)
        self._key_hash, self._hash_one = _HASHES[routing]
        self.shard_count = shard_count
        self.keys = shard_key_names(shard_count)
        self.owned = frozenset(range(shard_count) if owned is None else owned)
        self._all = len(self.owned) == shard_count
        self._table_shard: dict[tuple[str, str], int] = {}
        # id(schema) -> (schema, its row_key_schema); the schema is kept so its id stays unique
        self._keyed: dict[int, tuple[TableSchema, TableSchema]] = {}
        # id(schema) -> (schema, its seed, its run shard function) (_seed_and_runs)
        self._seeds: dict[int, tuple[TableSchema, int, Any]] = {}

    def _whole_table_shard(self, ts: TableSchema) -> int:
        k = (ts.schema, ts.table)
        s = self._table_shard.get(k)
        if s is None:
            s = zlib.crc32(f"{ts.schema}.{ts.table}".encode()) % self.shard_count
            self._table_shard[k] = s
            if not ts.pk:
                log.warning(
                    "table %s.%s has no primary key: its changes are applied one by one in one shard, matching"
                    " whole rows (slow; rows that are entirely equal are indistinguishable). Add a primary key"
                    " in TiDB if you can.", ts.schema, ts.table)
        return s

    @property
    def routes_everything(self) -> bool:
        """Every shard is owned here (one process): every row is routed somewhere."""
        return self._all

    def interest(self, schema: TableSchema) -> Optional[RowInterest]:
        """Which of ``schema``'s row changes this reader routes anywhere (None: all of them).

        Why: every process reads the whole topic (no row crosses a process boundary), so
        decoding every row fully would make each process pay for all rows while applying
        only its share. The decoder converts only the key columns of every row, asks this,
        and fully decodes just the rows of owned shards; the rest stay undecoded placeholders
        that keep ``seq`` numbering identical in every process and layout. Mirrors
        :meth:`route_txn`'s rules exactly (the unit tests compare the two).
        """
        if self._all:
            return None
        pk = schema.pk
        n, owned = self.shard_count, self.owned
        seed = _table_seed(schema)
        key_hash, hash_one = self._key_hash, self._hash_one
        if not pk and len(schema.unique_keys) == 1 and schema.unique_keys[0][1]:
            whole = self._whole_table_shard(schema) in owned
            uk = tuple(schema.unique_keys[0][1])
            return RowInterest(uk, lambda k: whole if None in k else key_hash(seed, k) % n in owned,
                               (lambda v: whole if v is None else hash_one(seed, v) % n in owned)
                               if len(uk) == 1 else None)
        if not pk or (schema.has_secondary_unique_key and not spreads_unique_table(self.routing, schema)):
            return None if self._whole_table_shard(schema) in owned else NO_ROWS
        one = scan = None
        if len(pk) == 1:
            one = (_run_shards(seed, n, owned) if self.routing in _RUNS
                   else lambda v: hash_one(seed, v) % n in owned)
            scan = (seed, bytes([s in owned for s in range(n)]), RUN_BITS if self.routing in _RUNS else -1)
        return RowInterest(tuple(pk), lambda k: key_hash(seed, k) % n in owned, one, scan)

    def route_txn(self, txn: Txn, offset: int = -1, first_index: int = 0) -> Iterator[tuple[str, tuple[int, ShardChunk]]]:
        """Route one transaction (or one slice of a large one).

        The i-th row change of the transaction (counting over all its tables, from
        ``first_index`` for a slice) gets ``seq = 2*i``; the INSERT half of a split
        primary-key change gets ``2*i + 1``. So a change's position does not depend on how the
        transaction was sliced.
        """
        n = self.shard_count
        key_hash, hash_one = self._key_hash, self._hash_one
        owned = self.owned
        per_shard: dict[int, list[Change]] = {}
        seq = 2 * first_index
        ts_ = txn.commit_ts
        for tc in txn.tables:
            schema = tc.schema
            if tc.rows.__class__ is UnwalkedRows:
                # The decoder found none of the table's rows here (only placeholders): counted,
                # not walked. Why: in a -p 2 flow half of the messages are such, in each process.
                seq += 2 * len(tc.rows)
                continue
            pk = schema.pk
            if not pk and len(schema.unique_keys) == 1 and schema.unique_keys[0][1]:
                seq = self._route_unique_key_table(tc, ts_, seq, per_shard)
                continue
            if not pk or (schema.has_secondary_unique_key and not spreads_unique_table(self.routing, schema)):
                shard = self._whole_table_shard(schema)
                if shard not in owned:
                    # Every row of the table goes to that one shard, so none here: skipped by
                    # count (its rows are placeholders anyway, see interest()).
                    seq += 2 * len(tc.rows)
                    continue
                bucket = per_shard.setdefault(shard, [])
                for rc in tc.rows:
                    if rc.new is None and rc.old is None:  # undecoded: another process's row
                        seq += 2
                        continue
                    if pk and rc.op == _UPDATE and _pk_changed(rc.old, rc.new, pk):
                        bucket.append(Change(ts_, seq, schema, _DELETE, None, rc.old))
                        bucket.append(Change(ts_, seq + 1, schema, _INSERT, rc.new, None))
                    else:
                        bucket.append(Change(ts_, seq, schema, rc.op, rc.new, rc.old))
                    seq += 2
                continue
            seed, run_shard = self._seed_and_runs(schema)
            one = pk[0] if len(pk) == 1 else -1  # a one-column key: hashed without a tuple
            for rc in tc.rows:
                op, new, old = rc.op, rc.new, rc.old
                if new is None and old is None:  # undecoded: another process's row
                    seq += 2
                    continue
                if op == _UPDATE:
                    if one >= 0 and old[one] == new[one]:
                        row = new
                    else:
                        old_k = tuple([old[i] for i in pk])
                        new_k = tuple([new[i] for i in pk])
                        if old_k != new_k:
                            s_old = key_hash(seed, old_k) % n
                            s_new = key_hash(seed, new_k) % n
                            per_shard.setdefault(s_old, []).append(Change(ts_, seq, schema, _DELETE, None, old))
                            per_shard.setdefault(s_new, []).append(Change(ts_, seq + 1, schema, _INSERT, new, None))
                            seq += 2
                            continue
                        row = new
                else:
                    row = new if op == _INSERT else old
                if one >= 0:
                    s = run_shard(row[one]) if run_shard is not None else hash_one(seed, row[one]) % n
                else:
                    s = key_hash(seed, tuple([row[i] for i in pk])) % n
                bucket = per_shard.get(s)
                if bucket is None:
                    bucket = per_shard[s] = []
                bucket.append(Change(ts_, seq, schema, op, new, old))
                seq += 2
        keys, everything = self.keys, self._all
        for s, changes in per_shard.items():
            if everything or s in owned:
                yield keys[s], (s, ShardChunk(ts_, changes, offset))

    def _seed_and_runs(self, schema: TableSchema) -> tuple[int, Optional[Callable[[Any], Any]]]:
        """The table's hash seed and (``key-runs-1024``) its one-column key's shard function
        with its memory of the last run, kept per schema object. Why: computing both for
        every table of every message was ~1.5 us of a 10-row message's routing."""
        hit = self._seeds.get(id(schema))
        if hit is None or hit[0] is not schema:  # the schema is kept, so its id stays its own
            seed = _table_seed(schema)
            hit = (schema, seed, _run_shards(seed, self.shard_count) if self.routing in _RUNS else None)
            if len(self._seeds) >= 4096:
                self._seeds.clear()  # many structures (DDL after DDL): start again
            self._seeds[id(schema)] = hit
        return hit[1], hit[2]

    def _route_unique_key_table(self, tc, ts_: int, seq: int, per_shard: dict) -> int:
        """Route the changes of a unique-key-only table (see the module docstring)."""
        schema = tc.schema
        hit = self._keyed.get(id(schema))
        if hit is None or hit[0] is not schema:
            hit = self._keyed[id(schema)] = (schema, row_key_schema(schema))
        keyed = hit[1]
        uk = keyed.pk
        n = self.shard_count
        seed = _table_seed(schema)
        key_hash = self._key_hash

        def place(op: Op, new, old, at: int) -> None:
            row = old if op == _DELETE else new
            k = tuple(row[i] for i in uk)
            if None in k:
                per_shard.setdefault(self._whole_table_shard(schema), []).append(Change(ts_, at, schema, op, new, old))
            else:
                per_shard.setdefault(key_hash(seed, k) % n, []).append(
                    Change(ts_, at, keyed, op, new, old))

        for rc in tc.rows:
            if rc.new is None and rc.old is None:  # undecoded: another process's row
                seq += 2
                continue
            if rc.op == _UPDATE and (_pk_changed(rc.old, rc.new, uk) or None in (rc.old[i] for i in uk)):
                # A new key, or no identity at all: two different rows as far as keys go.
                # (An UPDATE of a NULL-keyed row keeping its NULL key stays one ordered UPDATE.)
                if None in (rc.old[i] for i in uk) and None in (rc.new[i] for i in uk):
                    place(_UPDATE, rc.new, rc.old, seq)
                else:
                    place(_DELETE, None, rc.old, seq)
                    place(_INSERT, rc.new, None, seq + 1)
            else:
                place(rc.op, rc.new, rc.old, seq)
            seq += 2
        return seq

    def route_ddl(self, ddl: DDL, offset: int = -1) -> Iterator[tuple[str, tuple[int, Barrier]]]:
        b = Barrier(ddl, offset)
        for s, k in enumerate(self.keys):
            if s in self.owned:
                yield k, (s, b)

    def watermark(self, commit_ts: int, offset: int = -1, force: bool = False):
        w = Watermark(commit_ts, offset, force)
        for s, k in enumerate(self.keys):
            if s in self.owned:
                yield k, (s, w)


def _pk_changed(old, new, pk) -> bool:
    return any(old[i] != new[i] for i in pk)


def coalesce(items: list) -> list:
    """Routed items of one source batch with each shard's runs of consecutive chunks as one
    :class:`ShardChunks` item. Per shard the order is unchanged (a barrier or watermark ends a
    run); across shards there is no order to keep (each shard is its own stream)."""
    out: list = []
    runs: dict[int, int] = {}  # shard -> index in ``out`` of its open run of chunks
    for key, (s, it) in items:
        if it.__class__ is not ShardChunk:
            runs.pop(s, None)
        elif (i := runs.get(s)) is not None:
            prev = out[i][1][1]
            if prev.__class__ is ShardChunks:
                prev.chunks.append(it)
            else:
                out[i] = (key, (s, ShardChunks([prev, it])))
            continue
        else:
            runs[s] = len(out)
        out.append((key, (s, it)))
    return out
