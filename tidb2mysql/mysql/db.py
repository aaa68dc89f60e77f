"""Opening MySQL-protocol connections: the one place the package calls ``pymysql.connect``.

Keeping it in one function means every connection gets the same basics: utf8mb4 (TiDB's
and our default; anything narrower mangles 4-byte characters) and the endpoint's credentials
resolved at connect time (``Endpoint.pymysql_kwargs``), the endpoint's TLS mode (an
explicit ``ssl.SSLContext``: required means required, never a silent plaintext fallback), and
connection errors that name the endpoint and say what to fix. Statement size is limited by the *server's*
``max_allowed_packet`` (1 GiB on the local stack); PyMySQL splits large statements into
16 MiB wire packets itself and uses its own ``max_allowed_packet`` only for LOAD DATA LOCAL.
Session settings that belong to a particular job (time zone, sql_mode, ...) are set by the
code that owns that job, not here.
"""

from __future__ import annotations

import ssl
from typing import Any, Optional

import pymysql

from tidb2mysql.config import Endpoint
from tidb2mysql.errors import ConnectError

# MySQL's client error "SSL connection error" (CR_SSL_CONNECTION_ERROR). Not in the transient
# codes of tidb2mysql.mysql.errors: a certificate that does not verify will not start
# verifying on the next retry, so the flows stop at once instead of retrying forever.
CR_SSL_CONNECTION_ERROR = 2026
ER_ACCESS_DENIED = 1045


_PREFERRED_CTX: Optional[ssl.SSLContext] = None


class _Connection(pymysql.connections.Connection):
    """PyMySQL's connection with one process-wide context for ``tls = "preferred"``.

    Why: in preferred mode PyMySQL builds ``ssl.create_default_context()`` on every connect,
    which loads the whole system CA store (0.1-0.5 s of CPU each time) for a context that
    then verifies nothing (no CA given: ``CERT_NONE``, no host check). The flows open a
    connection per shard and per helper, so that was ~1 s of a short run's CPU (py-spy,
    docs/performance.md). The context here is the same policy (encrypt if the server offers
    TLS, verify nothing) without loading certificates that are never used. Explicit modes
    (required, verify_*) pass their own context and are untouched.
    """

    def _create_ssl_ctx(self, sslp: Any) -> ssl.SSLContext:  # PyMySQL's private hook (absent from its stubs)
        global _PREFERRED_CTX
        if sslp == {}:
            if _PREFERRED_CTX is None:
                ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
                ctx.check_hostname = False
                ctx.verify_mode = ssl.CERT_NONE
                _PREFERRED_CTX = ctx
            return _PREFERRED_CTX
        default: ssl.SSLContext = super()._create_ssl_ctx(sslp)  # type: ignore[misc]
        return default


class AccessDeniedError(ConnectError, pymysql.err.OperationalError):
    """The server refused the user or password (1045): a configuration problem, never retried."""


class TLSConnectError(ConnectError, pymysql.err.OperationalError):
    """The TLS handshake with a MySQL-protocol server failed (untrusted CA, wrong host name,
    no TLS on the server): a configuration problem, never retried."""


def _role(endpoint: Endpoint) -> str:
    role = getattr(endpoint, "_role", "")
    return f"{role} " if role else ""


def _ssl_cause(e: BaseException) -> Optional[ssl.SSLError]:
    seen = 0
    cur: Optional[BaseException] = e
    while cur is not None and seen < 5:
        if isinstance(cur, ssl.SSLError):
            return cur
        cur = getattr(cur, "original_exception", None) or cur.__cause__ or cur.__context__
        seen += 1
    return None


def tls_advice(endpoint: Endpoint, reason: str) -> str:
    """What to change for a failed TLS handshake, from OpenSSL's reason text."""
    r = reason.lower()
    if "mismatch" in r or "hostname" in r:
        return (f"the server certificate does not name {endpoint.host!r}: connect with a host name the"
                " certificate lists (subjectAltName), or use tls = \"verify_ca\" to check only the CA")
    if "self-signed" in r or "self signed" in r or "unable to get local issuer" in r or "unknown ca" in r:
        return ("the server certificate is not signed by a CA in ca_file"
                f" ({endpoint.ca_file or 'system trust store'}): set ca_file to the CA that signed it"
                " (for RDS: the region's certificate bundle)")
    if "expired" in r:
        return "the server certificate has expired: renew it on the server"
    if "doesn't support" in r or "does not support" in r:
        return "the server has no TLS configured: enable TLS on the server, or set tls = \"off\""
    return "check tls, ca_file, cert_file and key_file for this endpoint"


def connect_error(endpoint: Endpoint, e: pymysql.err.OperationalError) -> pymysql.err.OperationalError:
    """``e`` re-made with the endpoint (role, user@host:port, tls mode) in its message.

    Keeps the class and error code, so retry classification is unchanged, except that TLS
    failures become :class:`TLSConnectError` (code 2026, permanent). PyMySQL's messages never
    contain the password, and neither does anything added here.
    """
    code = e.args[0] if e.args and isinstance(e.args[0], int) else -1
    msg = str(e.args[1]) if len(e.args) > 1 else str(e)
    where = f"{_role(endpoint)}{endpoint.describe()} (tls={endpoint.tls})"
    cause = _ssl_cause(e)
    if cause is not None or code == CR_SSL_CONNECTION_ERROR:
        reason = getattr(cause, "verify_message", None) or getattr(cause, "reason", None) or msg
        return TLSConnectError(CR_SSL_CONNECTION_ERROR,
                               f"{where}: TLS handshake failed: {reason}; fix: {tls_advice(endpoint, str(reason))}")
    if code == ER_ACCESS_DENIED:
        hint = "check user and password"
        if endpoint.tls == "off":
            hint += "; if the user REQUIRE SSL (e.g. RDS with require_secure_transport), set tls = \"verify_identity\""
        return AccessDeniedError(code, f"{where}: {msg}; fix: {hint}")
    return type(e)(code, f"{where}: {msg}")


def connect(
    endpoint: Endpoint,
    database: Optional[str] = None,
    autocommit: bool = True,
    **kw: Any,
) -> pymysql.connections.Connection:
    """A new PyMySQL connection to ``endpoint`` (optionally with ``database`` selected).

    Extra keyword arguments go to ``pymysql.connect`` and win over the defaults.
    """
    args: dict[str, Any] = dict(endpoint.pymysql_kwargs())
    args.setdefault("charset", "utf8mb4")
    args["autocommit"] = autocommit
    if database is not None:
        args["database"] = database
    args.update(kw)
    try:
        return _Connection(**args)
    except pymysql.err.OperationalError as e:
        raise connect_error(endpoint, e) from None
