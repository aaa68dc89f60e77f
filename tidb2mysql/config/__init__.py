"""The one configuration file: TOML, validated, secrets from the environment or files.

Every tidb2mysql command and flow reads the same file (``--config PATH`` or the
``TIDB2MYSQL_CONFIG`` environment variable). See ``docs/configuration.md`` for the
full reference; ``examples/tidb2mysql.toml`` is a commented example.

Rules:

* Unknown sections or keys are errors (typos must not be ignored silently).
* Every value is type-checked; errors name the section and key.
* Passwords come from ``password_env`` (name of an environment variable) or
  ``password_file`` (a file whose first line is the password); an inline
  ``password`` is accepted for local test stacks. Passwords never appear in
  ``repr()`` or logs.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

from tidb2mysql.config.ddl import DDLConfig
from tidb2mysql.config.full_load import FullLoadConfig
from tidb2mysql.config.incremental import IncrementalConfig
from tidb2mysql.config.input import InputConfig
from tidb2mysql.config.metrics import MetricsConfig
from tidb2mysql.config.verify import VerifyConfig
from tidb2mysql.config.selection import SelectionConfig
from tidb2mysql.errors import ConfigurationError

if TYPE_CHECKING:  # pragma: no cover
    import ssl

ENV_VAR = "TIDB2MYSQL_CONFIG"


class ConfigError(ConfigurationError, ValueError):
    """The configuration file is missing, unreadable or invalid."""


def resolve_secret(where: str, inline: str, env: str, file: str) -> str:
    """The secret from ``env`` (a variable name), ``file`` (first line) or ``inline``, in that order.

    Resolved when a connection opens, not at load time, so a rotated Kubernetes secret file
    is picked up by the next connection. ``where`` (``[target]``) makes the error name the
    section and key; the error never contains the secret itself.
    """
    if env:
        try:
            return os.environ[env]
        except KeyError:
            raise ConfigError(
                f"{where} password_env: names {env!r}, which is not set in the environment"
            ) from None
    if file:
        try:
            text = Path(file).read_text()
        except OSError as e:
            raise ConfigError(f"{where} password_file: cannot read {file!r}: {e.strerror or e}") from None
        return text.splitlines()[0] if text else ""
    return inline


def _check_readable(key: str, path: str) -> None:
    """A certificate or key path that does not exist fails at load time, not at the first
    TLS handshake minutes later inside a worker."""
    if path and not os.access(path, os.R_OK):
        reason = "does not exist" if not os.path.exists(path) else "is not readable by this user"
        raise ValueError(f"{key}: {path!r} {reason}")


def _check_secret_source(inline: str, env: str, file: str) -> None:
    if sum(bool(x) for x in (inline, env, file)) > 1:
        raise ValueError("password, password_env and password_file: set only one of them")
    if env and env not in os.environ:
        raise ValueError(f"password_env: names {env!r}, which is not set in the environment")
    _check_readable("password_file", file)


# MySQL-protocol TLS modes, named after the MySQL client's --ssl-mode. "preferred" (the
# default) is what PyMySQL and the MySQL clients do without settings: encrypt when the server
# offers TLS, verify nothing; "off" never encrypts.
TLS_MODES = ("off", "preferred", "required", "verify_ca", "verify_identity")


@dataclass(frozen=True)
class Endpoint:
    """A MySQL-protocol server: the TiDB source or the MySQL target."""

    host: str = "127.0.0.1"
    port: int = 3306
    user: str = "root"
    password: str = field(default="", repr=False)
    password_env: str = ""
    password_file: str = ""
    unix_socket: str = ""
    connect_timeout: int = 10
    # TLS (see TLS_MODES). verify_ca checks the chain against ca_file (or the system trust
    # store when empty); verify_identity also checks that the certificate names ``host``.
    tls: str = "preferred"
    ca_file: str = ""
    # Client certificate and its key (PEM), for servers that REQUIRE X509; both or neither.
    cert_file: str = ""
    key_file: str = ""

    def validate(self) -> None:
        if self.tls not in TLS_MODES:
            raise ValueError(f"tls: {self.tls!r} is not one of {', '.join(TLS_MODES)}")
        if bool(self.cert_file) != bool(self.key_file):
            raise ValueError("cert_file and key_file: set both (a client certificate needs its key) or neither")
        if self.tls == "off" and (self.ca_file or self.cert_file):
            raise ValueError("ca_file/cert_file: set, but tls = \"off\" (use tls = \"verify_identity\")")
        if self.ca_file and self.tls in ("preferred", "required"):
            raise ValueError(f"ca_file: set, but tls = {self.tls!r} does not verify the server;"
                             " use tls = \"verify_identity\" (or \"verify_ca\")")
        for key in ("ca_file", "cert_file", "key_file"):
            _check_readable(key, getattr(self, key))
        _check_secret_source(self.password, self.password_env, self.password_file)

    def resolved_password(self) -> str:
        # parse() tags each endpoint with its section name, so errors say [source]/[target].
        where = f"[{getattr(self, '_role', '')}]" if getattr(self, "_role", "") else f"[{self.describe()}]"
        return resolve_secret(where, self.password, self.password_env, self.password_file)

    def ssl_context(self) -> Optional["ssl.SSLContext"]:
        """The ``ssl.SSLContext`` for ``tls`` (None for off/preferred: PyMySQL's own handling).

        Built here rather than with PyMySQL's ``ssl_*`` arguments because those cannot express
        "encrypt but do not verify" (``required``) and, given no CA, silently stop verifying.
        """
        import ssl

        if self.tls in ("off", "preferred"):
            return None
        if self.tls == "required":
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        else:
            ctx = ssl.create_default_context(cafile=self.ca_file or None)
            ctx.check_hostname = self.tls == "verify_identity"
            ctx.verify_mode = ssl.CERT_REQUIRED
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        if self.cert_file:
            ctx.load_cert_chain(self.cert_file, self.key_file)
        return ctx

    def pymysql_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``pymysql.connect`` (the password resolved now)."""
        kw: dict[str, Any] = dict(
            user=self.user,
            password=self.resolved_password(),
            connect_timeout=self.connect_timeout,
            charset="utf8mb4",
        )
        if self.unix_socket:
            kw["unix_socket"] = self.unix_socket
        else:
            kw["host"] = self.host
            kw["port"] = self.port
        if self.tls == "off":
            kw["ssl_disabled"] = True
        else:
            ctx = self.ssl_context()
            if ctx is not None:
                # With an explicit context PyMySQL *requires* TLS: a server without it is an
                # error, never a silent plaintext fallback.
                kw["ssl"] = ctx
        return kw

    def describe(self) -> str:
        """Where it points, for logs and errors (never the password)."""
        where = self.unix_socket or f"{self.host}:{self.port}"
        return f"{self.user}@{where}"


# [kafka] security -> librdkafka security.protocol
KAFKA_SECURITY = {"plaintext": "PLAINTEXT", "ssl": "SSL", "sasl_plaintext": "SASL_PLAINTEXT", "sasl_ssl": "SASL_SSL"}
KAFKA_MECHANISMS = ("SCRAM-SHA-256", "SCRAM-SHA-512", "PLAIN")
# librdkafka settings the typed keys own; setting them in [kafka] client as well is ambiguous.
_KAFKA_SECURITY_CLIENT_KEYS = ("security.protocol", "sasl.mechanism", "sasl.mechanisms", "sasl.username",
                               "sasl.password", "ssl.ca.location", "ssl.certificate.location", "ssl.key.location",
                               "ssl.endpoint.identification.algorithm")


def _is_secret_setting(name: str) -> bool:
    n = name.lower()
    return "password" in n or "secret" in n or n.endswith(".pem") or "sasl.jaas" in n


@dataclass(frozen=True, repr=False)
class KafkaConfig:
    brokers: str = "127.0.0.1:9092"
    topic: str = "tidb_obinlog"
    partition: int = 0
    # Extra librdkafka settings for every client (tuning; security is better set with the
    # typed keys below, which are validated and keep the password out of the file).
    client: dict[str, Any] = field(default_factory=dict)
    # plaintext | ssl | sasl_plaintext | sasl_ssl (librdkafka security.protocol)
    security: str = "plaintext"
    # SASL mechanism: SCRAM-SHA-256 (what Alibaba DTS / most managed Kafkas ask for),
    # SCRAM-SHA-512 or PLAIN.
    mechanism: str = "SCRAM-SHA-256"
    username: str = ""
    password: str = ""
    password_env: str = ""
    password_file: str = ""
    # TLS (ssl, sasl_ssl): CA of the brokers' certificates (empty = system trust store),
    # optional client certificate and key (PEM) for brokers with ssl.client.auth=required,
    # and whether the broker certificate must name the host in ``brokers``.
    ca_file: str = ""
    cert_file: str = ""
    key_file: str = ""
    verify_hostname: bool = True

    def validate(self) -> None:
        if self.security not in KAFKA_SECURITY:
            raise ValueError(f"security: {self.security!r} is not one of {', '.join(KAFKA_SECURITY)}")
        sasl = self.security.startswith("sasl_")
        tls = self.security in ("ssl", "sasl_ssl")
        if self.mechanism not in KAFKA_MECHANISMS:
            raise ValueError(f"mechanism: {self.mechanism!r} is not one of {', '.join(KAFKA_MECHANISMS)}")
        has_secret = bool(self.password or self.password_env or self.password_file)
        if sasl and not self.username:
            raise ValueError(f"username: required with security = {self.security!r}")
        if sasl and not has_secret:
            raise ValueError(f"password_env or password_file: required with security = {self.security!r}")
        if not sasl and (self.username or has_secret):
            raise ValueError(f"username/password: set, but security = {self.security!r} does not authenticate;"
                             " use security = \"sasl_ssl\" (or \"sasl_plaintext\")")
        if not tls and (self.ca_file or self.cert_file or self.key_file):
            raise ValueError(f"ca_file/cert_file/key_file: set, but security = {self.security!r} has no TLS;"
                             " use security = \"sasl_ssl\" (or \"ssl\")")
        if bool(self.cert_file) != bool(self.key_file):
            raise ValueError("cert_file and key_file: set both (a client certificate needs its key) or neither")
        for key in ("ca_file", "cert_file", "key_file"):
            _check_readable(key, getattr(self, key))
        _check_secret_source(self.password, self.password_env, self.password_file)
        if self.security != "plaintext":
            both = sorted(k for k in self.client if k in _KAFKA_SECURITY_CLIENT_KEYS)
            if both:
                raise ValueError(f"client: {', '.join(both)} conflict(s) with security = {self.security!r};"
                                 " set security only with the typed keys (docs/configuration.md)")

    def resolved_password(self) -> str:
        return resolve_secret("[kafka]", self.password, self.password_env, self.password_file)

    def effective_security(self) -> str:
        """``security``, or what an older config sets through ``client`` (security.protocol),
        so that messages and precheck describe the connection that is really made."""
        if self.security == "plaintext":
            raw = str(self.client.get("security.protocol", "")).lower()
            if raw in KAFKA_SECURITY:
                return raw
        return self.security

    def client_config(self) -> dict[str, Any]:
        """bootstrap.servers, the security settings (password resolved now), then ``client``."""
        return {"bootstrap.servers": self.brokers, **security_settings(self), **self.client}

    def describe(self) -> str:
        """The brokers and how we authenticate, for logs and errors (never the password)."""
        user = self.username or str(self.client.get("sasl.username", ""))
        who = f"{user}@" if user else ""
        sec = self.effective_security()
        mech = self.mechanism if self.security != "plaintext" else str(self.client.get("sasl.mechanism")
                                                                        or self.client.get("sasl.mechanisms") or "")
        return f"{who}{self.brokers} ({sec}{', ' + mech if sec.startswith('sasl_') and mech else ''})"

    def __repr__(self) -> str:
        client = {k: ("***" if _is_secret_setting(k) else v) for k, v in self.client.items()}
        return (f"KafkaConfig(brokers={self.brokers!r}, topic={self.topic!r}, partition={self.partition!r},"
                f" security={self.security!r}, mechanism={self.mechanism!r}, username={self.username!r},"
                f" password_env={self.password_env!r}, password_file={self.password_file!r},"
                f" ca_file={self.ca_file!r}, cert_file={self.cert_file!r}, key_file={self.key_file!r},"
                f" verify_hostname={self.verify_hostname!r}, client={client!r})")


def security_settings(kafka: KafkaConfig) -> dict[str, Any]:
    """librdkafka settings for ``[kafka] security`` & co. (the password resolved now).

    These go into the client's config dict in memory only: librdkafka gets no file or command
    line with the password, and none of tidb2mysql's logs print a client config.
    """
    if kafka.security == "plaintext":
        return {}
    conf: dict[str, Any] = {"security.protocol": KAFKA_SECURITY[kafka.security]}
    if kafka.security.startswith("sasl_"):
        conf["sasl.mechanism"] = kafka.mechanism
        conf["sasl.username"] = kafka.username
        conf["sasl.password"] = kafka.resolved_password()
    if kafka.security in ("ssl", "sasl_ssl"):
        if kafka.ca_file:
            conf["ssl.ca.location"] = kafka.ca_file
        if kafka.cert_file:
            conf["ssl.certificate.location"] = kafka.cert_file
            conf["ssl.key.location"] = kafka.key_file
        # librdkafka >= 2.0 verifies the host name by default; say so explicitly either way.
        conf["ssl.endpoint.identification.algorithm"] = "https" if kafka.verify_hostname else "none"
    return conf


@dataclass(frozen=True)
class DrainerConfig:
    # Time zone of the Drainer *process* (TZ or /etc/localtime of the Drainer host).
    # Drainer renders TIMESTAMP values in this zone; we convert them back to UTC.
    time_zone: str = "UTC"


@dataclass(frozen=True)
class JobConfig:
    # Name of this migration job: keys the checkpoint rows in the target.
    name: str = "default"
    # Schema in the target that holds tidb2mysql's own tables (checkpoints, DDL history,
    # dead letters).
    meta_schema: str = "tidb2mysql"


@dataclass(frozen=True)
class Config:
    source: Endpoint = field(default_factory=Endpoint)
    target: Endpoint = field(default_factory=Endpoint)
    kafka: KafkaConfig = field(default_factory=KafkaConfig)
    drainer: DrainerConfig = field(default_factory=DrainerConfig)
    job: JobConfig = field(default_factory=JobConfig)
    incremental: IncrementalConfig = field(default_factory=IncrementalConfig)
    full_load: FullLoadConfig = field(default_factory=FullLoadConfig)
    selection: SelectionConfig = field(default_factory=SelectionConfig)
    metrics: MetricsConfig = field(default_factory=MetricsConfig)
    verify: VerifyConfig = field(default_factory=VerifyConfig)
    ddl: DDLConfig = field(default_factory=DDLConfig)
    input: InputConfig = field(default_factory=InputConfig)


# Section name -> dataclass: the whole tree (a new section is a field above and a line here).
SECTIONS: dict[str, type] = {
    "source": Endpoint,
    "target": Endpoint,
    "kafka": KafkaConfig,
    "drainer": DrainerConfig,
    "job": JobConfig,
    "incremental": IncrementalConfig,
    "full_load": FullLoadConfig,
    "selection": SelectionConfig,
    "metrics": MetricsConfig,
    "verify": VerifyConfig,
    "ddl": DDLConfig,
    "input": InputConfig,
}


def _check_type(section: str, key: str, value: Any, expected: Any) -> Any:
    origin = typing.get_origin(expected)
    if expected in (int,) and isinstance(value, bool):
        raise ConfigError(f"[{section}] {key}: expected an integer, got {value!r}")
    if expected is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if origin is typing.Union:
        args = [a for a in typing.get_args(expected) if a is not type(None)]
        if value is None:
            return None
        return _check_type(section, key, value, args[0])
    check = origin or expected
    if check is dict and isinstance(value, dict):
        return dict(value)
    if check in (list, tuple) and isinstance(value, list):
        return tuple(value) if check is tuple else list(value)
    if isinstance(check, type) and not isinstance(value, check):
        raise ConfigError(
            f"[{section}] {key}: expected {getattr(check, '__name__', check)}, got {value!r}"
        )
    return value


def build_section(section: str, cls: type, data: dict[str, Any]) -> Any:
    if not isinstance(data, dict):
        raise ConfigError(f"[{section}] must be a table of keys")
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - names)
    if unknown:
        raise ConfigError(
            f"[{section}] unknown key(s) {', '.join(unknown)}; known: {', '.join(sorted(names))}"
        )
    kwargs = {k: _check_type(section, k, v, hints[k]) for k, v in data.items()}
    try:
        obj = cls(**kwargs)
    except (TypeError, ValueError) as e:
        raise ConfigError(f"[{section}] {e}") from None
    validate = getattr(obj, "validate", None)
    if validate is not None:
        try:
            validate()
        except ValueError as e:
            raise ConfigError(f"[{section}] {e}") from None
    return obj


