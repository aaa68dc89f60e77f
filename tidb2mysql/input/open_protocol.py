"""TiCDC open protocol (``protocol=open-protocol``) <-> events.

A Kafka message is a *batch* (upstream ``pkg/sink/codec/open/open_protocol_encoder.go``,
docs/ticdc.md):

* key   = 8-byte big-endian version (1), then per event: 8-byte big-endian length + key JSON
  ``{"ts": commit_ts, "scm": schema, "tbl": table, "rid": row id, "ptn": partition id,
  "t": 1 row | 2 DDL | 3 resolved, "ohk": only-handle-key, "ccl": claim-check location}``;
* value = per event: 8-byte big-endian length + value JSON (a resolved event has length 0).

Row values: ``{"u": {...}}`` INSERT, ``{"u": {...}, "p": {...}}`` UPDATE (new, previous),
``{"d": {...}}`` DELETE; each column ``{"t": type code, "h": true if handle key, "f": flag
bits, "v": value}``, keyed by column name (Go marshals maps in name order: the table's column
order is not in the message). DDL value: ``{"q": query, "t": TiDB action type}``. Rows of
several transactions and tables may share one message; DDL and resolved events travel alone
(a DDL is broadcast to every partition, a resolved event too).

Values (``internal/column.go`` ``FromRowChangeColumn``, Go ``encoding/json``): integers, BIT,
ENUM (index), SET (bitmask), YEAR, FLOAT, DOUBLE as JSON numbers; DECIMAL, dates, times, JSON
as strings; CHAR/VARCHAR as strings - for a binary-charset column Go-quoted (``strconv.Quote``
without the outer quotes, e.g. ``\\x00``); TEXT and BLOB types as base64 of the bytes.

Not decodable exactly, so rejected with a decode error (dead-lettered, never half-applied):
handle-key-only / claim-check rows (``ohk``/``ccl``), an UPDATE without ``p``
(``open-output-old-value=false``), compressed values.
"""

from __future__ import annotations

import base64
import binascii
import struct
from typing import Any

import orjson

from tidb2mysql.drainer.values import zone_for
from tidb2mysql.events import DDL, Op, KafkaPosition, RowChange, TableChanges, TableSchema, Txn
from tidb2mysql.input.codec import Event, TiCDCDecodeError, Watermark
from tidb2mysql.input.ticdc_values import (
    BINARY_OF_TEXT,
    TableCache,
    float32_from_text,
    go_text_renderers,
    text_parser,
)
from tidb2mysql.drainer import values as dv

PROTOCOL = "open protocol"
BATCH_VERSION = 1
ROW, DDL_TYPE, RESOLVED = 1, 2, 3

# Column flag bits (cdc/model/sink.go ColumnFlagType).
BINARY_FLAG, HANDLE_KEY_FLAG, GENERATED_FLAG, PRIMARY_KEY_FLAG = 1, 2, 4, 8
UNIQUE_KEY_FLAG, MULTIPLE_KEY_FLAG, NULLABLE_FLAG, UNSIGNED_FLAG = 16, 32, 64, 128

# TiDB type codes (parser/mysql/type.go) -> TiDB's type name (types.TypeToStr, non-binary).
TYPE_NAMES = {0: "decimal", 1: "tinyint", 2: "smallint", 3: "int", 4: "float", 5: "double", 6: "null",
              7: "timestamp", 8: "bigint", 9: "mediumint", 10: "date", 11: "time", 12: "datetime", 13: "year",
              14: "date", 15: "varchar", 16: "bit", 225: "vector", 245: "json", 246: "decimal", 247: "enum",
              248: "set", 249: "tinytext", 250: "mediumtext", 251: "longtext", 252: "text", 253: "var_string",
              254: "char", 255: "geometry"}
_QUOTED = {15, 253, 254}  # varchar, var_string, char: text, Go-quoted when binary
_BASE64 = {249, 250, 251, 252}  # the blob/text family: base64 of the bytes
TYPE_CODES = {"tinyint": 1, "smallint": 2, "int": 3, "float": 4, "double": 5, "timestamp": 7, "bigint": 8,
              "mediumint": 9, "date": 10, "time": 11, "datetime": 12, "year": 13, "varchar": 15, "bit": 16,
              "json": 245, "decimal": 246, "enum": 247, "set": 248, "tinytext": 249, "mediumtext": 250,
              "longtext": 251, "text": 252, "var_string": 253, "char": 254}
