"""Where the incremental flow gets its DDL translation from (one function, one place)."""

from __future__ import annotations

from typing import Callable

from tidb2mysql.events import DDL
from tidb2mysql.replication.barrier import Translation, passthrough_translate


def make_translator(cfg, connect: Callable) -> Callable[[DDL], Translation]:
    """The DDL translator the barrier uses for this job's target."""
    return passthrough_translate
