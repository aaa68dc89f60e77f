"""TiCDC canal-json (``protocol=canal-json``, ``enable-tidb-extension=true``) <-> events.

One Kafka message (no key) is one JSON object, one of (docs/ticdc.md, upstream
``pkg/sink/codec/canal/canal_json_row_event_encoder.go``):

* a row change: ``"type"`` INSERT / UPDATE / DELETE, ``"isDdl": false``, ``"data"`` = [the new
  row] (the deleted row for DELETE), ``"old"`` = [the old row] for UPDATE (else null),
  ``"mysqlType"`` per column (TiDB's type name: ``int unsigned``, ``varbinary``, ``enum``...),
  ``"sqlType"`` (Java SQL type codes, not needed), ``"pkNames"``, and ``"_tidb": {"commitTs":
  N}``. One message holds exactly one row; every value is a JSON string or null.
* a DDL: ``"isDdl": true``, ``"sql"`` the query, ``"database"``/``"table"``, ``"_tidb":
  {"commitTs": N}``;
* a watermark: ``"type": "TIDB_WATERMARK"``, ``"_tidb": {"watermarkTs": N}``.

Value texts are those of :mod:`tidb2mysql.input.ticdc_values`; binary strings (``mysqlType``
containing ``blob`` or ``binary``) are bytes mapped 1:1 to the characters U+0000..U+00FF
(ISO-8859-1), exactly reversible.

What canal-json does not carry, and how it is handled: the table's unique keys other than the
primary key (``unique_keys`` is ``PRIMARY`` only; see docs/ticdc.md for the flow's remedy),
column lengths unless ``content-compatible=true`` (then read from ``mysqlType``). Messages
TiCDC shrank to the handle key (``_tidb.onlyHandleKey``, large-message handling) or moved to
external storage (``_tidb.claimCheckLocation``) cannot be applied exactly from the message and
are rejected with a decode error (dead-lettered), never applied partially. Compressed values
(``large-message-handle-compression``) are rejected the same way (not JSON).
"""

from __future__ import annotations

from typing import Any

import orjson

from tidb2mysql.drainer.values import zone_for
from tidb2mysql.events import DDL, Op, KafkaPosition, RowChange, TableChanges, TableSchema, Txn
from tidb2mysql.input.codec import Event, TiCDCDecodeError, Watermark
from tidb2mysql.input.ticdc_values import BINARY_TYPES, TableCache, go_text_renderers, text_parser

PROTOCOL = "canal-json"
WATERMARK_TYPE = "TIDB_WATERMARK"
_ROW_TYPES = {"INSERT": Op.INSERT, "UPDATE": Op.UPDATE, "DELETE": Op.DELETE}
# Java SQL type codes (pkg/sink/codec/internal/java.go MySQLType2JavaType); only written.
_JAVA = {"tinyint": -6, "smallint": 5, "mediumint": 4, "int": 4, "bigint": -5, "float": 7, "double": 8,
         "decimal": 3, "timestamp": 93, "datetime": 93, "date": 91, "time": 92, "year": 12, "enum": 4,
         "set": -7, "bit": -7, "json": 12, "char": 1, "varchar": 12, "var_string": 12}
# unsigned integers above the signed maximum are promoted (canal_entry.go getJavaSQLType)
_PROMOTE = {"tinyint": (127, 5), "smallint": (32767, 4), "int": ((1 << 31) - 1, -5),
            "bigint": ((1 << 63) - 1, 3)}


class _Bad(Exception):
    pass


def split_mysql_type(t: str) -> tuple[str, bool, int, int]:
    """``mysqlType`` -> (base type, unsigned, flen, decimal).

    Without ``content-compatible`` TiCDC writes the bare name (``int unsigned``, ``decimal``,
    ``varbinary``); with it the full definition (``decimal(10,2) unsigned``, ``enum('a','b')``).
    flen/decimal are -1/0 when the text does not say.
    """
    if t.__class__ is not str or not t:
        raise _Bad(f"mysqlType {t!r} is not a type name")
    low = t.lower()
    cut = len(low)
    for i, ch in enumerate(low):
        if ch in "( ":
            cut = i
            break
    base = low[:cut]
    unsigned = " unsigned" in low[cut:]
    flen, dec = -1, 0
    if low[cut:cut + 1] == "(" and base not in ("enum", "set"):
        close = low.find(")", cut)
        args = low[cut + 1:close].split(",") if close > 0 else []
        try:
            nums = [int(a) for a in args]
        except ValueError:
            nums = []
        if base in ("datetime", "timestamp", "time") and len(nums) == 1:
            dec = nums[0]
        elif nums:
            flen = nums[0]
            dec = nums[1] if len(nums) > 1 else 0
    return base, unsigned, flen, dec