for _text, _bin in BINARY_OF_TEXT.items():
    TYPE_CODES.setdefault(_bin, TYPE_CODES[_text])


class _Bad(Exception):
    pass


# ---------------------------------------------------------------- Go string quoting

_GO_SIMPLE = {"a": 7, "b": 8, "f": 12, "n": 10, "r": 13, "t": 9, "v": 11, "\\": 92, '"': 34}


def go_unquote(s: str) -> bytes:
    """Bytes of a Go double-quoted string literal body (``strconv.Unquote`` of ``"s"``)."""
    if "\\" not in s:
        if '"' in s or "\n" in s:
            raise ValueError("unescaped quote or newline in a Go-quoted binary value")
        return s.encode("utf-8")
    out = bytearray()
    i, n = 0, len(s)
    while i < n:
        ch = s[i]
        if ch != "\\":
            if ch in '"\n':
                raise ValueError("unescaped quote or newline in a Go-quoted binary value")
            j = s.find("\\", i)
            j = n if j < 0 else j
            chunk = s[i:j]
            if '"' in chunk or "\n" in chunk:
                raise ValueError("unescaped quote or newline in a Go-quoted binary value")
            out += chunk.encode("utf-8")
            i = j
            continue
        if i + 1 >= n:
            raise ValueError("Go-quoted binary value ends with a lone backslash")
        e = s[i + 1]
        if e in _GO_SIMPLE:
            out.append(_GO_SIMPLE[e])
            i += 2
        elif e == "x":
            out.append(_hex(s[i + 2:i + 4], 2))
            i += 4
        elif e in "01234567":
            v = int(_digits(s[i + 1:i + 4], "01234567", 3), 8)
            if v > 255:
                raise ValueError(f"octal escape \\{s[i + 1:i + 4]} above 255")
            out.append(v)
            i += 4
        elif e in "uU":
            width = 4 if e == "u" else 8
            cp = _hex(s[i + 2:i + 2 + width], width)
            if cp > 0x10FFFF or 0xD800 <= cp <= 0xDFFF:
                raise ValueError(f"\\{e} escape {cp:#x} is not a Unicode scalar value")
            out += chr(cp).encode("utf-8")
            i += 2 + width
        else:
            raise ValueError(f"unknown escape \\{e} in a Go-quoted binary value")
    return bytes(out)


def _digits(t: str, allowed: str, width: int) -> str:
    if len(t) != width or any(c not in allowed for c in t):
        raise ValueError(f"bad escape digits {t!r} in a Go-quoted binary value")
    return t


def _hex(t: str, width: int) -> int:
    return int(_digits(t, "0123456789abcdefABCDEF", width), 16)


_GO_ESC = {7: "\\a", 8: "\\b", 12: "\\f", 10: "\\n", 13: "\\r", 9: "\\t", 11: "\\v", 92: "\\\\", 34: '\\"'}


def go_quote(b: bytes) -> str:
    """``strconv.Quote(string(b))`` without the outer quotes (printable runes kept)."""
    out = []
    i, n = 0, len(b)
    while i < n:
        c = b[i]
        if c < 0x80:
            if c in _GO_ESC:
                out.append(_GO_ESC[c])
            elif c < 0x20 or c == 0x7F:
                out.append(f"\\x{c:02x}")
            else:
                out.append(chr(c))
            i += 1
            continue
        width = 2 if 0xC2 <= c <= 0xDF else 3 if 0xE0 <= c <= 0xEF else 4 if 0xF0 <= c <= 0xF4 else 0
        try:
            ch = b[i:i + width].decode("utf-8") if width else None
        except UnicodeDecodeError:
            ch = None
        if ch is None:
            out.append(f"\\x{c:02x}")
            i += 1
            continue
        cp = ord(ch)
        if ch.isprintable():
            out.append(ch)
        elif cp < 0x10000:
            out.append(f"\\u{cp:04x}")
        else:
            out.append(f"\\U{cp:08x}")
        i += width
    return "".join(out)


# ---------------------------------------------------------------- per-column value readers


