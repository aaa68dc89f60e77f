"""One error hierarchy: what went wrong decides the exit code and the reported category, once.

Every error tidb2mysql raises on purpose derives from one of five kinds:

=====================  ==========================================================  =========
kind                   meaning                                                     exit code
=====================  ==========================================================  =========
ConfigurationError     the settings are wrong (file, flags, credentials, TLS, a    2
                       fenced job: 3); fix them and run again
InputDataError         a source message or value cannot be used (undecodable,      1
                       no SQL literal, untokenizable DDL): dead-lettered, or the
                       flow stops in strict mode
TargetPermanentError   the target refuses (missing table/column, divergence, a     1
                       failing row); retrying the same thing cannot help
TargetTransientError   the target is temporarily unavailable; retried              1
InternalError          anything else tidb2mysql detects (a lane died, a snapshot   1
                       could not be opened, ...)
=====================  ==========================================================  =========

Classes keep their historical builtin base as well (``ConfigError`` is still a
``ValueError``, ``TLSConnectError`` still a PyMySQL ``OperationalError``), so existing
``except`` clauses keep working. :func:`exit_code` and :func:`category` are the one mapping;
the CLI (``cli.main``) and the flow entry (``flows/incremental.py``) use them.
"""

from __future__ import annotations

CONFIGURATION = "configuration"
INPUT_DATA = "input data"
TARGET_PERMANENT = "target permanent"
TARGET_TRANSIENT = "target transient"
INTERNAL = "internal"


class Tidb2MysqlError(Exception):
    """Base of every error tidb2mysql raises on purpose."""

    category: str = INTERNAL
    exit_code: int = 1
    # How the CLI introduces the message on one line (no traceback); None: not one-line
    # material, the traceback helps (internal errors).
    headline: str | None = None


class ConfigurationError(Tidb2MysqlError):
    category = CONFIGURATION
    exit_code = 2
    headline = "configuration error"


class ConnectError(ConfigurationError):
    """Credentials or TLS refused while connecting (a server that is down is transient, not this)."""

    headline = "cannot connect"


class InputDataError(Tidb2MysqlError):
    category = INPUT_DATA


class TargetPermanentError(Tidb2MysqlError):
    category = TARGET_PERMANENT


class TargetTransientError(Tidb2MysqlError):
    category = TARGET_TRANSIENT


class InternalError(Tidb2MysqlError):
    category = INTERNAL


def exit_code(e: BaseException) -> int:
    """The process exit code for an error that ended a command or a flow."""
    return e.exit_code if isinstance(e, Tidb2MysqlError) else 1


def category(e: BaseException) -> str:
    """The kind of an error (for logs and reports); errors we did not raise are internal."""
    return e.category if isinstance(e, Tidb2MysqlError) else INTERNAL


def message(e: BaseException) -> str:
    """The error's text without a PyMySQL-style ``(code, ...)`` wrapper."""
    args = e.args
    return str(args[1]) if len(args) > 1 and isinstance(args[0], int) else str(e)


def one_line(e: BaseException) -> str | None:
    """``headline: message`` for errors the CLI reports on one line, else None (traceback)."""
    if not isinstance(e, Tidb2MysqlError) or e.headline is None:
        return None
    return f"{e.headline}: {message(e)}"


__all__ = [
    "CONFIGURATION",
    "INPUT_DATA",
    "INTERNAL",
    "TARGET_PERMANENT",
    "TARGET_TRANSIENT",
    "ConfigurationError",
    "ConnectError",
    "InputDataError",
    "InternalError",
    "TargetPermanentError",
    "TargetTransientError",
    "Tidb2MysqlError",
    "category",
    "exit_code",
    "message",
    "one_line",
]
