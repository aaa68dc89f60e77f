"""``tidb2mysql precheck``: can this job run? Every check says pass / warn / fail and how to fix it.

Like Alibaba DTS's precheck, the checks are real probes where a probe is harmless (connect,
``SELECT ... LIMIT 0`` on every selected table, CREATE/INSERT/ALTER/DROP in a scratch schema
on the target, reading the first and last Drainer message with the decoder) and read-only
comparisons otherwise (server variables, Kafka configs). What cannot be observed over SQL or
the Kafka protocol (target free disk space, the Drainer host's time zone) is said to be
unknown, never guessed.

A check that depends on another one that failed (e.g. privileges when the server is down) is
not run; its root cause is already reported.
"""

from __future__ import annotations

import re
import time
import uuid
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta, timezone
from typing import Callable, Optional
from zoneinfo import ZoneInfo

from tidb2mysql.config.full_load import parse_go_duration
from tidb2mysql.mysql import db
from tidb2mysql.mysql.session import isolation_for
from tidb2mysql.mysql.sql import quote_ident
from tidb2mysql.mysql.target_schema import as_text

PASS, WARN, FAIL = "pass", "warn", "fail"
ER_INSECURE_TRANSPORT = 3159  # MySQL: require_secure_transport refuses a plaintext connection
DRAINER_MESSAGE_BYTES = 1 << 30  # Drainer's kafka-max-message-size default
RECEIVE_OVERHEAD = 512  # librdkafka: receive.message.max.bytes >= fetch.max.bytes + 512


@dataclass
class Check:
    name: str
    status: str
    detail: str
    fix: str = ""

    def to_json(self) -> dict:
        return asdict(self)


@dataclass
class PrecheckOptions:
    keyless: str = WARN  # policy for selected tables without a primary or unique key
    full_load_mb_per_s: float = 0.0  # assumed speed for the GC check; 0 = measure it (read the largest table)
    sample_timeout: float = 15.0  # seconds to read one sampled Kafka message
    tables: tuple = ()  # db.table / db.* patterns overriding [full_load] tables (migrate --tables)
    scan_data: bool = True  # scan date and latin1 columns for values the target refuses (a full scan each)


def _one(conn, sql: str, *args):
    with conn.cursor() as cur:
        cur.execute(sql, args)
        row = cur.fetchone()
    return None if row is None else (row[0] if len(row) == 1 else row)


def _all(conn, sql: str, *args) -> list:
    with conn.cursor() as cur:
        cur.execute(sql, args)
        return list(cur.fetchall())


def _mb(n: float) -> str:
    return f"{n / (1 << 20):.1f} MiB"


def utc_offset(zone: str, system_zone: str = "", at: Optional[datetime] = None) -> Optional[timedelta]:
    """UTC offset of a MySQL time_zone value ('SYSTEM', '+08:00', 'Asia/Shanghai') now."""
    at = at or datetime.now(timezone.utc)
    if zone.upper() == "SYSTEM":
        zone = system_zone
    m = re.fullmatch(r"([+-])(\d{1,2}):(\d{2})", zone.strip())
    if m:
        d = timedelta(hours=int(m.group(2)), minutes=int(m.group(3)))
        return -d if m.group(1) == "-" else d
    try:
        return at.astimezone(ZoneInfo(zone)).utcoffset()
    except Exception:  # noqa: BLE001 - abbreviations like 'CET' or 'UTC' from system_time_zone
        try:
            return at.astimezone(ZoneInfo(zone.upper())).utcoffset()
        except Exception:  # noqa: BLE001
            return None


def is_loopback(host: str) -> bool:
    import ipaddress

    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def grants_cover(grants: list[str], schema: str, privilege: str) -> bool:
    """Whether SHOW GRANTS lines give ``privilege`` on ``schema``.* (or *.*)."""
    pat_db = re.compile(r"^GRANT (.+?) ON (\S+) TO ", re.I)
    for g in grants:
        m = pat_db.match(g)
        if not m:
            continue
        privs, on = m.group(1).upper(), m.group(2).replace("`", "")
        if on not in ("*.*", f"{schema}.*"):
            continue
        if "ALL PRIVILEGES" in privs or re.search(rf"(^|, ){re.escape(privilege.upper())}(,|$)", privs):
            return True
    return False