def _reader(code: int, flag: int, zone: Any):
    """(TiDB type name, reader of the JSON value) for a column's type code and flags."""
    name = TYPE_NAMES.get(code)
    if name is None:
        raise _Bad(f"unknown column type code {code}")
    binary = bool(flag & BINARY_FLAG)
    unsigned = bool(flag & UNSIGNED_FLAG)
    if code in _QUOTED or code in _BASE64:
        if binary:
            name = BINARY_OF_TEXT[name]
            if code in _QUOTED:
                return name, lambda v: go_unquote(_want_str(v))
            return name, _b64
        if code in _QUOTED:
            return name, _want_str
        return name, _b64_text
    if name in dv.INT_TYPES or name in ("year", "bit", "enum", "set"):
        check = (lambda v: dv.check_year(_want_int(v, False))) if name == "year" else \
            (lambda v, u=unsigned or name in ("bit", "enum", "set"): _want_int(v, u))
        return name, check
    if name == "float":
        return name, _float32
    if name == "double":
        return name, lambda v: dv.check_double(_want_num(v))
    parse = text_parser(name, unsigned, zone)
    return name, lambda v: parse(_want_str(v))


def _want_str(v: Any) -> str:
    if v.__class__ is not str:
        raise ValueError(f"value {v!r} is not a string")
    return v


def _want_int(v: Any, unsigned: bool) -> int:
    if v.__class__ is not int:
        raise ValueError(f"value {v!r} is not an integer")
    return dv.check_int(v, unsigned)


def _want_num(v: Any) -> float:
    if v.__class__ not in (int, float):
        raise ValueError(f"value {v!r} is not a number")
    return float(v)


def _float32(v: Any) -> float:
    # orjson gives the double nearest to Go's float32 digits; re-reading its shortest text as
    # float32 is exact (ticdc_values.float32_from_text).
    return float32_from_text(repr(_want_num(v)))


def _b64(v: Any) -> bytes:
    try:
        return base64.b64decode(_want_str(v), validate=True)
    except binascii.Error as e:
        raise ValueError(f"invalid base64: {e}") from None


def _b64_text(v: Any) -> str:
    try:
        return _b64(v).decode("utf-8")
    except UnicodeDecodeError as e:
        raise ValueError(f"text column value is not valid UTF-8: {e}") from None


# ---------------------------------------------------------------- decoder


def _chunks(buf: bytes, what: str) -> list[bytes]:
    out = []
    i, n = 0, len(buf)
    while i < n:
        if i + 8 > n:
            raise _Bad(f"{what} ends inside a length prefix at byte {i}")
        (length,) = struct.unpack_from(">Q", buf, i)
        i += 8
        if length > n - i:
            raise _Bad(f"{what} length {length} at byte {i - 8} runs past the end ({n - i} bytes left)")
        out.append(buf[i:i + length])
        i += length
    return out


def _json_object(raw: bytes, what: str) -> dict:
    try:
        obj = orjson.loads(raw)
    except orjson.JSONDecodeError as e:
        raise _Bad(f"{what} is not JSON (compressed?): {e}") from None
    if not isinstance(obj, dict):
        raise _Bad(f"{what} is not an object")
    return obj


