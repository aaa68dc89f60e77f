"""A large Drainer message indexed at the protobuf wire level, parsed one slice at a time.

Why: a transaction of 50,000 rows is a ~14 MiB message, and parsing it whole into protobuf
objects costs ~4x its size (59 MiB measured) for as long as its slices are being applied.
That made peak memory grow with transaction size (docs/performance.md). Here the message
stays as its bytes; one scan records where each table's header fields and each row change
(``TableMutation``) start and end, and a slice is parsed from just its own rows' bytes plus
the table's header. Memory is then the message bytes, two offset arrays and one slice.

Only what the slicing path needs (``Decoder.parse`` -> ``MessageSlicer`` ->
``Decoder.decode_slice``): ``type``, ``commit_ts``, the row count per table, a table slice as
a ``view.Table``, and the original bytes (dead letters keep them exactly). A message whose
structure the scan does not handle the plain way (a singular field repeated, which protobuf
would merge; a group; a truncated field) is refused with :class:`WireError`, and the caller
parses it whole instead, so nothing is ever decoded differently from the protobuf library.
"""

from __future__ import annotations

from array import array

from tidb2mysql.drainer import secondary_binlog_pb2 as pb
from tidb2mysql.drainer import view

_VARINT, _I64, _LEN, _I32 = 0, 1, 2, 5


class WireError(ValueError):
    """The message's wire structure is not one this index handles (parse it whole)."""


def _varint(buf, i: int, end: int) -> tuple[int, int]:
    shift = result = 0
    while True:
        if i >= end:
            raise WireError("truncated varint")
        b = buf[i]
        i += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, i
        shift += 7
        if shift > 63:
            raise WireError("varint longer than 10 bytes")


def _fields(buf, i: int, end: int):
    """(field number, wire type, value start, value end, field start) of each field in [i, end)."""
    while i < end:
        start = i
        key, i = _varint(buf, i, end)
        num, wt = key >> 3, key & 7
        if wt == _VARINT:
            _, j = _varint(buf, i, end)
        elif wt == _LEN:
            n, i = _varint(buf, i, end)
            j = i + n
        elif wt == _I64:
            j = i + 8
        elif wt == _I32:
            j = i + 4
        else:
            raise WireError(f"wire type {wt} (group) in field {num}")
        if j > end:
            raise WireError(f"field {num} runs past the end of its message")
        yield num, wt, i, j, start
        i = j


class _TableIndex:
    __slots__ = ("header", "starts", "ends")

    def __init__(self) -> None:
        self.header = bytearray()  # the raw bytes of every non-mutation field, in order
        self.starts = array("Q")  # each mutation field's bytes (tag + length + payload)
        self.ends = array("Q")


class WireBinlog:
    """An indexed DML ``Binlog``: ``type``, ``commit_ts``, per-table row counts, slices."""

    def __init__(self, value: bytes):
        self.value = value
        buf = memoryview(value)
        self.type = None
        self.commit_ts = None
        dml = None
        seen: set[int] = set()
        for num, wt, a, b, _s in _fields(buf, 0, len(buf)):
            if num in (1, 2, 3, 4):
                if num in seen:
                    raise WireError(f"Binlog field {num} appears twice")
                seen.add(num)
            if num == 1 and wt == _VARINT:
                self.type = _varint(buf, a, b)[0]
            elif num == 2 and wt == _VARINT:
                v = _varint(buf, a, b)[0]
                self.commit_ts = v - (1 << 64) if v >> 63 else v  # int64
            elif num == 3 and wt == _LEN:
                dml = (a, b)
            elif num in (1, 2, 3, 4):
                raise WireError(f"Binlog field {num} has wire type {wt}")
        if self.type != pb.DML or self.commit_ts is None or dml is None:
            raise WireError("not a DML message with commit_ts and dml_data")
        self.tables: list[_TableIndex] = []
        for num, wt, a, b, _s in _fields(buf, *dml):
            if num != 1:
                continue
            if wt != _LEN:
                raise WireError("DMLData.tables is not length-delimited")
            t = _TableIndex()
            singular: set[int] = set()
            for fnum, fwt, _fa, fb, fs in _fields(buf, a, b):
                if fnum == 4:
                    if fwt != _LEN:
                        raise WireError("Table.mutations is not length-delimited")
                    t.starts.append(fs)
                    t.ends.append(fb)
                else:
                    if fnum in (1, 2):
                        if fnum in singular:
                            raise WireError(f"Table field {fnum} appears twice")
                        singular.add(fnum)
                    t.header += buf[fs:fb]
            self.tables.append(t)

    def mutation_counts(self) -> list[int]:
        return [len(t.starts) for t in self.tables]

    def table_slice(self, table_index: int, start: int, end: int):
        """Table ``table_index`` with only its row changes ``[start, end)`` (a ``view.Table``)."""
        t = self.tables[table_index]
        v = self.value
        parts = [bytes(t.header)]
        starts, ends = t.starts, t.ends
        i = start
        while i < end:  # contiguous runs are one copy (the encoder writes them in a row)
            j = i + 1
            while j < end and starts[j] == ends[j - 1]:
                j += 1
            parts.append(v[starts[i]:ends[j - 1]])
            i = j
        table = view.Table()
        table.ParseFromString(b"".join(parts))
        return table

    def SerializeToString(self) -> bytes:  # noqa: N802 - the protobuf message's name, for dead letters
        return self.value


__all__ = ["WireBinlog", "WireError"]