class Precheck:
    def __init__(self, cfg, options: Optional[PrecheckOptions] = None):
        self.cfg = cfg
        self.o = options or PrecheckOptions()
        self.checks: list[Check] = []
        self.src = self.tgt = None
        self.src_version = self.tgt_version = ""
        self.selected: list[tuple[str, str]] = []
        self.sampled_max = 0
        self.admin = None

    def add(self, name: str, status: str, detail: str, fix: str = "") -> Check:
        c = Check(name, status, detail, fix if status != PASS else "")
        self.checks.append(c)
        return c

    def guarded(self, name: str, fn: Callable[[], None]) -> None:
        try:
            fn()
        except Exception as e:  # noqa: BLE001 - one broken check must not hide the others
            self.add(name, FAIL, f"check could not run: {type(e).__name__}: {e}", "see the error")

    def run(self) -> list[Check]:
        self.guarded("source.connect", self.check_source_connect)
        self.guarded("target.connect", self.check_target_connect)
        self.guarded("kafka.connect", self.check_kafka_connect)
        if self.src is not None:
            self.guarded("source.selection", self.check_selection)
            self.guarded("source.privileges", self.check_source_privileges)
            self.guarded("source.keys", self.check_keys)
            self.guarded("source.tidb_gc", self.check_gc)
            self.guarded("source.binlog", self.check_binlog)
            if self.o.scan_data:
                self.guarded("source.invalid_dates", self.check_invalid_dates)
                self.guarded("source.charset_data", self.check_charset_data)
        if self.tgt is not None:
            self.guarded("target.privileges", self.check_target_privileges)
            self.guarded("target.isolation", self.check_target_isolation)
            self.guarded("target.local_infile", self.check_target_local_infile)
        if self.src is not None and self.tgt is not None:
            self.guarded("space", self.check_space)
            self.guarded("compat.variables", self.check_variables)
            self.guarded("compat.charsets", self.check_charsets)
        if self.admin is not None:
            self.guarded("kafka.topic", self.check_topic)
            self.guarded("kafka.limits", self.check_limits)
        self.guarded("drainer.time_zone", self.check_drainer_tz)
        for c in (self.src, self.tgt):
            if c is not None:
                c.close()
        return self.checks

    # -- connectivity ---------------------------------------------------------------------

    def _connect(self, name: str, endpoint, role: str):
        import dataclasses

        import pymysql

        try:
            conn = db.connect(endpoint, autocommit=True)
        except Exception as e:  # noqa: BLE001
            msg = str(e.args[1]) if len(getattr(e, "args", ())) > 1 else str(e)
            detail, _, fix = msg.partition("; fix: ")
            code = e.args[0] if getattr(e, "args", None) and isinstance(e.args[0], int) else -1
            if code in (db.ER_ACCESS_DENIED, ER_INSECURE_TRANSPORT) and endpoint.tls == "off":
                # Does the same user get in over TLS? Then the server requires TLS, not
                # another password: say so (RDS with require_secure_transport, REQUIRE SSL).
                try:
                    db.connect(dataclasses.replace(endpoint, tls="required"), autocommit=True).close()
                    requires_tls = True
                except pymysql.MySQLError:
                    requires_tls = False
                if requires_tls:
                    self.add(name, FAIL, f"{endpoint.describe()} accepts {endpoint.user!r} only over TLS (REQUIRE SSL or"
                             f" require_secure_transport), but [{role}] tls = \"off\"",
                             f"set [{role}] tls = \"verify_identity\" and ca_file = the server's CA (RDS: the region bundle)")
                    return None, ""
            self.add(name, FAIL, f"cannot connect to {detail}",
                     fix or f"check [{role}] host/port/user/password and that the server is reachable from here")
            return None, ""
        version = as_text(_one(conn, "SELECT VERSION()"))
        self.add(name, PASS, f"{endpoint.describe()}: version {version}")
        self.guarded(f"{role}.tls", lambda: self.check_tls(f"{role}.tls", conn, endpoint, role))
        return conn, version

    def check_tls(self, name: str, conn, endpoint, role: str) -> None:
        """Is the connection encrypted, and is the server's identity verified?"""
        status = {as_text(k): as_text(v) for k, v in _all(conn, "SHOW SESSION STATUS LIKE %s", "Ssl\\_%")}
        version, cipher = status.get("Ssl_version", ""), status.get("Ssl_cipher", "")
        local = bool(endpoint.unix_socket) or is_loopback(endpoint.host)
        fix = f"set [{role}] tls = \"verify_identity\" with ca_file = the server's CA (docs/operations.md, Securing connections)"
        if not version:
            if local:
                self.add(name, PASS, f"not encrypted (tls = {endpoint.tls}); fine on loopback/socket {endpoint.describe()}")
            else:
                self.add(name, WARN, f"not encrypted (tls = {endpoint.tls}): rows and queries to {endpoint.describe()}"
                         " cross the network in clear", fix)
            return
        how = {"verify_identity": "CA and host name verified", "verify_ca": "CA verified, host name NOT checked",
               "required": "server NOT verified", "preferred": "server NOT verified"}[endpoint.tls]
        detail = f"{version} {cipher} (tls = {endpoint.tls}: {how})"
        if endpoint.tls in ("verify_identity", "verify_ca") or local:
            self.add(name, PASS, detail)
        else:
            self.add(name, WARN, detail + ": a man in the middle could present any certificate", fix)

    def check_source_connect(self) -> None:
        self.src, self.src_version = self._connect("source.connect", self.cfg.source, "source")

    def check_target_connect(self) -> None:
        self.tgt, self.tgt_version = self._connect("target.connect", self.cfg.target, "target")

    def check_kafka_connect(self) -> None:
        from tidb2mysql.kafka_settings import KafkaConnectError, check_connection

        k = self.cfg.kafka
        try:
            admin, md = check_connection(k, timeout=10)
        except KafkaConnectError as e:
            detail, _, fix = str(e).partition("; fix: ")
            self.add("kafka.connect", FAIL, detail, fix or "check the [kafka] section")
            return
        self.admin = admin
        version = "unknown"
        try:  # the protocol version the brokers speak (Kafka has no VERSION() over the protocol)
            from confluent_kafka.admin import ConfigResource

            res = ConfigResource(ConfigResource.Type.BROKER, str(next(iter(md.brokers))))
            entries = admin.describe_configs([res])[res].result(timeout=10)
            entry = entries.get("inter.broker.protocol.version")
            version = entry.value if entry is not None and entry.value else version
        except Exception:  # noqa: BLE001 - describing configs may be denied by ACLs
            pass
        self.add("kafka.connect", PASS, f"{k.describe()}: {len(md.brokers)} broker(s), cluster {md.cluster_id},"
                 f" inter.broker.protocol.version {version}")
        hosts = [b.strip().rsplit(":", 1)[0].strip("[]") for b in k.brokers.split(",") if b.strip()]
        remote = [h for h in hosts if not is_loopback(h)]
        sec = k.effective_security()
        if sec != k.security:
            self.add("kafka.security", PASS if sec in ("ssl", "sasl_ssl") or not remote else WARN,
                     f"security.protocol {sec.upper()} set through [kafka] client",
                     "prefer the typed keys: security, mechanism, username, password_env/password_file, ca_file"
                     " (docs/configuration.md)")
        elif sec in ("ssl", "sasl_ssl"):
            self.add("kafka.security", PASS, f"security = {k.security}: TLS"
                     f"{' with host name verification' if k.verify_hostname else ', host name NOT verified'}"
                     f"{f', SASL {k.mechanism} as {k.username}' if k.security == 'sasl_ssl' else ''}")
        elif remote:
            self.add("kafka.security", WARN, f"security = {k.security}: Drainer messages (all row data) to/from"
                     f" {', '.join(remote)} are not encrypted",
                     "use security = \"sasl_ssl\" with ca_file (docs/operations.md, Securing connections)")
        else:
            self.add("kafka.security", PASS, f"security = {k.security}: not encrypted, fine on loopback")

    # -- source -----------------------------------------------------------------------------

    def check_selection(self) -> None:
        from tidb2mysql.fullload.chunking import select_tables

        patterns = list(self.o.tables) or list(self.cfg.full_load.tables)
        try:
            self.selected = select_tables(self.src, patterns, exclude_schemas=[self.cfg.job.meta_schema, "_tidb2mysql_sim"])
        except Exception as e:  # noqa: BLE001 - PlanError: a pattern matches nothing (or nothing visible)
            self.add("source.selection", FAIL, str(e),
                     "check [full_load] tables, and that the source user can see those tables (SELECT privilege)")
            return
        if not self.selected:
            self.add("source.selection", FAIL, "no table selected (none visible to the source user)",
                     "grant SELECT on the databases to migrate, or set [full_load] tables")
            return
        dbs = sorted({s for s, _ in self.selected})
        self.add("source.selection", PASS, f"{len(self.selected)} table(s) in {len(dbs)} database(s): {', '.join(dbs[:10])}")

    def check_source_privileges(self) -> None:
        if not self.selected:
            return
        problems: list[str] = []
        for s, t in self.selected:
            try:
                _all(self.src, f"SELECT * FROM {quote_ident(s)}.{quote_ident(t)} LIMIT 0")
            except Exception as e:  # noqa: BLE001
                problems.append(f"SELECT on {s}.{t}: {e.args[-1] if e.args else e}")
        grants = [as_text(r[0]) for r in _all(self.src, "SHOW GRANTS")]
        dbs = sorted({s for s, _ in self.selected})
        for d in dbs:
            views = _all(self.src, "SELECT TABLE_NAME FROM information_schema.VIEWS WHERE TABLE_SCHEMA=%s", d)
            for (v,) in views:
                try:
                    _all(self.src, f"SHOW CREATE VIEW {quote_ident(d)}.{quote_ident(as_text(v))}")
                except Exception as e:  # noqa: BLE001
                    problems.append(f"SHOW VIEW on {d}.{as_text(v)}: {e.args[-1] if e.args else e}")
            if not views and not grants_cover(grants, d, "SHOW VIEW"):
                problems.append(f"SHOW VIEW on {d}.* not granted (needed to migrate views)")
        snapshot = self._snapshot_kind()
        if snapshot == "mariadb" and not grants_cover(grants, "*", "RELOAD"):
            problems.append("RELOAD on *.* not granted (the MariaDB stand-in's snapshot takes FLUSH TABLES WITH READ LOCK)")
        user = self.cfg.source.user
        if problems:
            self.add("source.privileges", FAIL, "; ".join(problems[:8]) + (f" (+{len(problems) - 8} more)" if len(problems) > 8 else ""),
                     f"GRANT SELECT, SHOW VIEW ON <db>.* TO '{user}'@'<host>' for every database to migrate"
                     f"{' and GRANT RELOAD ON *.*' if snapshot == 'mariadb' else ''}"
                     " (the grant list per stage: docs/operations.md, Least privilege)")
        else:
            self.add("source.privileges", PASS, f"SELECT on {len(self.selected)} table(s), SHOW VIEW on {len(dbs)} database(s)")

    def _snapshot_kind(self) -> str:

        kind = self.cfg.full_load.snapshot
        if kind == "auto":
            kind = "tidb" if "tidb" in self.src_version.lower() else "mariadb"
        return kind

    def check_keys(self) -> None:
        if not self.selected:
            return
        keyless = []
        for s, t in self.selected:
            n = _one(self.src, "SELECT COUNT(*) FROM information_schema.STATISTICS s WHERE s.TABLE_SCHEMA=%s AND s.TABLE_NAME=%s"
                     " AND s.NON_UNIQUE=0 AND NOT EXISTS (SELECT 1 FROM information_schema.STATISTICS n"
                     "  JOIN information_schema.COLUMNS c ON c.TABLE_SCHEMA=n.TABLE_SCHEMA AND c.TABLE_NAME=n.TABLE_NAME"
                     "   AND c.COLUMN_NAME=n.COLUMN_NAME"
                     "  WHERE n.TABLE_SCHEMA=s.TABLE_SCHEMA AND n.TABLE_NAME=s.TABLE_NAME AND n.INDEX_NAME=s.INDEX_NAME"
                     "   AND c.IS_NULLABLE='YES')", s, t)
            if not n:
                keyless.append(f"{s}.{t}")
        if keyless:
            self.add("source.keys", self.o.keyless,
                     f"{len(keyless)} table(s) without a primary or NOT NULL unique key: {', '.join(keyless[:10])}",
                     "add a primary key (full load reads them unchunked; incremental applies them row by row"
                     " and a replayed INSERT could duplicate a row), or accept it with --keyless warn")
        else:
            self.add("source.keys", PASS, f"all {len(self.selected)} table(s) have a primary or NOT NULL unique key")

    def source_bytes(self) -> int:
        total = 0
        for s, t in self.selected:
            n = _one(self.src, "SELECT COALESCE(DATA_LENGTH,0)+COALESCE(INDEX_LENGTH,0) FROM information_schema.TABLES"
                     " WHERE TABLE_SCHEMA=%s AND TABLE_NAME=%s", s, t)
            total += int(n or 0)
        return total

    def source_rows(self) -> int:
        total = 0
        for s, t in self.selected:
            n = _one(self.src, "SELECT TABLE_ROWS FROM information_schema.TABLES WHERE TABLE_SCHEMA=%s AND TABLE_NAME=%s",
                     s, t)
            total += int(n or 0)
        return total

    def measure_read_rate(self, max_rows: int = 20_000) -> Optional[tuple[float, str]]:
        """(rows/s, what was measured): the full load's own page rendering (fullload/tsv.py) over
        the first rows of the largest selected table, read by one connection as one lane does."""
        from tidb2mysql.fullload import tsv
        from tidb2mysql.fullload.chunking import describe_table

        if not self.selected:
            return None
        sizes = []
        for s, t in self.selected:
            n = _one(self.src, "SELECT TABLE_ROWS FROM information_schema.TABLES WHERE TABLE_SCHEMA=%s AND TABLE_NAME=%s",
                     s, t)
            sizes.append((int(n or 0), s, t))
        _, s, t = max(sizes)
        tp = describe_table(self.src, s, t)
        sql = f"SELECT {tsv.line_expr(tp.columns, tp.types)} FROM {tp.ref} LIMIT {int(max_rows)}"
        t0 = time.monotonic()
        with self.src.cursor() as cur:
            cur.execute(sql)
            rows = len(cur.fetchall())
        secs = time.monotonic() - t0
        if rows < 1000 or secs <= 0:
            return None
        return rows / secs, f"{rows:,} rows of {s}.{t} read in {secs:.2f}s"

    def check_gc(self) -> None:

        if "tidb" not in self.src_version.lower():
            self.add("source.tidb_gc", PASS, "not applicable: the source is not TiDB")
            return
        if self.o.full_load_mb_per_s:
            size = self.source_bytes()
            expected = size / (self.o.full_load_mb_per_s * (1 << 20))
            basis = f"{_mb(size)} at an assumed {self.o.full_load_mb_per_s:g} MiB/s (--full-load-mb-per-s)"
        else:
            rows = self.source_rows()
            measured = self.measure_read_rate()
            if measured is None:
                expected, basis = 0.0, f"{rows:,} rows (too few to measure a speed)"
            else:
                rate, what = measured
                expected = rows / rate
                basis = f"{rows:,} rows at {rate:,.0f} rows/s measured on one connection ({what})"
        try:  # TiDB >= 5.0: a system variable; older: a row in mysql.tidb
            raw = _one(self.src, "SELECT @@global.tidb_gc_life_time")
        except Exception:  # noqa: BLE001
            raw = _one(self.src, "SELECT VARIABLE_VALUE FROM mysql.tidb WHERE VARIABLE_NAME='tikv_gc_life_time'")
        self.add("source.tidb_gc", *gc_verdict(as_text(raw) if raw is not None else None, expected, basis,
                                                self.cfg.full_load.gc_life_time))

    def check_binlog(self) -> None:
        """TiDB Binlog is the incremental stage's input: binlog on, a Pump and a Drainer up."""
        if "tidb" not in self.src_version.lower():
            self.add("source.binlog", PASS, "not applicable: the source is not TiDB")
            return
        if self.cfg.input.format != "drainer":
            self.add("source.binlog", PASS, f"not applicable: [input] format {self.cfg.input.format} (TiCDC reads"
                     " TiKV's change log, not TiDB Binlog)")
            return
        log_bin = as_text(_one(self.src, "SELECT @@global.log_bin"))
        status = {}
        for kind in ("PUMP", "DRAINER"):
            try:
                rows = _all(self.src, f"SHOW {kind} STATUS")
                status[kind] = [(as_text(r[0]), as_text(r[2]), int(r[3] or 0)) for r in rows]
            except Exception as e:  # noqa: BLE001 - no binlog registry (PD/etcd) reachable: that is the finding
                status[kind] = f"SHOW {kind} STATUS failed: {e.args[-1] if e.args else e}"
        self.add("source.binlog", *binlog_verdict(log_bin, status["PUMP"], status["DRAINER"]))

    def _columns(self, where: str, *args) -> dict[tuple[str, str], list[str]]:
        """Selected tables' columns matching an information_schema.COLUMNS condition."""
        want = set(self.selected)
        out: dict[tuple[str, str], list[str]] = {}
        for s, t, c in _all(self.src, "SELECT TABLE_SCHEMA, TABLE_NAME, COLUMN_NAME FROM information_schema.COLUMNS"
                            f" WHERE {where} ORDER BY TABLE_SCHEMA, TABLE_NAME, ORDINAL_POSITION", *args):
            key = (as_text(s), as_text(t))
            if key in want:
                out.setdefault(key, []).append(as_text(c))
        return out

    def _count_rows(self, table: tuple[str, str], predicate: str) -> int:
        s, t = table
        return int(_one(self.src, f"SELECT COUNT(*) FROM {quote_ident(s)}.{quote_ident(t)} WHERE {predicate}") or 0)

    def check_invalid_dates(self) -> None:
        """Dates TiDB keeps (written under ALLOW_INVALID_DATES) that MySQL's strict mode refuses."""

        if not self.selected:
            return
        cols = self._columns("DATA_TYPE IN ('date', 'datetime')")
        found = []
        for table, names in cols.items():
            n = self._count_rows(table, " OR ".join(invalid_date_predicate(c) for c in names))
            if n:
                found.append(f"{table[0]}.{table[1]} ({n} row(s) in {', '.join(names)})")
        if not found:
            self.add("source.invalid_dates", PASS, f"no invalid dates (day beyond the month's last) in"
                     f" {sum(len(v) for v in cols.values())} DATE/DATETIME column(s)")
            return
        policy = self.cfg.full_load.invalid_dates
        where = ", ".join(found[:10]) + (f" (+{len(found) - 10} more)" if len(found) > 10 else "")
        if policy == "copy":
            self.add("source.invalid_dates", WARN, f"dates such as '2020-02-30' in {where}: copied as they are"
                     " ([full_load] invalid_dates = \"copy\": writer sessions use ALLOW_INVALID_DATES)",
                     "after cut-over the application's own writes of such dates need ALLOW_INVALID_DATES in the"
                     " target's sql_mode; or correct those rows in TiDB before migrating")
        else:
            self.add("source.invalid_dates", FAIL, f"dates such as '2020-02-30' in {where}: the target refuses"
                     " them (1292) and [full_load] invalid_dates = \"fail\"",
                     "set [full_load] invalid_dates = \"copy\", or correct those rows in TiDB")

    def check_charset_data(self) -> None:
        """Text a latin1/ascii column holds that the target's latin1/ascii cannot (TiDB never checks)."""
        if not self.selected:
            return
        cols = self._columns("CHARACTER_SET_NAME IN ('latin1', 'ascii')")
        if not cols:
            self.add("source.charset_data", PASS, "no latin1/ascii columns")
            return
        charset = {}
        for s, t, c, cs in _all(self.src, "SELECT TABLE_SCHEMA, TABLE_NAME, COLUMN_NAME, CHARACTER_SET_NAME FROM"
                                " information_schema.COLUMNS WHERE CHARACTER_SET_NAME IN ('latin1', 'ascii')"):
            charset[(as_text(s), as_text(t), as_text(c))] = as_text(cs)
        policy = self.cfg.ddl.latin1
        found = []
        for table, names in cols.items():
            checked = [c for c in names if not (policy == "utf8mb4" and charset.get((*table, c)) == "latin1")]
            if not checked:
                continue
            n = self._count_rows(table, " OR ".join(foreign_text_predicate(c, charset.get((*table, c), "latin1"))
                                                     for c in checked))
            if n:
                found.append(f"{table[0]}.{table[1]} ({n} row(s) in {', '.join(checked)})")
        total = sum(len(v) for v in cols.values())
        if not found:
            self.add("source.charset_data", PASS, f"{total} latin1/ascii column(s) hold only text their charset can hold"
                     + (" on the target ([ddl] latin1 = \"utf8mb4\")" if policy == "utf8mb4" else ""))
            return
        where = ", ".join(found[:10]) + (f" (+{len(found) - 10} more)" if len(found) > 10 else "")
        self.add("source.charset_data", FAIL, f"text outside the column's character set (TiDB stores any UTF-8 in"
                 f" latin1/ascii columns; the target refuses it with 1366) in {where}",
                 "set [ddl] latin1 = \"utf8mb4\" before `tidb2mysql schema` (those columns are created utf8mb4; the"
                 " text stays the same), or ALTER the target columns to utf8mb4, or correct the rows in TiDB")

    # -- target ---------------------------------------------------------------------------

    def check_target_privileges(self) -> None:
        scratch = f"_tidb2mysql_precheck_{uuid.uuid4().hex[:8]}"
        q, t = quote_ident(scratch), f"{quote_ident(scratch)}.`probe`"
        steps = [
            ("CREATE (database)", f"CREATE DATABASE {q}"),
            ("CREATE (table)", f"CREATE TABLE {t} (id INT PRIMARY KEY, v VARCHAR(10))"),
            ("INSERT", f"INSERT INTO {t} VALUES (1, 'a')"),
            ("UPDATE", f"UPDATE {t} SET v = 'b' WHERE id = 1"),
            ("DELETE", f"DELETE FROM {t} WHERE id = 1"),
            ("ALTER", f"ALTER TABLE {t} ADD COLUMN w INT"),
            ("INDEX", f"CREATE INDEX ix_v ON {t} (v)"),
            ("CREATE VIEW", f"CREATE VIEW {q}.`probe_v` AS SELECT id FROM {t}"),
            ("DROP (view)", f"DROP VIEW {q}.`probe_v`"),
            ("DROP (table)", f"DROP TABLE {t}"),
        ]
        failed = None
        try:
            for priv, sql in steps:
                try:
                    _all(self.tgt, sql)
                except Exception as e:  # noqa: BLE001
                    failed = (priv, e)
                    break
        finally:
            try:
                _all(self.tgt, f"DROP DATABASE IF EXISTS {q}")
            except Exception as e:  # noqa: BLE001
                if failed is None:
                    failed = ("DROP (database)", e)
        user = self.cfg.target.user
        if failed:
            priv, e = failed
            self.add("target.privileges", FAIL, f"probe in scratch schema {scratch}: {priv} failed: {e.args[-1] if e.args else e}",
                     f"GRANT ALL PRIVILEGES ON *.* TO '{user}'@'<host>' (or at least CREATE, DROP, ALTER, INDEX, CREATE VIEW,"
                     f" SELECT, INSERT, UPDATE, DELETE on the target databases and on {self.cfg.job.meta_schema}.*;"
                     " docs/operations.md, Least privilege)")
            return
        self.add("target.privileges", PASS, "CREATE/INSERT/UPDATE/DELETE/ALTER/INDEX/VIEW/DROP probes passed in a scratch schema")

    def check_target_isolation(self) -> None:
        with self.tgt.cursor() as cur:
            cur.execute("SELECT @@GLOBAL.binlog_format, @@GLOBAL.log_bin")
            binlog_format, log_bin = cur.fetchone()
        self.add("target.isolation", *isolation_verdict(binlog_format, log_bin))

    def check_target_local_infile(self) -> None:
        with self.tgt.cursor() as cur:
            cur.execute("SELECT @@GLOBAL.local_infile")
            on = bool(int(cur.fetchone()[0] or 0))
        if on:
            self.add("target.local_infile", PASS, "LOAD DATA LOCAL accepted: the full load and the replication of new"
                     " rows load them (less target CPU than INSERT)")
            return
        self.add("target.local_infile", WARN, "local_infile = OFF on the target: the full load's default method"
                 " (load_data) refuses to start, and replication writes new rows with INSERT (~30 % more target"
                 " CPU per row)", "SET GLOBAL local_infile = 1 on the target (RDS: the local_infile parameter), or"
                 " [full_load] method = \"insert\" and [incremental] load_rows = 0")

    def check_space(self) -> None:
        size = self.source_bytes() if self.selected else 0
        free = None
        try:
            rows = _all(self.tgt, "SELECT SUM(Available) FROM information_schema.DISKS")  # MariaDB DISKS plugin, in KiB
            free = int(rows[0][0]) * 1024 if rows and rows[0][0] is not None else None
        except Exception:  # noqa: BLE001 - plugin not installed / not MariaDB
            free = None
        if free is None:
            self.add("space", WARN, f"source size {_mb(size)} (information_schema); target free space unknown"
                     " (not observable over SQL here)",
                     f"make sure the target's data directory has more than {_mb(size * 1.5)} free (source size + 50%)")
        elif free < size * 1.2:
            self.add("space", FAIL, f"source {_mb(size)}, target free {_mb(free)}", "free disk space on the target")
        else:
            self.add("space", PASS, f"source {_mb(size)}, target free {_mb(free)} (information_schema.DISKS)")

    def check_variables(self) -> None:
        names = ("sql_mode", "time_zone", "system_time_zone", "explicit_defaults_for_timestamp", "lower_case_table_names")
        def read(conn):
            return {n: as_text(_one(conn, f"SELECT @@global.{n}")) for n in names}
        s, t = read(self.src), read(self.tgt)
        issues: list[str] = []
        so, to = utc_offset(s["time_zone"], s["system_time_zone"]), utc_offset(t["time_zone"], t["system_time_zone"])
        if so is None or to is None or so != to:
            issues.append(f"time_zone: source {s['time_zone']} ({s['system_time_zone']}) vs target {t['time_zone']}"
                          f" ({t['system_time_zone']}): NOW()/CURRENT_TIMESTAMP defaults differ after cut-over"
                          " (replicated TIMESTAMP values are exact either way)")
        if s["explicit_defaults_for_timestamp"] != t["explicit_defaults_for_timestamp"]:
            issues.append(f"explicit_defaults_for_timestamp: source {s['explicit_defaults_for_timestamp']} vs target"
                          f" {t['explicit_defaults_for_timestamp']}: TIMESTAMP columns created later get other defaults")
        smodes, tmodes = set(filter(None, s["sql_mode"].split(","))), set(filter(None, t["sql_mode"].split(",")))
        if smodes != tmodes:
            issues.append(f"sql_mode: only source {','.join(sorted(smodes - tmodes)) or '-'}; only target"
                          f" {','.join(sorted(tmodes - smodes)) or '-'} (the flow sets its own session sql_mode;"
                          " the application after cut-over sees the target's)")
        fail = None
        if s["lower_case_table_names"] != t["lower_case_table_names"]:
            upper = [f"{a}.{b}" for a, b in self.selected if a != a.lower() or b != b.lower()]
            msg = f"lower_case_table_names: source {s['lower_case_table_names']} vs target {t['lower_case_table_names']}"
            if upper and t["lower_case_table_names"] != "0":
                fail = msg + f"; upper-case names would be folded: {', '.join(upper[:5])}"
            else:
                issues.append(msg)
        if fail:
            self.add("compat.variables", FAIL, "; ".join([fail] + issues),
                     "set lower_case_table_names on the target like the source (only at initialization), or rename")
        elif issues:
            self.add("compat.variables", WARN, "; ".join(issues), "align the target's global settings with the source")
        else:
            self.add("compat.variables", PASS, "sql_mode, time_zone, explicit_defaults_for_timestamp, lower_case_table_names match")

    def check_charsets(self) -> None:
        used = set()
        for s, t in self.selected:
            for (coll,) in _all(self.src, "SELECT DISTINCT COLLATION_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA=%s"
                                " AND TABLE_NAME=%s AND COLLATION_NAME IS NOT NULL", s, t):
                used.add(as_text(coll))
            c = _one(self.src, "SELECT TABLE_COLLATION FROM information_schema.TABLES WHERE TABLE_SCHEMA=%s AND TABLE_NAME=%s", s, t)
            if c:
                used.add(as_text(c))
        known = {as_text(r[0]) for r in _all(self.tgt, "SELECT COLLATION_NAME FROM information_schema.COLLATIONS")}
        missing = sorted(used - known)
        sc = as_text(_one(self.src, "SELECT @@global.character_set_server"))
        tc = as_text(_one(self.tgt, "SELECT @@global.character_set_server"))
        if missing:
            self.add("compat.charsets", WARN, f"collations used by selected tables but unknown to the target: {', '.join(missing)}"
                     " (schema migration maps known TiDB/MySQL 8 collations)",
                     "check the schema migration's decisions for these tables, or use a target version that has them")
        elif sc != tc:
            self.add("compat.charsets", WARN, f"character_set_server: source {sc} vs target {tc} (tables keep their own charset)",
                     "set character_set_server on the target like the source for objects created after cut-over")
        else:
            self.add("compat.charsets", PASS, f"{len(used)} collation(s) used, all known to the target; server charset {sc}")

    # -- Kafka ----------------------------------------------------------------------------

    def check_topic(self) -> None:
        if self.cfg.input.is_ticdc:  # partitions, protocol from the first messages
            from tidb2mysql.ops.ticdc_setup import precheck_topic

            self.add("kafka.topic", *precheck_topic(self.cfg))
            return
        from tidb2mysql.drainer.decode import Decoder
        from tidb2mysql.events import KafkaPosition
        from tidb2mysql.kafka_settings import ClientLog, consumer_config, topic_problem
        from tidb2mysql.replication.source import TopicReader

        k = self.cfg.kafka
        md = self.admin.list_topics(timeout=10)  # all topics: naming one may auto-create it
        problem = topic_problem(md, k, k.partition)
        if problem is not None:
            self.add("kafka.topic", FAIL, *problem)
            return
        t = md.topics[k.topic]
        extra = f"; {len(t.partitions)} partitions (Drainer writes only partition 0)" if len(t.partitions) > 1 else ""
        clog = ClientLog()  # librdkafka's lines are collected, not printed; the relevant one goes into the detail
        reader = TopicReader(consumer_config(k, **{"group.id": "tidb2mysql-precheck"}, **clog.config()), k.topic,
                             k.partition)
        try:
            lo, hi = reader.watermarks(timeout=10)
            if hi <= lo:
                self.add("kafka.topic", WARN if not extra else WARN, f"topic {k.topic!r} partition {k.partition} is empty{extra}",
                         "nothing to sample yet: run precheck again once Drainer has written")
                return
            decoder = Decoder(self.cfg.drainer.time_zone)
            seen = []
            for off in sorted({lo, hi - 1}):
                m = read_within(reader, off, self.o.sample_timeout)
                self.sampled_max = max(self.sampled_max, len(m.value))
                ev = decoder.decode(m.value, KafkaPosition(k.topic, k.partition, off))
                seen.append(f"offset {off}: {type(ev).__name__} commit_ts {ev.commit_ts}, {len(m.value)} bytes")
        except Exception as e:  # noqa: BLE001 - unreadable or undecodable: that is the finding
            receive = consumer_config(k).get("receive.message.max.bytes", "librdkafka default")
            said = [line for line in clog.lines if "GroupCoordinator" not in line][-1:]
            self.add("kafka.topic", FAIL, f"cannot read/decode topic {k.topic!r} offsets {lo}..{hi - 1} with the job's"
                     f" consumer settings (receive.message.max.bytes {receive}): {e}"
                     + (f" (librdkafka: {said[0].split(']: ', 1)[-1]})" if said else ""),
                     "if the read timed out or the size is refused, raise the consumer limits ([kafka] client"
                     " receive.message.max.bytes / fetch.max.bytes); if it does not decode, check that this is a"
                     " Drainer topic (not TiCDC)")
            return
        finally:
            reader.close()
        self.add("kafka.topic", WARN if extra else PASS, f"offsets {lo}..{hi - 1} ({hi - lo} messages); " + "; ".join(seen) + extra,
                 "use a 1-partition topic for Drainer" if extra else "")

    def check_limits(self) -> None:
        from confluent_kafka.admin import ConfigResource

        from tidb2mysql.kafka_settings import consumer_config

        k = self.cfg.kafka
        md = self.admin.list_topics(timeout=10)
        broker_id = next(iter(md.brokers))
        res = [ConfigResource(ConfigResource.Type.BROKER, str(broker_id))]
        if k.topic in md.topics and md.topics[k.topic].error is None:
            res.append(ConfigResource(ConfigResource.Type.TOPIC, k.topic))
        got = {}
        for r, fut in self.admin.describe_configs(res).items():
            entries = fut.result(timeout=10)
            for name in ("message.max.bytes", "replica.fetch.max.bytes", "max.message.bytes"):
                if name in entries and entries[name].value is not None:
                    got[name] = int(entries[name].value)
        conf = consumer_config(k)
        receive = int(conf.get("receive.message.max.bytes", 100_000_000))
        fetch = int(conf.get("fetch.max.bytes", 52_428_800))
        part = int(conf.get("max.partition.fetch.bytes", 1_048_576))
        topic_max = got.get("max.message.bytes", got.get("message.max.bytes", 0))
        fails, warns = [], []
        if self.sampled_max and receive < self.sampled_max + RECEIVE_OVERHEAD:
            fails.append(f"consumer receive.message.max.bytes {receive} < largest sampled message {self.sampled_max} bytes")
        if self.sampled_max and fetch < self.sampled_max:
            warns.append(f"consumer fetch.max.bytes {fetch} < largest sampled message {self.sampled_max} bytes")
        if topic_max and receive < topic_max + RECEIVE_OVERHEAD:
            warns.append(f"the topic accepts messages up to {topic_max} bytes but the consumer receives at most {receive}")
        if topic_max and topic_max < DRAINER_MESSAGE_BYTES:
            warns.append(f"broker/topic message limit {topic_max} < Drainer's 1 GiB: a large transaction stops Drainer")
        rf = got.get("replica.fetch.max.bytes")
        if rf is not None and topic_max and rf < topic_max:
            warns.append(f"broker replica.fetch.max.bytes {rf} < message limit {topic_max}")
        detail = (f"broker message.max.bytes {got.get('message.max.bytes')}, replica.fetch.max.bytes {rf},"
                  f" topic max.message.bytes {got.get('max.message.bytes')}; consumer fetch.max.bytes {fetch},"
                  f" max.partition.fetch.bytes {part}, receive.message.max.bytes {receive};"
                  f" largest sampled message {self.sampled_max or '-'} bytes")
        fix = ("raise message.max.bytes / replica.fetch.max.bytes (broker), max.message.bytes (topic) to 1073741824"
               " and the consumer's fetch.max.bytes / receive.message.max.bytes ([kafka] client) above them")
        if fails:
            self.add("kafka.limits", FAIL, "; ".join(fails + warns) + "; " + detail, fix)
        elif warns:
            self.add("kafka.limits", WARN, "; ".join(warns) + "; " + detail, fix)
        else:
            self.add("kafka.limits", PASS, detail)

    # -- Drainer --------------------------------------------------------------------------

    def check_drainer_tz(self) -> None:
        tz = self.cfg.drainer.time_zone
        detail = (f"[drainer] time_zone = {tz!r}: Drainer renders TIMESTAMP values in its own process's zone (TZ or"
                  " /etc/localtime of the Drainer host); confirm it matches, or TIMESTAMP values shift silently")
        if self.src is not None:
            s_tz = as_text(_one(self.src, "SELECT @@global.time_zone"))
            s_sys = as_text(_one(self.src, "SELECT @@global.system_time_zone"))
            so, do = utc_offset(s_tz, s_sys), utc_offset(tz)
            if so is not None and do is not None and so != do:
                self.add("drainer.time_zone", WARN, detail + f"; it differs from the source's time zone {s_tz}"
                         f" ({s_sys}, UTC{_fmt_offset(so)}) vs UTC{_fmt_offset(do)}",
                         "run `date +%Z` (or check TZ) on the Drainer host and set [drainer] time_zone to it")
                return
        self.add("drainer.time_zone", PASS, detail)


