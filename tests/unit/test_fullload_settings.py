"""The [full_load] config section (pure)."""

from __future__ import annotations

import pytest

from tidb2mysql import config
from tidb2mysql.config.full_load import FullLoadConfig


def test_defaults_when_absent():
    cfg = config.parse({})
    assert cfg.full_load == FullLoadConfig()


def test_values_are_read_and_checked():
    cfg = config.parse({"full_load": {"tables": ["db.*", "x.t"], "chunk_rows": 10, "snapshot": "tidb"}})
    s = cfg.full_load
    assert s.tables == ["db.*", "x.t"] and s.chunk_rows == 10 and s.snapshot == "tidb"


@pytest.mark.parametrize("values,msg", [
    ({"chunk_rows": 0}, "chunk_rows"),
    ({"snapshot": "maybe"}, "snapshot must be one of"),
    ({"tables": ["nodot"]}, "is not 'db.table'"),
    ({"tso_table": "x"}, "tso_table"),
    ({"row_totals": "guess"}, "row_totals"),
    ({"chunk_size": 5}, "unknown key"),
])
def test_bad_values_name_the_section(values, msg):
    with pytest.raises(config.ConfigError, match=r"\[full_load\].*" + msg):
        config.parse({"full_load": values})
