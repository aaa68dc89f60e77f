"""Drainer Kafka message bytes -> :class:`~tidb2mysql.events.Txn` | :class:`~tidb2mysql.events.DDL`.

One message is one upstream transaction or one DDL job. Decoding never skips anything:
every malformed input (protobuf parse error, missing required fields, unknown
``BinlogType``, DML without ``dml_data``, DDL without ``ddl_data``, a row whose column
count differs from ``column_info``, a value field that cannot belong to the column's type,
invalid UTF-8 in ``ddl_query``, a ``None`` payload) raises :class:`DrainerDecodeError`,
which names topic, partition and offset so the operator can find the message, and carries
the position and payload size so the caller can dead-letter it.

Speed matters here (the replication hot path): value converters are chosen once per
``Table`` from its ``column_info`` (:mod:`tidb2mysql.drainer.values`) and applied per row in
one list comprehension; error context (row number, column) is reconstructed only after a
failure.
"""

from __future__ import annotations

from typing import Any, Callable, Optional

from google.protobuf.message import DecodeError

from tidb2mysql.drainer import secondary_binlog_pb2 as pb
from tidb2mysql.drainer import view
from tidb2mysql.drainer.wire import WireBinlog, WireError
from tidb2mysql.drainer.values import INT_TYPES, column_plans, decoders_for, zone_for
from tidb2mysql.events import DDL, InputDecodeError, Op, KafkaPosition, RowChange, TableChanges, TableSchema, Txn

_INSERT, _UPDATE, _DELETE = pb.Insert, pb.Update, pb.Delete
_COLUMN_INFO, _KEY = pb.ColumnInfo.FromString, pb.Key.FromString
_HEADER_CACHE = 4096  # table structures remembered by a Decoder

try:  # the C row scan (setup.py builds it); without it the Python path gives the same rows
    from tidb2mysql.drainer._rowscan import all_rows as _all_rows, owned_rows as _owned_rows, skim as _skim, \
        table_header as _table_header
except ImportError:  # pragma: no cover - a build without a C compiler
    _all_rows = _owned_rows = _skim = _table_header = None


class DrainerDecodeError(InputDecodeError):
    """A Drainer message that cannot be decoded; names where it came from and why."""

    def __init__(self, position: KafkaPosition, payload_size: int, reason: str):
        super().__init__(position, payload_size, reason, "Drainer message")


class _Bad(Exception):
    """Internal: a decode failure before the position is attached."""


# The row changes a reader does not decode (another process applies them): one shared,
# never-mutated placeholder per operation instead of an object per row.
_OP_INSERT, _OP_UPDATE, _OP_DELETE = Op.INSERT, Op.UPDATE, Op.DELETE  # ~70 ns per `Op.X` lookup saved
_SKIP_INSERT, _SKIP_UPDATE, _SKIP_DELETE = (RowChange(_OP_INSERT, None, None), RowChange(_OP_UPDATE, None, None),
                                            RowChange(_OP_DELETE, None, None))
_SKIPPED = {_INSERT: _SKIP_INSERT, _UPDATE: _SKIP_UPDATE, _DELETE: _SKIP_DELETE}


class UnwalkedRows:
    """The row changes of a table none of whose rows this reader applies, not walked.

    Counts in O(1) (``len``: what positions and ``route_txn`` need); iterating gives the
    ``RowChange(op, None, None)`` placeholders, reading each mutation's type only then. Why:
    building the placeholders for every such row was a sixth of a message's cost for the
    process that applies none of it (a unique-key table at ``-p 2``: ~1.8 of ~10.5 us per
    10-row message), and nothing on the hot path iterates them.
    """

    __slots__ = ("_mutations",)

    def __init__(self, mutations: Any):
        self._mutations = mutations

    def __len__(self) -> int:
        return len(self._mutations)

    def __iter__(self):
        if self._mutations.__class__ is bytes:  # the mutation types, from the C skim (``Decoder.decode``)
            return iter([_SKIPPED[t] for t in self._mutations])
        try:
            return iter([_SKIPPED[m.type] for m in self._mutations])
        except KeyError:  # pragma: no cover - unknown enum numbers never reach `type`
            raise _Bad("unknown MutationType") from None

    def __repr__(self) -> str:
        return f"UnwalkedRows({len(self)})"