def _fmt_offset(d: timedelta) -> str:
    mins = int(d.total_seconds() // 60)
    sign = "+" if mins >= 0 else "-"
    return f"{sign}{abs(mins) // 60:02d}:{abs(mins) % 60:02d}"


def read_within(reader, offset: int, timeout: float):
    """Read one message with the job's consumer settings; a size refusal surfaces as an error."""
    from confluent_kafka import KafkaException

    reader.assign(offset)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        msgs = reader.consumer.consume(1, 1.0)
        for m in msgs:
            err = m.error()
            if err is not None:
                if err.code() == -191:  # _PARTITION_EOF
                    continue
                raise KafkaException(err)
            from tidb2mysql.replication.source import RawMessage

            return RawMessage(m.offset(), m.value() or b"", None)
    raise TimeoutError(f"could not read offset {offset} within {timeout:.0f}s with the configured consumer settings")


def isolation_verdict(binlog_format, log_bin) -> tuple[str, str, str]:
    """The isolation level the apply sessions will get on this target (``mysql.session.isolation_for``).

    READ COMMITTED is what lets the shards of a job write side by side; a binary log in
    STATEMENT format forces REPEATABLE READ, whose gap locks make shards wait on each other
    (and deadlock, which is retried): slower, not wrong, so a warning."""
    level = isolation_for(binlog_format, log_bin)
    if level == "READ COMMITTED":
        return PASS, f"apply sessions run READ COMMITTED (binlog_format {binlog_format}, log_bin {log_bin})", ""
    return (WARN, f"the target's binary log is on in STATEMENT format: apply sessions must keep {level}, "
            "whose gap locks make the shards of a job wait on each other (slower; deadlocks are retried)",
            "SET GLOBAL binlog_format = 'ROW' (and in the server's config), if nothing that reads the target's "
            "binary log needs STATEMENT")


def binlog_verdict(log_bin: str, pumps, drainers) -> tuple[str, str, str]:
    """``pumps``/``drainers``: ``[(node id, state, max commit ts)]`` or the error text of SHOW.

    Without binlog, TiDB writes no Drainer messages: the incremental stage would see an idle
    topic while every commit after the snapshot is lost, and status would call that "caught up"."""
    fix_on = ("enable TiDB Binlog: binlog.enable = true in every tidb-server's config (restart), deploy Pump and"
              " Drainer with Drainer's Kafka sink writing [kafka] topic (docs/operations.md)")
    if log_bin.upper() not in ("1", "ON"):
        return FAIL, (f"TiDB binlog is off (@@log_bin = {log_bin or '?'}): no commit reaches Drainer/Kafka, so every"
                      " change after the full load's snapshot would be lost"), fix_on
    problems, seen = [], []
    for kind, rows in (("Pump", pumps), ("Drainer", drainers)):
        if isinstance(rows, str):
            problems.append(rows)
            continue
        online = [r for r in rows if r[1].lower() == "online"]
        seen.append(f"{kind}s online: {', '.join(r[0] for r in online) or 'none'}"
                    + (f" (also {', '.join(f'{r[0]} {r[1]}' for r in rows if r not in online)})" if len(online) < len(rows) else ""))
        if not online:
            problems.append(f"no {kind} is online" + (f" ({', '.join(f'{r[0]}: {r[1]}' for r in rows)})" if rows else
                                                      " (none registered)"))
    if problems:
        return FAIL, f"@@log_bin = {log_bin}, but " + "; ".join(problems + seen), (
            "start Pump and Drainer (binlogctl / tiup cluster display show their state); Drainer must write to"
            " [kafka] topic")
    return PASS, f"@@log_bin = {log_bin}; " + "; ".join(seen), ""


def invalid_date_predicate(col: str) -> str:
    """SQL: the DATE/DATETIME ``col`` holds a day beyond its month's last ('2020-02-30').

    Computed from the value's text (``CAST(col AS CHAR)``: 'YYYY-MM-DD...'), not with
    DAYOFMONTH()/LAST_DAY(), which return NULL for exactly these values on MySQL. Zero parts
    ('2020-00-00', '0000-00-00') are not counted: the writers' sql_mode accepts them."""
    v = f"CAST({quote_ident(col)} AS CHAR)"
    y, m, d = f"CAST(SUBSTRING({v}, 1, 4) AS UNSIGNED)", f"CAST(SUBSTRING({v}, 6, 2) AS UNSIGNED)", \
        f"CAST(SUBSTRING({v}, 9, 2) AS UNSIGNED)"
    leap = f"((MOD({y}, 4) = 0 AND MOD({y}, 100) <> 0) OR MOD({y}, 400) = 0)"  # MOD: no '%' in parameterised SQL
    return (f"({quote_ident(col)} IS NOT NULL AND ({m} IN (4, 6, 9, 11) AND {d} > 30"
            f" OR {m} = 2 AND {d} > IF({leap}, 29, 28)))")


def foreign_text_predicate(col: str, charset: str) -> str:
    """SQL: the latin1 (or ascii) ``col`` holds a character its charset does not have.

    The value as UTF-8 (``CONVERT(col USING utf8mb4)``: TiDB hands back the UTF-8 it stored) in
    hex; a character above U+00FF starts with a byte C4..F7, one above U+007F with 80..F7, and
    such a lead byte never appears inside another character, so ``^(..)*`` aligning on whole
    bytes is exact. A MariaDB/MySQL latin1 column never matches (it cannot hold such text)."""
    lead = "C[4-9A-F]|D[0-9A-F]|E[0-9A-F]|F[0-7]" if charset == "latin1" else "[89A-F][0-9A-F]"
    return f"HEX(CONVERT({quote_ident(col)} USING utf8mb4)) REGEXP '^(..)*({lead})'"


def gc_verdict(raw: Optional[str], expected: float, basis: str, hold: str = "") -> tuple[str, str, str]:
    """TiDB's GC life time must outlast the full load's snapshot reads (with margin).

    ``hold``: the value the full load raises it to while it runs ([full_load] gc_life_time;
    fullload/snapshot.py GCHold); "" when it leaves it alone."""
    life = parse_go_duration(raw) if raw else None
    hold_s = parse_go_duration(hold) if hold else None
    est = f"estimated full load {expected:.0f}s ({basis})"
    if hold_s is not None and (life is None or hold_s > life):
        if hold_s < expected * 1.5:
            return (FAIL, f"the full load raises tidb_gc_life_time to {hold} while it runs, < 1.5 x {est}",
                    f"set [full_load] gc_life_time = '{int(expected * 2) + 600}s'")
        return (PASS, f"tidb_gc_life_time {raw}; the full load raises it to {hold} while it runs and restores it"
                      f" ({est}; needs SYSTEM_VARIABLES_ADMIN or SUPER, else it warns)", "")
    if life is None:
        return (WARN, f"tidb_gc_life_time not readable ({raw!r}); {est}",
                "check SELECT @@tidb_gc_life_time and raise it above the full load time")
    if life < expected * 1.5:
        return (FAIL, f"tidb_gc_life_time {life:.0f}s < 1.5 x {est}",
                f"SET GLOBAL tidb_gc_life_time = '{int(expected * 2) + 600}s' for the full load, restore it after"
                " (or let the load do it: [full_load] gc_life_time)")
    return PASS, f"tidb_gc_life_time {life:.0f}s covers the {est}", ""


def render(checks: list[Check]) -> str:
    w = max((len(c.name) for c in checks), default=10)
    lines = []
    for c in checks:
        lines.append(f"{c.status.upper():4}  {c.name:<{w}}  {c.detail}")
        if c.fix and c.status != PASS:
            lines.append(f"{'':4}  {'':<{w}}  fix: {c.fix}")
    n = {s: sum(c.status == s for c in checks) for s in (PASS, WARN, FAIL)}
    lines.append(f"{n[PASS]} passed, {n[WARN]} warning(s), {n[FAIL]} failed")
    return "\n".join(lines)


def run_precheck(cfg, options: Optional[PrecheckOptions] = None) -> list[Check]:
    return Precheck(cfg, options).run()


__all__ = ["Check", "FAIL", "binlog_verdict", "isolation_verdict", "foreign_text_predicate", "invalid_date_predicate", "PrecheckOptions", "PASS", "Precheck", "WARN", "grants_cover", "is_loopback", "parse_go_duration", "render",
           "run_precheck", "utc_offset"]