class OpenProtocolCodec(TableCache):
    """Decodes TiCDC open-protocol messages; TIMESTAMPs converted from ``time_zone`` to UTC.
    Table structures are cached by (schema, table, ((name, type code, flag), ...))."""

    name = "ticdc-open-protocol"

    def __init__(self, time_zone: str = "UTC"):
        super().__init__(time_zone)

    def decode(self, key: bytes | None, value: bytes, position: KafkaPosition) -> list[Event]:
        size = (len(key) if key else 0) + (len(value) if value else 0)
        try:
            return self._decode(key, value, position)
        except _Bad as e:
            raise TiCDCDecodeError(position, size, str(e), PROTOCOL) from None

    def peek_commit_ts(self, key: bytes | None, value: bytes) -> int | None:
        """``ts`` of the first event in the batch (the smallest: a partition's events come in
        commit_ts order); None if the key is not an open-protocol key."""
        if not key or len(key) < 16 or struct.unpack_from(">Q", key, 0)[0] != BATCH_VERSION:
            return None
        (length,) = struct.unpack_from(">Q", key, 8)
        try:
            k = orjson.loads(key[16:16 + length])
        except orjson.JSONDecodeError:
            return None
        ts = k.get("ts") if isinstance(k, dict) else None
        return ts if ts.__class__ is int and ts > 0 else None

    def _decode(self, key: bytes | None, value: bytes | None, position: KafkaPosition) -> list[Event]:
        if not key or len(key) < 8:
            raise _Bad("message key is missing or shorter than the 8-byte version header")
        (version,) = struct.unpack_from(">Q", key, 0)
        if version != BATCH_VERSION:
            raise _Bad(f"key version {version}, expected {BATCH_VERSION}")
        keys = _chunks(key[8:], "key")
        values = _chunks(value or b"", "value")
        if len(keys) != len(values):
            raise _Bad(f"{len(keys)} keys but {len(values)} values")
        if not keys:
            raise _Bad("empty batch")
        out: list[Event] = []
        rows_txn: Txn | None = None
        for n, (kb, vb) in enumerate(zip(keys, values)):
            k = _json_object(kb, f"event {n}: key")
            ts, typ = k.get("ts"), k.get("t")
            if ts.__class__ is not int or not 0 < ts < 1 << 64:
                raise _Bad(f"event {n}: key ts {ts!r} is not a TSO")
            if typ == RESOLVED:
                if vb:
                    raise _Bad(f"event {n}: resolved event with a non-empty value")
                out.append(Watermark(ts, position))
                rows_txn = None
                continue
            v = _json_object(vb, f"event {n}: value")
            schema_name, table_name = k.get("scm", ""), k.get("tbl", "")
            if schema_name.__class__ is not str or table_name.__class__ is not str:
                raise _Bad(f"event {n}: scm/tbl are not strings")
            if typ == DDL_TYPE:
                q = v.get("q")
                if q.__class__ is not str:
                    raise _Bad(f"event {n}: DDL value has no query \"q\"")
                out.append(DDL(ts, schema_name, table_name, q, position))
                rows_txn = None
                continue
            if typ != ROW:
                raise _Bad(f"event {n}: unknown event type {typ!r} (1 row, 2 DDL, 3 resolved)")
            if k.get("ohk") or k.get("ccl"):
                raise _Bad(f"event {n}: TiCDC sent only the handle key (large-message-handle-option"
                           " handle-key-only/claim-check): the row is not in the message")
            if not schema_name or not table_name:
                raise _Bad(f"event {n}: row event without scm/tbl")
            try:
                tc = self._row(schema_name, table_name, v)
            except _Bad as e:
                raise _Bad(f"event {n} (table {schema_name}.{table_name}, ts {ts}): {e}") from None
            # consecutive rows of one commit_ts become one partial transaction
            if rows_txn is not None and rows_txn.commit_ts == ts:
                last = rows_txn.tables[-1]
                if last.schema is tc.schema:
                    last.rows.extend(tc.rows)
                else:
                    rows_txn.tables.append(tc)
            else:
                rows_txn = Txn(ts, [tc], position)
                out.append(rows_txn)
        return out

    def _row(self, schema_name: str, table_name: str, v: dict) -> TableChanges:
        u, p, d = v.get("u"), v.get("p"), v.get("d")
        for what, x in (("u", u), ("p", p), ("d", d)):
            if x is not None and not (isinstance(x, dict) and x):
                raise _Bad(f"\"{what}\" is not a non-empty object of columns")
        if d is not None:
            if u is not None or p is not None:
                raise _Bad("a delete (\"d\") also carries \"u\"/\"p\"")
            schema, readers = self._table(schema_name, table_name, d)
            return TableChanges(schema, [RowChange(Op.DELETE, None, self._image(d, schema, readers))])
        if u is None:
            raise _Bad("row event with none of \"u\", \"d\"")
        schema, readers = self._table(schema_name, table_name, u)
        new = self._image(u, schema, readers)
        if p is None:
            # INSERT, or an UPDATE whose old value TiCDC left out (open-output-old-value=false):
            # the two are indistinguishable in the message, so an insert it is - the default
            # (true) always writes "p" for an UPDATE. docs/ticdc.md.
            return TableChanges(schema, [RowChange(Op.INSERT, new, None)])
        extra = set(p) - set(u)
        if extra:
            raise _Bad(f"\"p\" has columns not in \"u\": {sorted(extra)}")
        if len(p) != len(u):
            p = {c: p.get(c, u[c]) for c in u}  # only-output-updated-columns: unchanged = new value
        for c in schema.columns:
            if (p[c].get("t") if isinstance(p[c], dict) else None) != u[c].get("t"):
                raise _Bad(f"column {c!r}: type differs between \"p\" and \"u\"")
        return TableChanges(schema, [RowChange(Op.UPDATE, new, self._image(p, schema, readers))])

    @staticmethod
    def _image(cols: dict, schema: TableSchema, readers: list) -> tuple:
        out = []
        for name, read in zip(schema.columns, readers):
            c = cols[name]
            val = c.get("v") if isinstance(c, dict) else None
            if val is None:
                out.append(None)
                continue
            try:
                out.append(read(val))
            except ValueError as e:
                raise _Bad(f"column {name!r}: {e}") from None
        return tuple(out)

    def _table(self, schema_name: str, table_name: str, cols: dict) -> tuple[TableSchema, list]:
        sig = []
        for name, c in cols.items():
            if not isinstance(c, dict):
                raise _Bad(f"column {name!r} is not an object")
            t, f = c.get("t"), c.get("f", 0)
            if t.__class__ is not int or f.__class__ is not int or f < 0:
                raise _Bad(f"column {name!r}: type {t!r} / flag {f!r} are not integers")
            sig.append((name, t, f))
        cache_key = (schema_name, table_name, tuple(sig))
        hit = self._cached(cache_key)
        if hit is not None:
            return hit
        names, types, readers, unsigned, pk, handle, unique = [], [], [], [], [], [], []
        for i, (name, t, f) in enumerate(sig):
            base, read = _reader(t, f, self._zone)
            names.append(name)
            types.append(base)
            readers.append(read)
            if f & UNSIGNED_FLAG:
                unsigned.append(i)
            if f & PRIMARY_KEY_FLAG:
                pk.append(i)
            if f & HANDLE_KEY_FLAG:
                handle.append(i)
            if f & UNIQUE_KEY_FLAG:
                unique.append(i)
        keys: list[tuple[str, tuple[int, ...]]] = []
        if pk:
            keys.append(("PRIMARY", tuple(pk)))
        elif handle:
            # no primary key: TiCDC's handle is a NOT NULL unique index (findHandleIndex)
            keys.append(("handle", tuple(handle)))
        others = tuple(i for i in unique if i not in handle and i not in pk)
        if others:
            # columns of unique indexes other than the handle: which index each belongs to is
            # not in the message; one key over all of them keeps has_secondary_unique_key true.
            keys.append(("unique_columns", others))
        n = len(names)
        schema = TableSchema(schema_name, table_name, tuple(names), tuple(types), (-1,) * n, (0,) * n,
                             tuple(pk), tuple(keys), tuple(unsigned))
        return self._remember(cache_key, (schema, readers))


