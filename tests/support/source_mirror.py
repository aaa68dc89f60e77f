"""Change a source table as TiDB would and collect the matching Drainer row changes.

Why: an oracle test needs the source to hold exactly what TiDB would hold after each
change. TiDB finds the row of a DELETE/UPDATE by its handle (``_tidb_rowid`` for key-less
tables), never by a collation-equal value; here a byte-exact condition with ``LIMIT 1``
stands in for it, so 'x' and 'x ' (PAD SPACE) or 'x' and 'X' stay different rows.
"""

from __future__ import annotations

from tidb2mysql.events import Op, RowChange, TableChanges, TableSchema


class Source:
    """Applies row changes to the source table as TiDB would, and collects the Drainer rows."""

    def __init__(self, conn, schema: TableSchema):
        self.conn, self.s = conn, schema
        self.rows: list[RowChange] = []

    def _where(self, row) -> str:
        parts = []
        for c, v in zip(self.s.columns, row):
            if v is None:
                parts.append(f"`{c}` IS NULL")
            elif isinstance(v, str):
                parts.append(f"CAST(`{c}` AS BINARY) = X'{v.encode().hex()}'")
            else:
                parts.append(f"`{c}` = {v!r}")
        return " AND ".join(parts)

    def _exec(self, sql, args=()) -> int:
        with self.conn.cursor() as cur:
            return cur.execute(sql, args)

    def insert(self, row):
        cols = ",".join(f"`{c}`" for c in self.s.columns)
        self._exec(f"INSERT INTO `{self.s.schema}`.`{self.s.table}` ({cols}) VALUES ({','.join(['%s'] * len(row))})",
                   row)
        self.rows.append(RowChange(Op.INSERT, tuple(row), None))

    def delete(self, row):
        assert self._exec(f"DELETE FROM `{self.s.schema}`.`{self.s.table}` WHERE {self._where(row)} LIMIT 1") == 1
        self.rows.append(RowChange(Op.DELETE, None, tuple(row)))

    def update(self, old, new):
        sets = ",".join(f"`{c}`=%s" for c in self.s.columns)
        assert self._exec(f"UPDATE `{self.s.schema}`.`{self.s.table}` SET {sets} WHERE {self._where(old)} LIMIT 1",
                          new) == 1
        self.rows.append(RowChange(Op.UPDATE, tuple(new), tuple(old)))

    def commit(self, stream):
        if self.rows:
            stream.txn(TableChanges(self.s, self.rows))
        self.rows = []
