"""The committed Drainer protobuf module matches proto/, and proto/ matches Drainer's wire format.

Two ways the wire contract could silently drift:

1. someone edits ``proto/secondary_binlog.proto`` and forgets to regenerate (or edits the
   generated module by hand): caught by regenerating into a temp dir and diffing;
2. someone edits the ``.proto`` carelessly (renumbers a field, changes a type or label):
   caught by checking the descriptor against the table in drainer.md section 1.2, which
   was verified against upstream Go code.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from google.protobuf import descriptor_pb2
from google.protobuf.descriptor import FieldDescriptor as F

from tidb2mysql.drainer import secondary_binlog_pb2 as pb

ROOT = Path(__file__).resolve().parents[2]

OPT, REQ, REP = "optional", "required", "repeated"

# message -> [(number, name, type, label, message/enum type name or None)]
EXPECTED = {
    "Binlog": [
        (1, "type", F.TYPE_ENUM, OPT, "BinlogType"),
        (2, "commit_ts", F.TYPE_INT64, OPT, None),
        (3, "dml_data", F.TYPE_MESSAGE, OPT, "DMLData"),
        (4, "ddl_data", F.TYPE_MESSAGE, OPT, "DDLData"),
        (5, "time_zone", F.TYPE_STRING, OPT, None),
    ],
    "DMLData": [(1, "tables", F.TYPE_MESSAGE, REP, "Table")],
    "Table": [
        (1, "schema_name", F.TYPE_STRING, OPT, None),
        (2, "table_name", F.TYPE_STRING, OPT, None),
        (3, "column_info", F.TYPE_MESSAGE, REP, "ColumnInfo"),
        (4, "mutations", F.TYPE_MESSAGE, REP, "TableMutation"),
        (5, "unique_keys", F.TYPE_MESSAGE, REP, "Key"),
    ],
    "Key": [
        (1, "name", F.TYPE_STRING, OPT, None),
        (2, "column_names", F.TYPE_STRING, REP, None),
    ],
    "ColumnInfo": [
        (1, "name", F.TYPE_STRING, OPT, None),
        (2, "mysql_type", F.TYPE_STRING, OPT, None),
        (3, "is_primary_key", F.TYPE_BOOL, OPT, None),
        (4, "flen", F.TYPE_INT32, OPT, None),
        (5, "decimal", F.TYPE_INT32, OPT, None),
    ],
    "TableMutation": [
        (1, "type", F.TYPE_ENUM, REQ, "MutationType"),
        (2, "row", F.TYPE_MESSAGE, REQ, "Row"),
        (3, "change_row", F.TYPE_MESSAGE, OPT, "Row"),
    ],
    "Row": [(1, "columns", F.TYPE_MESSAGE, REP, "Column")],
    "Column": [
        (1, "is_null", F.TYPE_BOOL, OPT, None),
        (2, "int64_value", F.TYPE_INT64, OPT, None),
        (3, "uint64_value", F.TYPE_UINT64, OPT, None),
        (4, "double_value", F.TYPE_DOUBLE, OPT, None),
        (5, "bytes_value", F.TYPE_BYTES, OPT, None),
        (6, "string_value", F.TYPE_STRING, OPT, None),
    ],
    "DDLData": [
        (1, "schema_name", F.TYPE_STRING, OPT, None),
        (2, "table_name", F.TYPE_STRING, OPT, None),
        (3, "ddl_query", F.TYPE_BYTES, OPT, None),
    ],
}

ENUMS = {
    "MutationType": {"Insert": 0, "Update": 1, "Delete": 2},
    "BinlogType": {"DML": 0, "DDL": 1},
}


def _file_proto() -> descriptor_pb2.FileDescriptorProto:
    """The descriptor as protoc wrote it (keeps labels and syntax, unlike the upb runtime API)."""
    fdp = descriptor_pb2.FileDescriptorProto()
    fdp.ParseFromString(pb.DESCRIPTOR.serialized_pb)
    return fdp


_LABELS = {
    descriptor_pb2.FieldDescriptorProto.LABEL_OPTIONAL: OPT,
    descriptor_pb2.FieldDescriptorProto.LABEL_REQUIRED: REQ,
    descriptor_pb2.FieldDescriptorProto.LABEL_REPEATED: REP,
}


def test_generated_module_matches_proto(tmp_path):
    out = subprocess.run(
        [sys.executable, "-m", "grpc_tools.protoc", f"-I{ROOT / 'proto'}", f"--python_out={tmp_path}",
         str(ROOT / "proto" / "secondary_binlog.proto")],
        capture_output=True, text=True, timeout=60,
    )
    assert out.returncode == 0, out.stderr
    fresh = (tmp_path / "secondary_binlog_pb2.py").read_text()
    committed = (ROOT / "tidb2mysql" / "drainer" / "secondary_binlog_pb2.py").read_text()
    assert fresh == committed, (
        "tidb2mysql/drainer/secondary_binlog_pb2.py is stale: regenerate with "
        "`.venv/bin/python -m grpc_tools.protoc -Iproto --python_out=tidb2mysql/drainer "
        "proto/secondary_binlog.proto`"
    )


def test_descriptor_matches_drainer_wire_format():
    fdp = _file_proto()
    assert fdp.package == "slave.binlog"
    assert fdp.syntax in ("", "proto2")  # protoc leaves it empty for proto2
    messages = {m.name: m for m in fdp.message_type}
    assert set(messages) == set(EXPECTED)
    for msg, fields in EXPECTED.items():
        got = [
            (f.number, f.name, f.type, _LABELS[f.label], f.type_name.rsplit(".", 1)[-1] or None)
            for f in sorted(messages[msg].field, key=lambda f: f.number)
        ]
        assert got == fields, msg
        for f in messages[msg].field:
            if f.type_name:
                assert f.type_name.startswith(".slave.binlog."), f.type_name
    enums = {e.name: {v.name: v.number for v in e.value} for e in fdp.enum_type}
    assert enums == ENUMS
    is_null = next(f for f in messages["Column"].field if f.name == "is_null")
    assert is_null.default_value == "false"
