"""A small DDL-heavy stream whose source side really exists: the fault tests' oracle.

Every statement runs on the source server (the MariaDB playing TiDB) *and* is produced to
Kafka as the Drainer message TiDB would have caused, so after replication the target
database must equal the source database, schema included (``compare_databases``).

:func:`build_ddl_kinds` writes the stream the fault matrix walks through: setup DDL, then
one DDL of each kind the barrier must survive, each followed at once by row changes that
depend on it (a write that lands before its DDL fails or is lost, and the comparison or the
dead-letter count shows it).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tidb2mysql.events import Op, RowChange, TableChanges, TableSchema
from tidb2mysql.replication.route import RUN_BITS


@dataclass
class Table:
    name: str
    columns: tuple[str, ...]
    types: tuple[str, ...]


@dataclass
class Scenario:
    stream: object  # tests.support.drainer_stream.Stream
    source: object  # autocommit connection to the source server
    db: str
    setup_ts: list[int] = field(default_factory=list)  # DDL that are not under test
    tested: dict[int, str] = field(default_factory=dict)  # commit_ts -> DDL kind under test

    def _exec(self, sql: str, args=None) -> None:
        with self.source.cursor() as cur:
            cur.execute(sql, args)

    def ddl(self, table: str, query: str, kind: str = "") -> int:
        if not query.upper().startswith("CREATE DATABASE"):
            self._exec(f"USE `{self.db}`")
        self._exec(query)
        self.stream.ddl(self.db, table, query)
        ts = self.stream.ts
        if kind:
            self.tested[ts] = kind
        else:
            self.setup_ts.append(ts)
        return ts

    def insert(self, *parts: tuple[Table, list[tuple]]) -> None:
        """One transaction inserting rows into one or more tables."""
        changes = []
        for t, rows in parts:
            cols = ", ".join(f"`{c}`" for c in t.columns)
            ph = ", ".join(["%s"] * len(t.columns))
            with self.source.cursor() as cur:
                cur.executemany(f"INSERT INTO `{self.db}`.`{t.name}` ({cols}) VALUES ({ph})", rows)
            changes.append(TableChanges(self._schema(t), [RowChange(Op.INSERT, r, None) for r in rows]))
        self.stream.txn(*changes)

    def update(self, t: Table, old: tuple, new: tuple) -> None:
        sets = ", ".join(f"`{c}`=%s" for c in t.columns[1:])
        self._exec(f"UPDATE `{self.db}`.`{t.name}` SET {sets} WHERE `{t.columns[0]}`=%s", (*new[1:], old[0]))
        self.stream.txn(TableChanges(self._schema(t), [RowChange(Op.UPDATE, new, old)]))

    def _schema(self, t: Table) -> TableSchema:
        return TableSchema(self.db, t.name, t.columns, t.types, pk=(0,), unique_keys=(("PRIMARY", (0,)),))


def rows(first: int, n: int, tag: str, extra: tuple = ()) -> list[tuple]:
    """Row number ``first + i`` has the key ``(first + i) << RUN_BITS``: one key per run of the
    key-runs routing rule (replication/route.py), so a table's rows spread over the shards
    and every barrier has shards with and without changes on each side of it."""
    return [((first + i) << RUN_BITS, f"{tag}{first + i}", *extra) for i in range(n)]


def build_ddl_kinds(sc: Scenario, per_txn: int = 12) -> None:
    """Setup, then CREATE TABLE, ADD COLUMN, TRUNCATE, ADD INDEX, CREATE VIEW, the 3-way RENAME
    swap and DROP TABLE a, b, each followed by changes that need it."""
    kv = ("bigint", "varchar")
    a, b = Table("a", ("id", "v"), kv), Table("b", ("id", "v"), kv)
    d, e = Table("d", ("id", "v"), kv), Table("e", ("id", "v"), kv)
    x1, x2 = Table("x1", ("id", "v"), kv), Table("x2", ("id", "v"), kv)
    sc.ddl("", f"CREATE DATABASE `{sc.db}`")
    for t in (a, b, d, e, x1, x2):
        sc.ddl(t.name, f"CREATE TABLE `{t.name}` (id BIGINT PRIMARY KEY, v VARCHAR(32))")
    sc.insert((a, rows(0, per_txn, "a")), (b, rows(0, per_txn, "b")), (d, rows(0, per_txn, "d")),
              (e, rows(1000, per_txn, "e")), (x1, rows(0, 3, "x")), (x2, rows(0, 3, "x")))

    c = Table("c", ("id", "v"), kv)
    sc.ddl("c", "CREATE TABLE `c` (id BIGINT PRIMARY KEY, v VARCHAR(32))", kind="create-table")
    sc.insert((c, rows(0, per_txn, "c")), (a, rows(100, per_txn, "a")))

    sc.ddl("a", "ALTER TABLE `a` ADD COLUMN w INT NULL", kind="add-column")
    a = Table("a", ("id", "v", "w"), ("bigint", "varchar", "int"))
    sc.insert((a, rows(200, per_txn, "a", (7,))))
    sc.update(a, (0, "a0", None), (0, "a0", 42))

    sc.ddl("b", "TRUNCATE TABLE `b`", kind="truncate")
    sc.insert((b, rows(500, per_txn, "b")))

    sc.ddl("c", "ALTER TABLE `c` ADD INDEX idx_v (v)", kind="add-index")
    sc.insert((c, rows(100, per_txn, "c")))

    sc.ddl("va", "CREATE VIEW `va` AS SELECT id, v FROM `c`", kind="create-view")
    sc.insert((c, rows(200, per_txn, "c")))

    sc.ddl("d", "RENAME TABLE `d` TO `tmp_swap`, `e` TO `d`, `tmp_swap` TO `e`", kind="rename-swap")
    sc.insert((d, rows(2000, per_txn, "d")), (e, rows(3000, per_txn, "e")))

    sc.ddl("x1", "DROP TABLE `x1`, `x2`", kind="drop-tables")
    sc.insert((a, rows(900, per_txn, "a", (1,))), (c, rows(900, per_txn, "c")))