# ---------------------------------------------------------------- encoder (simulator, tests)


def _flags(schema: TableSchema, nullable: tuple[bool, ...] | None = None) -> list[int]:
    unsigned = set(schema.unsigned)
    pk = set(schema.pk)
    handle: set[int] = set(pk)
    if not pk:
        # the handle index: a unique key whose columns are NOT NULL (findHandleIndex); without
        # nullability information the first unique key is taken
        for _name, cols in schema.unique_keys:
            handle = set(cols)
            break
    uk = {i for name, cols in schema.unique_keys if name != "PRIMARY" for i in cols}
    multi = {i for _name, cols in schema.unique_keys if len(cols) > 1 for i in cols}
    out = []
    for i, t in enumerate(schema.types):
        f = 0
        if t not in dv.TEXT_TYPES and t not in ("enum", "set"):
            f |= BINARY_FLAG  # TiDB gives every non-string column (and JSON) the binary charset
        if i in handle:
            f |= HANDLE_KEY_FLAG
        if i in pk:
            f |= PRIMARY_KEY_FLAG
        if i in uk:
            f |= UNIQUE_KEY_FLAG
        if i in multi:
            f |= MULTIPLE_KEY_FLAG
        if nullable is None or nullable[i]:
            if i not in pk:
                f |= NULLABLE_FLAG
        if i in unsigned:
            f |= UNSIGNED_FLAG
        out.append(f)
    return out


def _writers(schema: TableSchema, zone: Any) -> list:
    out = []
    for t, render in zip(schema.types, go_text_renderers(schema, zone)):
        if t in dv.INT_TYPES or t in ("year", "bit", "enum", "set"):
            out.append(lambda v, r=render: int(r(v)))
        elif t == "float":
            out.append(lambda v, r=render: orjson.Fragment(r(v).encode()))
        elif t == "double":
            out.append(lambda v: dv.check_double(v))
        elif t in ("tinyblob", "blob", "mediumblob", "longblob"):
            out.append(lambda v, r=render: base64.b64encode(r(v)).decode())
        elif t in ("tinytext", "text", "mediumtext", "longtext"):
            out.append(lambda v, r=render: base64.b64encode(r(v).encode("utf-8")).decode())
        elif t in ("binary", "varbinary"):
            out.append(lambda v, r=render: go_quote(r(v)))
        else:
            out.append(render)
    return out


