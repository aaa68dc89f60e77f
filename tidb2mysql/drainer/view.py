"""The Drainer ``Binlog`` as the decoder parses it: a table's header fields stay bytes.

Why: every message of a table carries its whole structure (``column_info``, ``unique_keys``),
and the decoder only needs to know whether it is one it has seen (``Decoder._headers``). Read
field by field from parsed ``ColumnInfo`` messages, that test cost ~5.5 us per table and
message (10 columns), paid by every process of a ``-p N`` flow for every message; read as the
tuple of each entry's bytes it costs ~1.3 us, and the entries are parsed into ``ColumnInfo``
only when a structure is new.

The view is *derived* from ``secondary_binlog.proto`` at import (a copy of its descriptor in a
package of its own, with ``Table.column_info`` and ``Table.unique_keys`` declared ``bytes``),
so it cannot drift from it: a length-delimited message and ``bytes`` share one wire form, and
every other field, number, label and default is the generated module's own.
"""

from __future__ import annotations

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

from tidb2mysql.drainer import secondary_binlog_pb2 as pb

_PACKAGE = "tidb2mysql.drainer_view"
HEADER_FIELDS = ("column_info", "unique_keys")  # of Table: kept as the bytes of each entry


def _view_file() -> descriptor_pb2.FileDescriptorProto:
    fdp = descriptor_pb2.FileDescriptorProto()
    fdp.ParseFromString(pb.DESCRIPTOR.serialized_pb)
    old = "." + fdp.package + "."
    fdp.name = "tidb2mysql_drainer_view.proto"
    fdp.package = _PACKAGE
    for msg in fdp.message_type:
        for f in msg.field:
            if msg.name == "Table" and f.name in HEADER_FIELDS:
                f.type = descriptor_pb2.FieldDescriptorProto.TYPE_BYTES
                f.ClearField("type_name")
            elif f.type_name.startswith(old):
                f.type_name = "." + _PACKAGE + "." + f.type_name[len(old):]
    return fdp


_POOL = descriptor_pool.DescriptorPool()
_POOL.Add(_view_file())

Binlog = message_factory.GetMessageClass(_POOL.FindMessageTypeByName(_PACKAGE + ".Binlog"))
Table = message_factory.GetMessageClass(_POOL.FindMessageTypeByName(_PACKAGE + ".Table"))

__all__ = ["Binlog", "HEADER_FIELDS", "Table"]
