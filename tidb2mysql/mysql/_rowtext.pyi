# The C rendering of rows as LOAD DATA text and as SQL VALUES tuples (_rowtext.c); its rules are
# documented there.
from typing import Any, Callable, Optional

def encode(rows: list[Any], kinds: bytes, tables: tuple[dict[type, Callable[[Any], str]], ...],
           no_text: type[BaseException]) -> Optional[bytes]: ...
def values(rows: list[Any], encoders: dict[type, Callable[[Any], str]]) -> Optional[list[str]]: ...