def _columns(schema: TableSchema, values: tuple, writers: list, flags: list[int]) -> dict:
    cols = []
    for i, name in enumerate(schema.columns):
        t = schema.types[i]
        code = TYPE_CODES.get(t)
        if code is None:
            raise ValueError(f"table {schema.qualified} column {name!r}: no open-protocol type code for {t!r}")
        v = values[i]
        try:
            out_v = None if v is None else writers[i](v)
        except ValueError as e:
            raise ValueError(f"table {schema.qualified} column {name!r} ({t}): {e}") from None
        c = {"t": code}
        if flags[i] & HANDLE_KEY_FLAG:
            c["h"] = True
        c["f"] = flags[i]
        c["v"] = out_v
        cols.append((name, c))
    cols.sort(key=lambda kv: kv[0])  # Go's encoding/json writes map keys sorted
    return dict(cols)


def _framed(parts: list[bytes]) -> bytes:
    return b"".join(struct.pack(">Q", len(p)) + p for p in parts)


def encode_row_event(schema: TableSchema, change: RowChange, commit_ts: int, time_zone: str = "UTC") -> tuple[bytes, bytes]:
    """The (key JSON, value JSON) of one row event (``rowChangeToMsg``), unframed."""
    zone = zone_for(time_zone)
    writers, flags = _writers(schema, zone), _flags(schema)
    key = {"ts": commit_ts, "scm": schema.schema, "tbl": schema.table, "t": ROW}
    if change.op == Op.INSERT:
        value = {"u": _columns(schema, change.new, writers, flags)}
    elif change.op == Op.UPDATE:
        value = {"u": _columns(schema, change.new, writers, flags), "p": _columns(schema, change.old, writers, flags)}
    else:
        value = {"d": _columns(schema, change.old, writers, flags)}
    return orjson.dumps(key), orjson.dumps(value)


class BatchEncoder:
    """Packs row events into open-protocol messages like TiCDC's ``BatchEncoder``: a new
    message after ``max_batch_size`` rows (TiCDC's default 16) or ``max_message_bytes``."""

    def __init__(self, max_batch_size: int = 16, max_message_bytes: int = 10 << 20):
        self.max_batch_size = max_batch_size
        self.max_message_bytes = max_message_bytes
        self._keys: list[bytes] = []
        self._values: list[bytes] = []
        self._size = 0
        self.messages: list[tuple[bytes, bytes]] = []

    def append(self, key: bytes, value: bytes) -> None:
        if self._keys and (len(self._keys) >= self.max_batch_size
                           or self._size + len(key) + len(value) + 16 > self.max_message_bytes):
            self._close()
        self._keys.append(key)
        self._values.append(value)
        self._size += len(key) + len(value) + 16

    def _close(self) -> None:
        if self._keys:
            self.messages.append((struct.pack(">Q", BATCH_VERSION) + _framed(self._keys), _framed(self._values)))
        self._keys, self._values, self._size = [], [], 0

    def build(self) -> list[tuple[bytes, bytes]]:
        """The messages so far (the open batch closed), as (key, value) pairs."""
        self._close()
        out, self.messages = self.messages, []
        return out


def encode_ddl(ddl: DDL, action_type: int = 0) -> tuple[bytes, bytes]:
    """The (key, value) message of one DDL (``EncodeDDLEvent``)."""
    key = orjson.dumps({"ts": ddl.commit_ts, "scm": ddl.schema, "tbl": ddl.table, "t": DDL_TYPE})
    value = orjson.dumps({"q": ddl.query, "t": action_type})
    return struct.pack(">Q", BATCH_VERSION) + _framed([key]), _framed([value])


def encode_resolved(resolved_ts: int) -> tuple[bytes, bytes]:
    """The (key, value) message of one resolved event (``EncodeCheckpointEvent``)."""
    key = orjson.dumps({"ts": resolved_ts, "t": RESOLVED})
    return struct.pack(">Q", BATCH_VERSION) + _framed([key]), struct.pack(">Q", 0)


__all__ = ["BatchEncoder", "OpenProtocolCodec", "encode_ddl", "encode_resolved", "encode_row_event", "go_quote",
           "go_unquote"]