OVERRIDES_ENV_VAR = "TIDB2MYSQL_OVERRIDES"


def parse(data: dict[str, Any]) -> Config:
    unknown = sorted(set(data) - set(SECTIONS))
    if unknown:
        raise ConfigError(f"unknown section(s) {', '.join(unknown)}; known: {', '.join(sorted(SECTIONS))}")
    kw: dict[str, Any] = {}
    for name, cls in SECTIONS.items():
        kw[name] = build_section(name, cls, data.get(name, {}))
    for role in ("source", "target"):
        # Not a config key: only so that errors about this endpoint name its section.
        object.__setattr__(kw[role], "_role", role)
    cfg = Config(**kw)
    _validate(cfg)
    return cfg


def _validate(cfg: Config) -> None:
    fmt = cfg.input.format
    if cfg.kafka.partition != 0 and fmt == "drainer":
        # Drainer writes partition 0 only; anything else is almost surely a mistake.
        # (TiCDC topics have many partitions; the flow reads all of them.)
        raise ConfigError("[kafka] partition: Drainer writes only partition 0")
    try:
        from zoneinfo import ZoneInfo

        ZoneInfo(cfg.drainer.time_zone)
    except Exception:  # noqa: BLE001 - ZoneInfo raises several types for a bad name; every one is a configuration error
        raise ConfigError(
            f"[drainer] time_zone: {cfg.drainer.time_zone!r} is not an IANA zone name (e.g. 'UTC', 'Asia/Shanghai')"
        ) from None
    if not cfg.job.meta_schema.replace("_", "").isalnum():
        raise ConfigError(f"[job] meta_schema: {cfg.job.meta_schema!r} must be letters, digits and _")


