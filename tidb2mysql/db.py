"""Opening MySQL-protocol connections: the one place the package calls ``pymysql.connect``.

Keeping it in one function means every connection gets the same basics: utf8mb4 (TiDB's
and our default; anything narrower mangles 4-byte characters) and the endpoint's credentials
resolved at connect time (``Endpoint.pymysql_kwargs``), and a future connection-wide change
(TLS, a timeout) is made once. Statement size is limited by the *server's*
``max_allowed_packet`` (1 GiB on the local stack); PyMySQL splits large statements into
16 MiB wire packets itself and uses its own ``max_allowed_packet`` only for LOAD DATA LOCAL.
Session settings that belong to a particular job (time zone, sql_mode, ...) are set by the
code that owns that job, not here.
"""

from __future__ import annotations

from typing import Any, Optional

import pymysql

from tidb2mysql.config import Endpoint


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
    return pymysql.connect(**args)