def is_binary_mysql_type(t: str) -> bool:
    """TiCDC's own test (``utils.IsBinaryMySQLType``): the name contains blob or binary."""
    return "blob" in t or "binary" in t


def _latin1(s: str) -> bytes:
    try:
        return s.encode("latin-1")
    except UnicodeEncodeError as e:
        raise ValueError(f"binary value has a character above U+00FF at {e.start} (not ISO-8859-1 text)") from None


def _not_str(v: Any) -> Any:
    raise ValueError(f"value {v!r} is not a string (canal-json writes strings)")


def _ts(ext: Any, key: str) -> int:
    if not isinstance(ext, dict):
        raise _Bad("no \"_tidb\" object: enable-tidb-extension=true is required (commit_ts lives there)")
    v = ext.get(key)
    if v.__class__ is not int or v <= 0 or v >= 1 << 64:
        raise _Bad(f"\"_tidb\".{key} is {v!r}, not a TSO")
    return v


class CanalJsonCodec(TableCache):
    """Decodes TiCDC canal-json messages; TIMESTAMPs are converted from ``time_zone`` to UTC.
    Table structures are cached by (schema, table, columns, mysqlTypes, pkNames)."""

    name = "ticdc-canal-json"

    def __init__(self, time_zone: str = "UTC"):
        super().__init__(time_zone)

    def decode(self, key: bytes | None, value: bytes, position: KafkaPosition) -> list[Event]:
        if value is None:
            raise TiCDCDecodeError(position, 0, "message value is None (tombstone or empty record)", PROTOCOL)
        try:
            return [self._decode(value, position)]
        except _Bad as e:
            raise TiCDCDecodeError(position, len(value), str(e), PROTOCOL) from None
        except orjson.JSONDecodeError as e:
            raise TiCDCDecodeError(position, len(value), f"not JSON: {e}", PROTOCOL) from None

    def peek_commit_ts(self, key: bytes | None, value: bytes) -> int | None:
        """``_tidb.commitTs`` / ``watermarkTs``: TiCDC writes ``_tidb`` last, so it is found
        from the end without parsing the row."""
        if not value:
            return None
        i = value.rfind(b'"_tidb":')
        if i < 0:
            return None
        for name in (b'"commitTs":', b'"watermarkTs":'):
            j = value.find(name, i)
            if j > 0:
                j += len(name)
                k = j
                while k < len(value) and 48 <= value[k] <= 57:
                    k += 1
                return int(value[j:k]) if k > j and k - j < 21 else None
        return None

    def _decode(self, value: bytes, position: KafkaPosition) -> Event:
        m = orjson.loads(value)
        if not isinstance(m, dict):
            raise _Bad(f"top level is {type(m).__name__}, not an object")
        ext = m.get("_tidb")
        if m.get("isDdl") is True:
            query, schema, table = m.get("sql"), m.get("database"), m.get("table")
            for what, v in (("sql", query), ("database", schema), ("table", table)):
                if v.__class__ is not str:
                    raise _Bad(f"DDL \"{what}\" is {v!r}, not a string")
            return DDL(_ts(ext, "commitTs"), schema, table, query, position)
        typ = m.get("type")
        if typ == WATERMARK_TYPE:
            return Watermark(_ts(ext, "watermarkTs"), position)
        op = _ROW_TYPES.get(typ) if typ.__class__ is str else None
        if op is None:
            raise _Bad(f"unknown \"type\" {typ!r} (expected INSERT, UPDATE, DELETE, TIDB_WATERMARK or a DDL)")
        commit_ts = _ts(ext, "commitTs")
        if ext.get("onlyHandleKey") or ext.get("claimCheckLocation"):
            raise _Bad("TiCDC sent only the handle key (large-message-handle-option handle-key-only/claim-check):"
                       " the row is not in the message; raise max-message-bytes or read it from TiDB")
        schema_name, table_name = m.get("database"), m.get("table")
        if schema_name.__class__ is not str or table_name.__class__ is not str:
            raise _Bad("row \"database\"/\"table\" missing or not strings")
        data, old = m.get("data"), m.get("old")
        if not isinstance(data, list) or not data or not all(isinstance(r, dict) for r in data):
            raise _Bad("row \"data\" is not a non-empty list of objects")
        if op == Op.UPDATE:
            if not isinstance(old, list) or len(old) != len(data) or not all(isinstance(r, dict) for r in old):
                raise _Bad("UPDATE \"old\" is not a list of objects matching \"data\"")
        elif old is not None:
            raise _Bad(f"{typ} carries \"old\"")
        names = tuple(data[0])
        schema, parsers = self._table(schema_name, table_name, names, m.get("mysqlType"), m.get("pkNames"))
        where = f"table {schema_name}.{table_name}"
        rows = []
        for n, new in enumerate(data):
            if tuple(new) != names:
                raise _Bad(f"{where} data[{n}] has columns {list(new)} but data[0] has {list(names)}")
            image = self._row(new, names, parsers, where)
            if op == Op.INSERT:
                rows.append(RowChange(Op.INSERT, image, None))
            elif op == Op.DELETE:
                rows.append(RowChange(Op.DELETE, None, image))
            else:
                before = old[n]
                extra = set(before) - set(names)
                if extra:
                    raise _Bad(f"{where} old[{n}] has columns not in data: {sorted(extra)}")
                if len(before) != len(names):
                    # only-output-updated-columns: unchanged columns are left out of "old";
                    # they equal the new value (TiCDC's own decoder fills them the same way).
                    before = {c: (before[c] if c in before else new[c]) for c in names}
                rows.append(RowChange(Op.UPDATE, image, self._row(before, names, parsers, where + " old")))
        return Txn(commit_ts, [TableChanges(schema, rows)], position)

    @staticmethod
    def _row(values: dict, names: tuple, parsers: list, where: str) -> tuple:
        # fast path: one comprehension; the column of a failure is found by the slow loop
        try:
            return tuple([None if v is None else parse(v) if v.__class__ is str else _not_str(v)
                          for parse, v in zip(parsers, [values[n] for n in names])])
        except ValueError:
            pass
        for name, parse in zip(names, parsers):
            v = values[name]
            if v is None:
                continue
            if v.__class__ is not str:
                raise _Bad(f"{where} column {name!r}: value {v!r} is not a string (canal-json writes strings)")
            try:
                parse(v)
            except ValueError as e:
                raise _Bad(f"{where} column {name!r}: {e}") from None
        raise _Bad(f"{where}: a value failed to decode, then decoded")  # pragma: no cover - parsers are pure

    def _table(self, schema_name: str, table_name: str, names: tuple, mysql_types: Any, pk_names: Any):
        if not isinstance(mysql_types, dict):
            raise _Bad("row \"mysqlType\" is not an object")
        if pk_names is not None and not (isinstance(pk_names, list) and all(p.__class__ is str for p in pk_names)):
            raise _Bad("\"pkNames\" is not a list of column names")
        try:
            types_raw = tuple(mysql_types[c] for c in names)
        except KeyError as e:
            raise _Bad(f"column {e.args[0]!r} has no mysqlType") from None
        for c, t in zip(names, types_raw):
            if t.__class__ is not str:
                raise _Bad(f"column {c!r}: mysqlType {t!r} is not a type name")
        cache_key = (schema_name, table_name, names, types_raw, tuple(pk_names or ()))
        hit = self._cached(cache_key)
        if hit is not None:
            return hit
        index = {c: i for i, c in enumerate(names)}
        pk = []
        for p in pk_names or ():
            if p not in index:
                raise _Bad(f"pkNames names {p!r}, which is not a column of the row")
            pk.append(index[p])
        types, flen, dec, unsigned, parsers = [], [], [], [], []
        for i, t in enumerate(types_raw):
            base, uns, fl, de = split_mysql_type(t)
            types.append(base)
            flen.append(fl)
            dec.append(de)
            if uns:
                unsigned.append(i)
            if is_binary_mysql_type(base):
                parsers.append(_latin1)
            else:
                parsers.append(text_parser(base, uns, self._zone))
        pk_t = tuple(pk)
        schema = TableSchema(schema_name, table_name, names, tuple(types), tuple(flen), tuple(dec), pk_t,
                             (("PRIMARY", pk_t),) if pk_t else (), tuple(unsigned))
        return self._remember(cache_key, (schema, parsers))


