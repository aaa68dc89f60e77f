"""A PyMySQL-shaped fake connection for pure unit tests: every statement is logged and
answered by a function of its SQL text (rows as a list of tuples)."""

from __future__ import annotations

from typing import Callable


class FakeCursor:
    def __init__(self, conn: "FakeConn"):
        self.conn, self.rows = conn, []

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def execute(self, sql, args=None):
        self.conn.log.append(sql if args is None else (sql, args))
        self.rows = list(self.conn.answer(sql, args) or [])

    def fetchone(self):
        return self.rows[0] if self.rows else None

    def fetchall(self):
        return list(self.rows)

    def close(self):
        pass


class FakeConn:
    def __init__(self, answer: Callable):
        self.answer, self.log = answer, []

    def cursor(self, *_):
        return FakeCursor(self)
