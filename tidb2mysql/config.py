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
from typing import Any, Optional

ENV_VAR = "TIDB2MYSQL_CONFIG"


class ConfigError(ValueError):
    """The configuration file is missing, unreadable or invalid."""


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

    def resolved_password(self) -> str:
        if self.password_env:
            try:
                return os.environ[self.password_env]
            except KeyError:
                raise ConfigError(
                    f"password_env names {self.password_env!r}, which is not set in the environment"
                ) from None
        if self.password_file:
            try:
                text = Path(self.password_file).read_text()
            except OSError as e:
                raise ConfigError(f"cannot read password_file {self.password_file!r}: {e}") from None
            return text.splitlines()[0] if text else ""
        return self.password

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
        return kw

    def describe(self) -> str:
        """Where it points, for logs (never the password)."""
        where = self.unix_socket or f"{self.host}:{self.port}"
        return f"{self.user}@{where}"


@dataclass(frozen=True)
class KafkaConfig:
    brokers: str = "127.0.0.1:9092"
    topic: str = "tidb_obinlog"
    partition: int = 0
    # Extra librdkafka settings for every client (security.protocol, sasl.*, ...).
    client: dict = field(default_factory=dict)

    def client_config(self) -> dict[str, Any]:
        return {"bootstrap.servers": self.brokers, **self.client}


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
    # Sections owned by later stages are registered here as they land.
    extra: dict = field(default_factory=dict)


# Section name -> dataclass. Stages add their own sections with register_section().
_SECTIONS: dict[str, type] = {
    "source": Endpoint,
    "target": Endpoint,
    "kafka": KafkaConfig,
    "drainer": DrainerConfig,
    "job": JobConfig,
}
_EXTRA_SECTIONS: dict[str, type] = {}


def register_section(name: str, cls: type) -> None:
    """Let a stage own a config section (e.g. ``incremental``); read via ``Config.extra``."""
    _EXTRA_SECTIONS[name] = cls


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


def _register_stage_sections() -> None:
    # Stages own their sections; importing their settings module registers them.
    import tidb2mysql.replication.settings  # noqa: F401
    import tidb2mysql.fullload.settings  # noqa: F401
    import tidb2mysql.selection.rules  # noqa: F401
    import tidb2mysql.ops.settings  # noqa: F401


def parse(data: dict[str, Any]) -> Config:
    _register_stage_sections()
    unknown = sorted(set(data) - set(_SECTIONS) - set(_EXTRA_SECTIONS))
    if unknown:
        known = sorted(set(_SECTIONS) | set(_EXTRA_SECTIONS))
        raise ConfigError(f"unknown section(s) {', '.join(unknown)}; known: {', '.join(known)}")
    kw: dict[str, Any] = {}
    for name, cls in _SECTIONS.items():
        kw[name] = build_section(name, cls, data.get(name, {}))
    extra = {name: build_section(name, cls, data.get(name, {})) for name, cls in _EXTRA_SECTIONS.items()}
    cfg = Config(**kw, extra=extra)
    _validate(cfg)
    return cfg


def _validate(cfg: Config) -> None:
    if cfg.kafka.partition != 0:
        # Drainer writes partition 0 only; anything else is almost surely a mistake.
        raise ConfigError("[kafka] partition: Drainer writes only partition 0")
    try:
        from zoneinfo import ZoneInfo

        ZoneInfo(cfg.drainer.time_zone)
    except Exception:
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


def load(path: Optional[str | os.PathLike] = None, overrides: Optional[dict[str, Any]] = None) -> Config:
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