def _where(t: Any, ti: int) -> str:
    """The table of a message, as error messages name it."""
    return f"table {t.schema_name!s}.{t.table_name!s} (#{ti})"


# What a reader wants of a table's rows (replication/route.py RowInterest): ``.key`` (column
# positions in the decoded schema) and ``.owns(key values)``; None = every row fully.
Interest = Callable[[TableSchema], Optional[Any]]


def _explain_row(cols: Any, convs: list, names: tuple) -> str:
    """Find the column that failed (slow path, only after an error)."""
    for i, (f, c) in enumerate(zip(convs, cols)):
        if c.is_null:
            continue
        try:
            f(c)
        except ValueError as e:
            return f"column {names[i]!r}: {e}"
    return "unexpected value"


def peek_commit_ts(value: bytes) -> int | None:
    """commit_ts (field 2, varint) of a serialized Binlog without parsing the whole message.

    Drainer's gogo marshaller writes fields in number order, so field 1 (type) and field 2
    come first. Returns None when the bytes do not start that way; callers then decode fully.
    """
    i, n = 0, len(value)
    for _ in range(2):
        if i >= n:
            return None
        tag = value[i]
        i += 1
        if tag not in (0x08, 0x10):
            return None
        shift = result = 0
        while True:
            if i >= n or shift > 63:
                return None
            b = value[i]
            i += 1
            result |= (b & 0x7F) << shift
            if not b & 0x80:
                break
            shift += 7
        if tag == 0x10:
            result &= (1 << 64) - 1  # a varint of 10 bytes may carry more than 64 bits
            if result >= 1 << 63:
                result -= 1 << 64
            return result if result >= 0 else None  # a TSO is never negative: decode fully
    return None


