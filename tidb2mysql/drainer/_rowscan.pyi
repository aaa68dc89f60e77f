# The C row scan (_rowscan.c); its rules are documented there.
from typing import Any, Optional

def owned_rows(value: bytes, table_index: int, key_col: int, ncols: int, seed: int, owned: bytes, run_bits: int,
               placeholders: tuple[Any, Any, Any]) -> Optional[tuple[list[Any], list[int]]]: ...
