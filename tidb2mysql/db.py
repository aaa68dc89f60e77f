"""Opening MySQL-protocol connections: the one place the package calls ``pymysql.connect``.

Keeping it in one function means every connection gets the same basics: utf8mb4 (TiDB's
and our default; anything narrower mangles 4-byte characters), the endpoint's credentials
resolved at connect time (``Endpoint.pymysql_kwargs``), and a client-side packet limit as
large as the servers' (1 GiB). PyMySQL's own default is 16 MiB, which would make a large
multi-row statement fail in the client with a confusing error although the server accepts it.
Session settings that belong to a particular job (time zone, sql_mode, ...) are set by the
code that owns that job, not here.
"""

from __future__ import annotations

from typing import Any, Optional

import pymysql

from tidb2mysql.config import Endpoint

# Matches max_allowed_packet of the local stack and the largest Drainer transactions.
MAX_ALLOWED_PACKET = 1 << 30


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
    args["max_allowed_packet"] = MAX_ALLOWED_PACKET
    if database is not None:
        args["database"] = database
    args.update(kw)
    return pymysql.connect(**args)