# ---------------------------------------------------------------- encoder (simulator, tests)


def _mysql_type_text(schema: TableSchema, i: int, unsigned: set) -> str:
    t = schema.types[i]
    if i in unsigned:
        t += " unsigned"
    return t


def _value_writers(schema: TableSchema, zone: Any) -> list:
    out = []
    for t, render in zip(schema.types, go_text_renderers(schema, zone)):
        if t in BINARY_TYPES:
            out.append(lambda v, r=render: r(v).decode("latin-1"))
        else:
            out.append(render)
    return out


def _java_type(t: str, unsigned: bool, v: Any) -> int:
    if t in BINARY_TYPES:
        return 2004
    if t in ("tinytext", "text", "mediumtext", "longtext"):
        return 2005
    j = _JAVA.get(t, 12)
    if unsigned and v is not None and t in _PROMOTE and v > _PROMOTE[t][0]:
        j = _PROMOTE[t][1]
    return j


def encode_row(schema: TableSchema, change: RowChange, commit_ts: int, time_zone: str = "UTC",
               build_ms: int = 0) -> bytes:
    """The canal-json message TiCDC writes for one row change (one message per row).

    Field order and contents follow ``newJSONMessageForDML``; ``ts`` (build time, ignored by
    consumers) is ``build_ms``.
    """
    zone = zone_for(time_zone)
    writers = _value_writers(schema, zone)
    unsigned = set(schema.unsigned)
    image = change.old if change.op == Op.DELETE else change.new
    if image is None or len(image) != len(schema.columns):
        raise ValueError(f"table {schema.qualified}: {change.op.name} row image does not match the columns")

    def obj(values: tuple) -> dict:
        out = {}
        for i, (name, v) in enumerate(zip(schema.columns, values)):
            try:
                out[name] = None if v is None else writers[i](v)
            except ValueError as e:
                raise ValueError(f"table {schema.qualified} column {name!r} ({schema.types[i]}): {e}") from None
        return out

    msg = {
        "id": 0,
        "database": schema.schema,
        "table": schema.table,
        "pkNames": [schema.columns[i] for i in schema.pk],
        "isDdl": False,
        "type": change.op.name,
        "es": commit_ts >> 18,
        "ts": build_ms,
        "sql": "",
        "sqlType": {c: _java_type(schema.types[i], i in unsigned, image[i]) for i, c in enumerate(schema.columns)},
        "mysqlType": {c: _mysql_type_text(schema, i, unsigned) for i, c in enumerate(schema.columns)},
        "old": [obj(change.old)] if change.op == Op.UPDATE else None,
        "data": [obj(image)],
        "_tidb": {"commitTs": commit_ts},
    }
    return orjson.dumps(msg)