class Decoder:
    """Decodes Drainer messages; TIMESTAMPs are converted from ``time_zone`` to naive UTC.

    ``interest`` (optional, per table): decode fully only the row changes the caller will
    use, and give the others as ``RowChange(op, None, None)`` placeholders (counted, never
    converted). Every process of a scaled-out flow reads the whole topic but applies only
    its own shards, so converting the other processes' rows was half of its CPU at two
    processes (docs/performance.md). The key columns of every row are still converted and
    checked; the other values of a placeholder row are not, so a malformed value is found
    (and its message dead-lettered) by the process that owns the row. A table none of whose
    rows this reader applies (its interest has no key: whole table elsewhere, or not
    selected) is not walked at all: its rows are checked by the process that applies them,
    and an unselected table's rows are then checked by none (they are not replicated; with
    one process, where nothing is partial, they are still decoded and a malformed one parks
    its message).
    """

    def __init__(self, time_zone: str = "UTC"):
        self.time_zone = time_zone
        self._zone = zone_for(time_zone)
        # (converters, the same as the C conversion's plan or None: values.column_plans) per
        # tuple of column types; both are stateless, so sharing is safe
        self._converters: dict[tuple[str, ...], tuple[list, Optional[tuple]]] = {}
        # [TableSchema, converters, interest, its answer, C scan args, skim rule, C conversion
        # plan] per table header
        # as it arrives (_header), and the same lists by the bytes of the header (``_skim``)
        self._headers: dict[tuple, list] = {}
        self._header_bytes: dict[bytes, list] = {}

    def decode(self, value: bytes, position: KafkaPosition, interest: Optional[Interest] = None) -> Txn | DDL:
        if value is None:
            raise DrainerDecodeError(position, 0, "message value is None (tombstone or empty record)")
        learn, known = False, None
        if _skim is not None:
            # A plain message whose tables' headers this decoder knows is read from its bytes
            # alone (C ``skim``, drainer/_rowscan.c: checked whole, as strictly as protobuf or
            # more), without a protobuf parse: the tables with no row of this reader's only
            # counted (at -p 2 half of a process's messages are such messages, and their full
            # decode was its largest cost of a row it does not apply), the others' rows
            # converted from the wire (``_skimmed``: the parse was ~3.5 us of a 10-row message,
            # paid by every process). Otherwise the full decode decides (False: a header it does
            # not know, learnt below).
            got = _skim(value, self._header_bytes, interest)
            if got.__class__ is tuple:
                ts, hits, types = got
                tables = _skimmed(value, hits, types, interest)
                if tables is not None:
                    return Txn(ts, tables, position)
                known = hits  # a conversion gave way: the full decode, these headers known
            learn = got is False
        size = len(value)
        try:
            return self._decode(value, position, interest, learn, known)
        except _Bad as e:
            raise DrainerDecodeError(position, size, str(e)) from None
        except DecodeError as e:
            raise DrainerDecodeError(position, size, f"protobuf parse error: {e}") from None

    # -- large transactions, decoded in slices ------------------------------------------
    #
    # A Drainer message holds a whole transaction, which can be millions of rows. Decoding
    # it into Python objects at once would take several times the message size; instead the
    # caller parses it once (``parse``: the compact protobuf form) and decodes bounded row
    # ranges of one table at a time (``decode_slice``).

    def parse(self, value: bytes, position: KafkaPosition) -> Any:
        """Parse and check the envelope; returns the protobuf ``Binlog`` (DML or DDL)."""
        size = len(value) if value is not None else 0
        if value is None:
            raise DrainerDecodeError(position, 0, "message value is None (tombstone or empty record)")
        try:
            b = view.Binlog()
            b.ParseFromString(value)
            self._check_envelope(b)
            return b
        except _Bad as e:
            raise DrainerDecodeError(position, size, str(e)) from None
        except DecodeError as e:
            raise DrainerDecodeError(position, size, f"protobuf parse error: {e}") from None

    def parse_large(self, value: bytes, position: KafkaPosition) -> Any:
        """``parse`` for a message that will be decoded in slices: a DML message is only
        indexed at the wire level (drainer/wire.py: its slices are parsed one at a time, so
        memory does not grow ~4x its size); anything else is parsed whole."""
        if value is not None:
            try:
                return WireBinlog(value)
            except WireError:
                pass  # not a plain DML message: parse it whole (and fail there if it is bad)
        return self.parse(value, position)

    @staticmethod
    def mutation_counts(b: Any) -> list[int]:
        """Row changes per table of a parsed (or wire-indexed) DML ``Binlog``."""
        if isinstance(b, WireBinlog):
            return b.mutation_counts()
        return [len(t.mutations) for t in b.dml_data.tables]

    def decode_slice(self, b: Any, position: KafkaPosition, table_index: int, start: int, end: int,
                     interest: Optional[Interest] = None) -> TableChanges:
        """Row changes ``[start, end)`` of table ``table_index`` of a parsed DML ``Binlog``."""
        try:
            if isinstance(b, WireBinlog):
                return self._table(b.table_slice(table_index, start, end), table_index, 0, None, interest,
                                   number_from=start)
            return self._table(b.dml_data.tables[table_index], table_index, start, end, interest)
        except _Bad as e:
            size = len(b.value) if isinstance(b, WireBinlog) else b.ByteSize()
            raise DrainerDecodeError(position, size, str(e)) from None
        except DecodeError as e:
            raise DrainerDecodeError(position, len(b.value), f"protobuf parse error in rows {start}-{end}: {e}") from None

    @staticmethod
    def _check_envelope(b: Any) -> None:
        if not b.HasField("type"):
            raise _Bad("missing or unknown BinlogType")
        if not b.HasField("commit_ts"):
            raise _Bad("missing commit_ts")
        if b.type == pb.DML and not b.HasField("dml_data"):
            raise _Bad("DML message without dml_data")
        if b.type == pb.DDL and not b.HasField("ddl_data"):
            raise _Bad("DDL message without ddl_data")

    def _decode(self, value: bytes, position: KafkaPosition, interest: Optional[Interest] = None,
                learn: bool = False, known: Optional[list] = None) -> Txn | DDL:
        b = view.Binlog()
        b.ParseFromString(value)
        if not b.HasField("type"):
            # An unknown enum number lands in unknown fields, leaving `type` unset.
            raise _Bad("missing or unknown BinlogType")
        if not b.HasField("commit_ts"):
            raise _Bad("missing commit_ts")
        ts = b.commit_ts
        if b.type == pb.DDL:
            if not b.HasField("ddl_data"):
                raise _Bad("DDL message without ddl_data")
            d = b.ddl_data
            try:
                query = d.ddl_query.decode("utf-8")
            except UnicodeDecodeError as e:
                raise _Bad(f"ddl_query is not valid UTF-8: {e}") from None
            if d.schema_name.__class__ is not str or d.table_name.__class__ is not str:
                raise _Bad("DDL schema_name or table_name is not valid UTF-8")
            return DDL(ts, d.schema_name, d.table_name, query, position)
        if not b.HasField("dml_data"):
            raise _Bad("DML message without dml_data")
        found = known or []  # the headers of the first tables, which the skim found already
        return Txn(ts, [self._table(t, i, 0, None, interest, value=value, learn=learn,
                                    hit=found[i] if i < len(found) else None)
                        for i, t in enumerate(b.dml_data.tables)], position)

    def _table(self, t: Any, ti: int, start: int = 0, end: int | None = None,
               interest: Optional[Interest] = None, number_from: Optional[int] = None,
               value: Optional[bytes] = None, learn: bool = False, hit: Optional[list] = None) -> TableChanges:
        # The header as the bytes of its entries (drainer/view.py): a structure seen before is
        # recognised without reading a field; a new one is parsed and checked (``_header``).
        # (``hit``: the skim found it by the table's bytes already.)
        if hit is None:
            hit = self._cached_header(t, ti)
        schema, convs, asked, want, scan, _, plan = hit
        if interest is not asked:
            # The answer of the caller's interest, kept with the header (the only cache of it):
            # an interest is a fixed function of the schema (a reader's shards and selection do
            # not change), and a cache keyed by the TableSchema hashed it per table and message.
            want = interest(schema) if interest is not None else None
            scan = _scan_args(schema, want, plan)
            hit[2], hit[3], hit[4], hit[5] = interest, want, scan, _skim_rule(want, scan)
        if learn and value is not None:
            raw = _table_header(value, ti)  # a structure is a function of its bytes: the same hit
            if raw is not None:
                self._header_bytes[raw] = hit
        mutations = t.mutations if start == 0 and end is None else t.mutations[start:end]
        first = start if number_from is None else number_from  # row numbers in error messages
        if value is not None and start == 0 and end is None:
            if scan is not None:
                rows = _scanned_rows(value, ti, scan, mutations)
                if rows is not None:
                    return TableChanges(schema, rows)
            elif want is None and plan is not None:
                # Every row is applied here: converted from the wire in C (values.column_plan),
                # or, for a table not in the plain form, by the Python path below.
                rows = _all_rows(value, ti, len(convs), plan)
                if rows is not None:
                    return TableChanges(schema, rows)
        try:
            rows = self._rows(mutations, first, convs, schema.columns, want)
        except _Bad as e:
            raise _Bad(f"{_where(t, ti)} {e}") from None  # the table named only when it failed
        return TableChanges(schema, rows)

    def _cached_header(self, t: Any, ti: int) -> list:
        """The cached header of table ``t`` (``_header``), by its fields' bytes."""
        hkey = (t.schema_name, t.table_name, tuple(t.column_info), tuple(t.unique_keys))
        hit = self._headers.get(hkey)
        if hit is None:
            cinfo = [_COLUMN_INFO(x) for x in hkey[2]]
            info = tuple([(ci.name, ci.mysql_type, ci.is_primary_key, ci.flen, ci.decimal) for ci in cinfo])
            ukeys = tuple([(k.name, tuple(k.column_names)) for k in [_KEY(x) for x in hkey[3]]])
            hit = self._header(t.schema_name, t.table_name, info, ukeys, _where(t, ti))
            if len(self._headers) >= _HEADER_CACHE or len(self._header_bytes) >= _HEADER_CACHE:
                self._headers.clear()  # many structures (DDL after DDL): start again, still exact
                self._header_bytes.clear()
            self._headers[hkey] = hit
        return hit

    def _header(self, schema_name: Any, table_name: Any, info: tuple, ukeys: tuple, where: str) -> list:
        """[TableSchema, value converters, interest asked, its answer] of a table header (the
        last two filled by ``_table``); :class:`_Bad` if it is malformed.

        A function of the cache key of ``_table`` (schema and table name, the bytes of every
        column_info entry and unique key: a superset of the fields read here), so a cached
        result is the result.
        The same structure arrives in every message of a table: this work was ~20 us of ~30 us
        per table and message (10-row transactions), paid by every process at ``-p 2``."""
        names = tuple([c[0] for c in info])
        # proto2 hands a `string` field with invalid UTF-8 over as bytes instead of failing
        for what, v in (("schema_name", schema_name), ("table_name", table_name)):
            if v.__class__ is not str:
                raise _Bad(f"{where}: {what} is not valid UTF-8: {bytes(v)[:40]!r}")
        for i, c in enumerate(info):
            if c[0].__class__ is not str or c[1].__class__ is not str:
                raise _Bad(f"{where}: column_info #{i} name or mysql_type is not valid UTF-8")
        types = tuple([c[1].lower() for c in info])
        index = {name: i for i, name in enumerate(names)}
        keys = []
        for kname, kcols in ukeys:
            if kname.__class__ is not str:
                raise _Bad(f"{where}: a unique key name is not valid UTF-8")
            if not kcols:
                raise _Bad(f"{where}: unique key {kname!r} has no columns")
            try:
                cols = tuple([index[c] for c in kcols])
            except KeyError as e:
                raise _Bad(f"{where}: unique key {kname!r} names column {e.args[0]!r} not in column_info") from None
            keys.append((kname, cols))
        keys.sort(key=lambda k: k[0] != "PRIMARY")  # stable: PRIMARY first, rest in order
        schema = TableSchema(
            schema=schema_name,
            table=table_name,
            columns=names,
            types=types,
            flen=tuple([c[3] for c in info]),
            decimal=tuple([c[4] for c in info]),
            pk=tuple([i for i, c in enumerate(info) if c[2]]),
            unique_keys=tuple(keys),
        )
        got = self._converters.get(types)
        if got is None:
            plan = column_plans(types, self._zone) + (RowChange, _OPS) if _all_rows is not None and types else None
            got = self._converters[types] = (decoders_for(types, self._zone), plan)
        return [schema, got[0], None, None, None, None, got[1]]

    @staticmethod
    def _rows(mutations: Any, start: int, convs: list, names: tuple, want: Any) -> list:
        """The row changes of ``mutations``; with ``want`` (an interest), the rows it does not
        own are ``RowChange(op, None, None)`` placeholders whose keys alone were converted.

        Why it is written out like this: it runs for every row of the topic in every process.
        Each protobuf attribute read, call and enum lookup costs 30-100 ns here, and the
        key-only path of a row another process applies was half the cost of decoding it
        fully (docs/performance.md). So: the row's ``columns`` are read once, a one-column
        key is converted and tested without a tuple (``owns_one``), ``row`` presence is
        checked only when the column count is wrong (it is then 0; a table without columns
        asks each mutation first), and the failure text is rebuilt afterwards (``_count_failure``).
        """
        n = len(names)
        key, owns, owns_one = (want.key, want.owns, want.owns_one) if want is not None else ((), None, None)
        if owns is not None and not key:
            # No row of this table is applied here (the whole table lives in another process's
            # shard, or the selection drops it): its rows only count for positions, so they are
            # not walked. Why: with one unique-key table, the other process of -p 2 walked every
            # row for nothing and took CPU from the one that applies (0.97x of -w 1). The owner
            # checks the rows, as it checks the values of every row it applies.
            return UnwalkedRows(mutations)
        if n == 0:  # no column count to catch a missing `row` with (see above): ask each one
            for mi, m in enumerate(mutations, start):
                if m.HasField("type") and not m.HasField("row"):
                    raise _Bad(f"mutation {mi}: mutation without row (a required field)")
        k0 = key[0] if owns_one is not None else -1
        conv0 = convs[k0] if k0 >= 0 else None
        rows = []
        append = rows.append
        m = None
        mi = start - 1
        try:
            for m in mutations:
                mi += 1
                # `type` and `row` are proto2 `required`, but the parser does not enforce
                # that inside nested messages; an unknown MutationType also leaves `type`
                # unset (the number goes to unknown fields).
                if not m.HasField("type"):
                    raise _Bad("missing or unknown MutationType (a required field)")
                op = m.type
                cols = m.row.columns
                if len(cols) != n:
                    raise _Bad(_count_failure(m, len(cols), n))
                if op == _UPDATE:
                    if not m.HasField("change_row"):
                        raise _Bad("Update mutation without change_row (the before image)")
                    before = m.change_row.columns
                    if len(before) != n:
                        raise _Bad(f"change_row has {len(before)} columns but column_info has {n}")
                    if owns is not None:
                        if k0 >= 0:
                            c = cols[k0]
                            b = before[k0]
                            mine = (owns_one(None if c.is_null else conv0(c))
                                    or owns_one(None if b.is_null else conv0(b)))
                        else:
                            mine = (owns(tuple([None if cols[i].is_null else convs[i](cols[i]) for i in key]))
                                    or owns(tuple([None if before[i].is_null else convs[i](before[i]) for i in key])))
                        if not mine:
                            append(_SKIP_UPDATE)
                            continue
                    append(RowChange(_OP_UPDATE, tuple([None if c.is_null else f(c) for f, c in zip(convs, cols)]),
                                     tuple([None if c.is_null else f(c) for f, c in zip(convs, before)])))
                    continue
                if op != _INSERT and op != _DELETE:  # pragma: no cover - unknown numbers never reach `type`
                    raise _Bad(f"unknown MutationType {op}")
                # INSERT (row = the new image) or DELETE (row = the deleted image)
                if m.HasField("change_row"):
                    raise _Bad(("Insert" if op == _INSERT else "Delete") + " mutation carries a change_row")
                if owns is not None:
                    if k0 >= 0:
                        c = cols[k0]
                        mine = owns_one(None if c.is_null else conv0(c))
                    else:
                        mine = owns(tuple([None if cols[i].is_null else convs[i](cols[i]) for i in key]))
                    if not mine:
                        append(_SKIP_INSERT if op == _INSERT else _SKIP_DELETE)
                        continue
                row = tuple([None if c.is_null else f(c) for f, c in zip(convs, cols)])
                append(RowChange(_OP_INSERT, row, None) if op == _INSERT else RowChange(_OP_DELETE, None, row))
        except _Bad as e:
            raise _Bad(f"mutation {mi}: {e}") from None
        except ValueError:
            detail = _explain_row(m.row.columns, convs, names)
            if detail == "unexpected value" and m.HasField("change_row"):
                detail = "change_row " + _explain_row(m.change_row.columns, convs, names)
            raise _Bad(f"mutation {mi}: {detail}") from None
        return rows


