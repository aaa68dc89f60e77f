"""A token buffer with deletions, replacements and insertions, rendered back to text.

Rewrites address *significant* tokens (not whitespace or comments) by their position in
``sig``; everything not edited is emitted with its original text, so an untouched statement
renders byte for byte. Whitespace that a deletion leaves doubled (or in front of ``,``/``)``)
is dropped, but only next to a deletion.
"""

from __future__ import annotations

from typing import Optional

from tidb2mysql.ddl.tokenizer import WS, Token


class Edit:
    def __init__(self, tokens: list[Token]):
        self.toks = tokens
        self.out = [t.text for t in tokens]
        self.dead = [False] * len(tokens)
        self.sig = [i for i, t in enumerate(tokens) if t.significant]

    # --- reading ------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.sig)

    def tok(self, k: int) -> Optional[Token]:
        return self.toks[self.sig[k]] if 0 <= k < len(self.sig) else None

    def word(self, k: int) -> str:
        """Upper-cased keyword at sig position k ('' if not a bare word or out of range)."""
        t = self.tok(k)
        return t.text.upper() if t is not None and t.kind == "word" else ""

    def words(self, k: int, n: int) -> tuple[str, ...]:
        return tuple(self.word(k + i) for i in range(n))

    def is_op(self, k: int, *ops: str) -> bool:
        t = self.tok(k)
        return t is not None and t.kind == "op" and t.text in ops

    def close_of(self, k: int) -> int:
        """Sig position of the ``)`` matching the ``(`` at k."""
        depth = 0
        for j in range(k, len(self.sig)):
            if self.is_op(j, "("):
                depth += 1
            elif self.is_op(j, ")"):
                depth -= 1
                if depth == 0:
                    return j
        raise ValueError(f"unbalanced parenthesis at offset {self.tok(k).pos}")

    def split(self, a: int, b: int, sep: str = ",") -> list[tuple[int, int]]:
        """Ranges [x, y] (inclusive sig positions) of a..b split at depth-0 separators."""
        parts, start, k = [], a, a
        while k <= b:
            if self.is_op(k, "("):
                k = self.close_of(k) + 1
                continue
            if self.is_op(k, sep):
                parts.append((start, k - 1))
                start = k + 1
            k += 1
        parts.append((start, b))
        return [(x, y) for x, y in parts if x <= y]

    def source(self, a: int, b: int) -> str:
        """Original text of sig positions a..b (including what lies between)."""
        return "".join(t.text for t in self.toks[self.sig[a]:self.sig[b] + 1])

    def alive(self, a: int, b: int) -> bool:
        """Whether any significant token in a..b survives."""
        return any(not self.dead[self.sig[k]] for k in range(a, b + 1))

    # --- editing ------------------------------------------------------------------------
    def delete(self, a: int, b: int) -> None:
        for i in range(self.sig[a], self.sig[b] + 1):
            self.dead[i] = True

    def replace(self, k: int, text: str) -> None:
        self.out[self.sig[k]] = text

    def replace_range(self, a: int, b: int, text: str) -> None:
        self.delete(a + 1, b) if b > a else None
        self.replace(a, text)

    def insert_after(self, k: int, text: str) -> None:
        self.out[self.sig[k]] = self.out[self.sig[k]] + text

    def insert_before(self, k: int, text: str) -> None:
        self.out[self.sig[k]] = text + self.out[self.sig[k]]

    # --- output -------------------------------------------------------------------------
    def render(self) -> str:
        n = len(self.toks)
        pieces: list[str] = []
        for i, t in enumerate(self.toks):
            if self.dead[i]:
                continue
            if t.kind == WS and ((i > 0 and self.dead[i - 1]) or (i + 1 < n and self.dead[i + 1])):
                last = pieces[-1][-1:] if pieces else ""
                nxt = next((self.out[j] for j in range(i + 1, n) if not self.dead[j]), "")
                if last in ("", " ", "\t", "\n", "(") or nxt[:1] in ("", ",", ")", " ", "\n"):
                    continue
            pieces.append(self.out[i])
        return "".join(pieces)