# canal's DDL event type (canal_entry.go convertDdlEventType maps TiDB's job type; consumers
# ignore it). The simulator knows only the query, so the leading words decide.
_DDL_TYPES = (("create table", "CREATE"), ("drop table", "ERASE"), ("truncate", "TRUNCATE"),
              ("rename", "RENAME"), ("create index", "CINDEX"), ("create unique index", "CINDEX"),
              ("drop index", "DINDEX"), ("alter table", "ALTER"))


def ddl_event_type(query: str) -> str:
    q = " ".join(query.lower().split())
    return next((t for prefix, t in _DDL_TYPES if q.startswith(prefix)), "QUERY")


def encode_ddl(ddl: DDL, build_ms: int = 0) -> bytes:
    """The canal-json DDL message (``newJSONMessageForDDL``)."""
    return orjson.dumps({
        "id": 0, "database": ddl.schema, "table": ddl.table, "pkNames": None, "isDdl": True,
        "type": ddl_event_type(ddl.query),
        "es": ddl.commit_ts >> 18, "ts": build_ms, "sql": ddl.query, "sqlType": None, "mysqlType": None,
        "data": None, "old": None, "_tidb": {"commitTs": ddl.commit_ts},
    })


def encode_watermark(resolved_ts: int, build_ms: int = 0) -> bytes:
    """The canal-json WATERMARK message (``newJSONMessage4CheckpointEvent``)."""
    return orjson.dumps({
        "id": 0, "database": "", "table": "", "pkNames": None, "isDdl": False, "type": WATERMARK_TYPE,
        "es": resolved_ts >> 18, "ts": build_ms, "sql": "", "sqlType": None, "mysqlType": None,
        "data": None, "old": None, "_tidb": {"watermarkTs": resolved_ts},
    })


__all__ = ["CanalJsonCodec", "encode_ddl", "encode_row", "encode_watermark", "is_binary_mysql_type",
           "split_mysql_type"]