def row_scan_built() -> bool:
    """Whether the C row scan is here (setup.py builds it where a C compiler is)."""
    return _owned_rows is not None


_PLACEHOLDERS = (_SKIP_INSERT, _SKIP_UPDATE, _SKIP_DELETE)  # by MutationType number, for the C scan
_OPS = (_OP_INSERT, _OP_UPDATE, _OP_DELETE)  # the same, for the C conversion


def _scan_args(schema: TableSchema, want: Any, plan: Optional[tuple]) -> Optional[tuple]:
    """The C row scan's arguments for a table (None: the Python path decides its rows), with
    the table's conversion ``plan`` last (the scan converts the owned rows by it; without a
    plan, i.e. without the C module, there is no scan).

    Only for an interest that asks a one-column integer primary key (``RowInterest.scan``: the
    shard rule's parameters); other keys' values (text, decimals, dates) are converted and
    hashed in Python, where their exact ``repr`` is."""
    if plan is None or want is None or getattr(want, "scan", None) is None or len(want.key) != 1:
        return None
    k = want.key[0]
    if schema.types[k] not in INT_TYPES:
        return None
    seed, owned, run_bits = want.scan
    return (k, len(schema.columns), seed, owned, run_bits, _PLACEHOLDERS, plan)


def _skim_rule(want: Any, scan: Optional[tuple]) -> Optional[tuple]:
    """How the C ``skim`` treats a table's rows for an interest: ``()`` none is owned here
    (only counted, as ``_rows`` does), the row scan's arguments (``_scan_args``), or None: the
    full decode decides (keys the scan cannot read, or no interest)."""
    if want is None:
        return None
    if want.owns is not None and not want.key:
        return ()
    return scan


