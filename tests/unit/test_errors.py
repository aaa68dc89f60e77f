"""The one error hierarchy (tidb2mysql/errors.py): every domain error class has a kind, and
the kind decides the exit code and whether the CLI reports it on one line. Pure."""

from __future__ import annotations

import pymysql
import pytest

from tidb2mysql import errors
from tidb2mysql.config import ConfigError
from tidb2mysql.ddl.tokenizer import TokenizeError
from tidb2mysql.drainer.decode import DrainerDecodeError
from tidb2mysql.events import KafkaPosition
from tidb2mysql.fullload.chunking import LoadPlanError
from tidb2mysql.fullload.coordinator import FullLoadError
from tidb2mysql.fullload.page_writer import PageWriteError
from tidb2mysql.fullload.snapshot import SnapshotError
from tidb2mysql.kafka_settings import KafkaConnectError
from tidb2mysql.mysql.catalog import CatalogIncomplete
from tidb2mysql.mysql.db import AccessDeniedError, TLSConnectError
from tidb2mysql.mysql.meta import MetaVersionError
from tidb2mysql.mysql.sql import LiteralError
from tidb2mysql.mysql.target_schema import UnknownTableError
from tidb2mysql.ops.fencing import JobFenced
from tidb2mysql.replication.checkpoint import RoutingMismatch, ShardCountMismatch
from tidb2mysql.replication.writer import WriteError
from tidb2mysql.schema.plan import SchemaPlanError
from tidb2mysql.selection.engine import SelectionError

CASES = [
    (ConfigError("[job] name: bad"), errors.CONFIGURATION, 2, "configuration error: [job] name: bad", ValueError),
    (SelectionError("x"), errors.CONFIGURATION, 2, "configuration error: x", ValueError),
    (SchemaPlanError("x"), errors.CONFIGURATION, 2, "configuration error: x", ValueError),
    (LoadPlanError("x"), errors.CONFIGURATION, 2, "configuration error: x", ValueError),
    (ShardCountMismatch("x"), errors.CONFIGURATION, 2, "configuration error: x", RuntimeError),
    (RoutingMismatch("x"), errors.CONFIGURATION, 2, "configuration error: x", RuntimeError),
    (MetaVersionError("x"), errors.CONFIGURATION, 2, "configuration error: x", RuntimeError),
    (JobFenced("finished"), errors.CONFIGURATION, 3, "job fenced: finished", RuntimeError),
    (KafkaConnectError("brokers b: auth"), errors.CONFIGURATION, 2, "cannot connect: brokers b: auth", RuntimeError),
    (TLSConnectError(2026, "target u@h: TLS"), errors.CONFIGURATION, 2, "cannot connect: target u@h: TLS",
     pymysql.err.OperationalError),
    (AccessDeniedError(1045, "target u@h: denied"), errors.CONFIGURATION, 2, "cannot connect: target u@h: denied",
     pymysql.err.OperationalError),
    (DrainerDecodeError(KafkaPosition("topic", 0, 5), 10, "x"), errors.INPUT_DATA, 1, None, ValueError),
    (LiteralError("x"), errors.INPUT_DATA, 1, None, ValueError),
    (TokenizeError("x", 0, "SELECT"), errors.INPUT_DATA, 1, None, ValueError),
    (UnknownTableError("d", "t"), errors.TARGET_PERMANENT, 1, None, LookupError),
    (PageWriteError("x"), errors.TARGET_PERMANENT, 1, None, RuntimeError),
    (CatalogIncomplete(0, "x"), errors.TARGET_TRANSIENT, 1, None, pymysql.err.OperationalError),
    (FullLoadError("x"), errors.INTERNAL, 1, None, RuntimeError),
    (SnapshotError("x"), errors.INTERNAL, 1, None, RuntimeError),
    (KeyError("not ours"), errors.INTERNAL, 1, None, KeyError),
]


@pytest.mark.parametrize("e, kind, code, line, legacy_base", CASES, ids=[type(c[0]).__name__ for c in CASES])
def test_each_error_has_one_kind_exit_code_and_report(e, kind, code, line, legacy_base):
    assert errors.category(e) == kind
    assert errors.exit_code(e) == code
    assert errors.one_line(e) == line
    assert isinstance(e, legacy_base)  # existing `except ValueError:` ... clauses still catch it


def test_a_write_error_is_transient_or_permanent_by_its_cause():
    lost = WriteError("d.t", "upsert", (1,), 2013, "lost")
    lost.__cause__ = pymysql.err.OperationalError(2013, "Lost connection")
    dup = WriteError("d.t", "insert", (1,), 1062, "duplicate")
    dup.__cause__ = pymysql.err.IntegrityError(1062, "Duplicate entry")
    assert (errors.category(lost), errors.category(dup)) == (errors.TARGET_TRANSIENT, errors.TARGET_PERMANENT)