def _merge_overrides(data: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    out = dict(data)
    for section, values in overrides.items():
        if not isinstance(values, dict):
            raise ConfigError(f"override for [{section}] must be a table of keys")
        out[section] = {**out.get(section, {}), **values}
    return out


def load(path: Optional[str | os.PathLike[str]] = None, overrides: Optional[dict[str, Any]] = None) -> Config:
    """Load and validate the configuration file (``path`` or ``$TIDB2MYSQL_CONFIG``).

    ``overrides`` ({section: {key: value}}) and the JSON in ``$TIDB2MYSQL_OVERRIDES`` (set by
    commands that start flows in subprocesses) are merged over the file before validation.
    """
    path = path or os.environ.get(ENV_VAR)
    if not path:
        raise ConfigError(f"no configuration file: pass --config PATH or set {ENV_VAR}")
    try:
        with open(path, "rb") as f:
            data = tomllib.load(f)
    except FileNotFoundError:
        raise ConfigError(f"configuration file {str(path)!r} does not exist") from None
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"configuration file {str(path)!r} is not valid TOML: {e}") from None
    env_overrides = os.environ.get(OVERRIDES_ENV_VAR)
    if env_overrides:
        import json

        try:
            data = _merge_overrides(data, json.loads(env_overrides))
        except ValueError as e:
            raise ConfigError(f"${OVERRIDES_ENV_VAR} is not valid JSON: {e}") from None
    if overrides:
        data = _merge_overrides(data, overrides)
    try:
        return parse(data)
    except ConfigError as e:
        raise ConfigError(f"{path}: {e}") from None