def _scanned_rows(value: bytes, ti: int, scan: tuple, mutations: Any) -> Optional[list]:
    """The row changes of table ``ti`` with the C scan choosing the owned rows and converting
    them (module ``_rowscan``, the table's plan), or None when the scan or a conversion is
    unsure: the Python path then decodes the table again and gives the exact rows or the
    exact error.

    Why: the rows another process applies cost no Python work at all here (the scan read
    their keys from the bytes), which was most of the second process's cost per row."""
    found = _owned_rows(value, ti, *scan)
    if found is None:
        return None
    rows, owned = found
    return rows if owned else UnwalkedRows(mutations)  # none here: routing skips the table by its count


def _skimmed(value: bytes, hits: list, types: list, interest: Any) -> Optional[list]:
    """The tables of a message the C ``skim`` read: a table with no row of this reader's
    counted from its mutation types (``UnwalkedRows``), the others' rows converted from the
    wire as the full decode converts them (``_scanned_rows``, ``_all_rows``), or None when a
    conversion gives way (the full decode then decides)."""
    out = []
    for i, (h, t) in enumerate(zip(hits, types)):
        if t is not None:
            out.append(TableChanges(h[0], UnwalkedRows(t)))
            continue
        if interest is None:  # every row is this reader's
            rows = _all_rows(value, i, len(h[1]), h[6]) if h[6] is not None else None
        else:  # the skim rule of a table with a row of this reader's is the scan's arguments
            found = _owned_rows(value, i, *h[5])
            rows = found[0] if found is not None and found[1] else None
        if rows is None:
            return None
        out.append(TableChanges(h[0], rows))
    return out


def _count_failure(m: Any, got: int, n: int) -> str:
    """Why a mutation's row has the wrong number of columns (slow path, after the fact)."""
    if not m.HasField("row"):
        return "mutation without row (a required field)"
    return f"row has {got} columns but column_info has {n}"


__all__ = ["Decoder", "DrainerDecodeError", "UnwalkedRows", "peek_commit_ts", "row_scan_built"]
