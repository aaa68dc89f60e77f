"""librdkafka settings for tidb2mysql's Kafka clients: one place for producer and consumer.

Drainer writes one Kafka message per TiDB transaction, so a single message can be hundreds
of MB. librdkafka's defaults (1 MB messages, 50 MB fetches, 100 MB receive buffer) would
refuse or truncate those, and the error surfaces far from its cause. The simulator, the
flows and the tests therefore build their client configs here, and the local stack's broker
(scripts/stack.sh) is configured with matching limits.

Settings from the ``[kafka] client`` table of the configuration file (security.protocol,
sasl.*, or a tuned limit) are applied last, so an operator can override anything here.
"""

from __future__ import annotations

from typing import Any

from tidb2mysql.config import KafkaConfig
from tidb2mysql.errors import ConfigurationError, ConnectError

# librdkafka caps a producer's message.max.bytes at 1e9 (just under the broker's 1 GiB).
PRODUCER_MESSAGE_MAX_BYTES = 1_000_000_000
# One fetch may return a whole (huge) message batch. librdkafka caps the per-partition
# limit (max.partition.fetch.bytes) at 1e9; the whole-fetch limit may go higher.
CONSUMER_PARTITION_FETCH_MAX_BYTES = 1_000_000_000
CONSUMER_FETCH_MAX_BYTES = 1 << 30
# librdkafka requires receive.message.max.bytes >= fetch.max.bytes + 512 (protocol overhead).
CONSUMER_RECEIVE_MAX_BYTES = CONSUMER_FETCH_MAX_BYTES + (1 << 20)


# One attempt of a watermark query (watermark_offsets); asked again until the caller's timeout.
WATERMARK_ATTEMPT_SECONDS = 0.1


def watermark_offsets(consumer: Any, tp: Any, timeout: float = 10.0) -> tuple[int, int]:
    """``consumer.get_watermark_offsets(tp)`` (low, high), asked again every
    :data:`WATERMARK_ATTEMPT_SECONDS` until ``timeout``; the last error is raised after it.

    Ask on a consumer that is not fetching (``TopicReader.watermarks`` keeps one). On an
    assigned consumer the query waits behind its fetch parked at the broker for up to
    ``fetch.wait.max.ms`` (500 ms), so short attempts time out in flight one after the other,
    and librdkafka then answered nothing for 10 s (the cause of a flaky cut-over test,
    docs/performance.md). On an idle client a query takes 1-33 ms.

    Why short attempts: on a consumer created a moment before, librdkafka sometimes took
    0.5-0.7 s to answer the first query (3 of 20 process starts of a ``-p 2`` flow, in
    ``resolve_start``), and a second query right away was answered at once; a process of a
    ``-p N`` flow that starts 0.7 s late makes the whole flow end 0.7 s later.
    """
    import time

    from confluent_kafka import KafkaException

    deadline = time.monotonic() + timeout
    while True:
        attempt = min(WATERMARK_ATTEMPT_SECONDS, deadline - time.monotonic())
        try:
            lo, hi = consumer.get_watermark_offsets(tp, timeout=max(attempt, 0.001))
            return lo, hi
        except KafkaException:
            if time.monotonic() >= deadline:
                raise


def producer_config(kafka: KafkaConfig, **overrides: Any) -> dict[str, Any]:
    """Config for ``confluent_kafka.Producer`` writing Drainer-size messages to ``kafka``."""
    conf: dict[str, Any] = {
        "bootstrap.servers": kafka.brokers,
        "message.max.bytes": PRODUCER_MESSAGE_MAX_BYTES,
        # Drainer's own producer waits for all in-sync replicas; so do we.
        "acks": "all",
    }
    conf.update(kafka.client_config())
    conf.update(overrides)
    return conf


def consumer_config(kafka: KafkaConfig, **overrides: Any) -> dict[str, Any]:
    """Config for ``confluent_kafka.Consumer`` reading Drainer-size messages from ``kafka``.

    confluent-kafka refuses a consumer without ``group.id``, so a default is set; offsets
    are never committed to Kafka (they live in tidb2mysql's own checkpoints and Bytewax
    snapshots), so the group only names the client in the broker's logs.
    """
    conf: dict[str, Any] = {
        "bootstrap.servers": kafka.brokers,
        "group.id": "tidb2mysql",
        "enable.auto.commit": False,
        "fetch.max.bytes": CONSUMER_FETCH_MAX_BYTES,
        "max.partition.fetch.bytes": CONSUMER_PARTITION_FETCH_MAX_BYTES,
        "receive.message.max.bytes": CONSUMER_RECEIVE_MAX_BYTES,
    }
    conf.update(kafka.client_config())
    conf.update(overrides)
    return conf


def admin_config(kafka: KafkaConfig, **overrides: Any) -> dict[str, Any]:
    """Config for ``confluent_kafka.admin.AdminClient`` (topic creation in tools and tests)."""
    conf: dict[str, Any] = dict(kafka.client_config())
    conf.update(overrides)
    return conf


class KafkaConnectError(ConnectError, RuntimeError):
    """Kafka cannot be used with these settings; the message names the brokers, the user and
    the mechanism (never the password), says what failed and how to fix it.

    ``permanent``: authentication, TLS or a protocol mismatch - trying again with the same
    settings cannot help (a broker that does not answer may come back)."""

    def __init__(self, message: str, permanent: bool = False):
        super().__init__(message)
        self.permanent = permanent


class KafkaTopicMissing(ConfigurationError):
    """The configured topic (or its partition) is not on the brokers, or this user cannot see it."""


def topic_problem(md: Any, kafka: KafkaConfig, partition: Any = None) -> tuple[str, str] | None:
    """``(what, fix)`` when ``kafka.topic`` is missing from the cluster metadata ``md``
    (``list_topics()`` of every topic: naming one may auto-create it) or has no ``partition``;
    None when it is there. One wording for precheck and for the flows' start.

    Why the flows ask before they build: a missing topic otherwise surfaced from inside the
    Bytewax build as librdkafka's "Unknown partition" at the bottom of a Rust traceback with
    ``-w 1``, and with ``-p 2`` as nothing but "Send thread panic" in both processes.
    """
    t = md.topics.get(kafka.topic)
    if t is None or t.error is not None:
        err = f" ({t.error})" if t is not None and t.error is not None else ""
        fix = "check [kafka] topic; Drainer's default is <cluster-id>_obinlog, or set topic-name in drainer.toml"
        if kafka.username:
            fix += (f"; with ACLs, a topic the user {kafka.username!r} may not Describe is invisible: grant"
                    " Describe and Read on it (docs/operations.md, Securing connections)")
        return f"topic {kafka.topic!r} does not exist{err}", fix
    if partition is not None and partition not in t.partitions:
        return (f"topic {kafka.topic!r} has no partition {partition} (it has {len(t.partitions)})",
                "Drainer writes partition 0: check [kafka] partition")
    if not t.partitions:
        return f"topic {kafka.topic!r} has no partitions", "check [kafka] topic"
    return None


def require_topic(md: Any, kafka: KafkaConfig, partition: Any = None) -> int:
    """The number of partitions of ``kafka.topic``, or :class:`KafkaTopicMissing` (see
    :func:`topic_problem`) naming the brokers, the topic and the fix."""
    problem = topic_problem(md, kafka, partition)
    if problem is not None:
        what, fix = problem
        raise KafkaTopicMissing(f"Kafka {kafka.describe()}: {what}; fix: {fix}")
    return len(md.topics[kafka.topic].partitions)


class ClientLog:
    """Collects a short-lived client's librdkafka log lines and error events instead of
    letting librdkafka print them to stderr.

    ``status``, ``cutover`` and ``precheck`` open clients for a second; without this, every
    harmless event of such a client (a group coordinator connection torn down on close over
    SASL_SSL, a refused connection while the broker is down) lands on the terminal as a raw
    ``%3|...|FAIL|`` line. The lines are kept for an error message that explains the failure
    (:func:`explain_failure`); nothing here ever holds a password (librdkafka does not log it).
    Pass ``**ClientLog().config()`` into a client's configuration.
    """

    def __init__(self):
        self.errors: list = []
        self.lines: list[str] = []

    def log(self, level, fmt, *args) -> None:  # the `logger` protocol confluent-kafka calls
        try:
            self.lines.append(fmt % args if args else str(fmt))
        except TypeError:
            self.lines.append(" ".join(str(a) for a in (fmt, *args)))

    def config(self) -> dict[str, Any]:
        return {"error_cb": self.errors.append, "logger": self}

    def codes(self) -> set:
        return {getattr(e, "code", lambda: None)() for e in self.errors}


def _first_broker(brokers: str) -> tuple[str, int]:
    first = brokers.split(",")[0].strip()
    if "://" in first:
        first = first.split("://", 1)[1]
    host, _, port = first.rpartition(":")
    return host.strip("[]") or first, int(port or 9092)


def tls_probe(kafka: KafkaConfig, timeout: float = 5.0) -> str:
    """Why the TLS handshake with the first broker fails, in OpenSSL's words ("" if it works).

    librdkafka reports every verification failure as "certificate verify failed"; a Python
    handshake with the same CA and host name tells an untrusted CA from a host name mismatch
    or an expired certificate, which need different fixes.
    """
    import socket
    import ssl

    host, port = _first_broker(kafka.brokers)
    ctx = ssl.create_default_context(cafile=kafka.ca_file or None)
    ctx.check_hostname = kafka.verify_hostname
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            with ctx.wrap_socket(sock, server_hostname=host):
                return ""
    except ssl.SSLCertVerificationError as e:
        return e.verify_message or str(e)
    except (ssl.SSLError, OSError) as e:
        return str(e)


def explain_failure(kafka: KafkaConfig, errors: list, logs: list[str], final: BaseException) -> tuple[str, str]:
    """(what failed, how to fix it) from librdkafka's error events and log lines."""
    codes = {getattr(e, "code", lambda: None)() for e in errors}
    texts = [str(e) for e in errors] + logs
    joined = "\n".join(texts)
    from confluent_kafka import KafkaError

    if KafkaError._AUTHENTICATION in codes or "SASL authentication error" in joined:
        return (f"SASL {kafka.mechanism} authentication failed for user {kafka.username!r}"
                " (wrong username or password, or no credentials for this mechanism)",
                "check [kafka] username, password_env/password_file and mechanism against the user created"
                f" with kafka-configs --alter --add-config '{kafka.mechanism}=[password=...]' --entity-type users")
    if KafkaError._SSL in codes or "SSL handshake failed" in joined:
        reason = tls_probe(kafka) or next((t for t in texts if "SSL" in t), str(final))
        r = reason.lower()
        if "mismatch" in r:
            fix = (f"the broker certificate does not name the host in [kafka] brokers ({kafka.brokers}): use a"
                   " name the certificate lists (subjectAltName), or set verify_hostname = false")
        elif "expired" in r:
            fix = "the broker certificate has expired: renew it on the brokers"
        elif "self-signed" in r or "self signed" in r or "local issuer" in r or "verify failed" in r:
            fix = (f"the broker certificate is not signed by a CA in ca_file ({kafka.ca_file or 'system trust store'}):"
                   " set [kafka] ca_file to the CA that signed the brokers' certificates")
        else:
            fix = "check [kafka] security, ca_file, cert_file and key_file"
        return f"TLS handshake failed: {reason}", fix
    security = kafka.effective_security()
    if "APIVERSION_QUERY" in joined and security not in ("ssl", "sasl_ssl"):
        return ("the broker closed the connection before answering: this listener probably expects TLS",
                "set [kafka] security = \"sasl_ssl\" (or \"ssl\") with ca_file, or use the broker's plaintext port")
    if "in state UP" in joined and "Disconnected" in joined and not security.startswith("sasl_"):
        return ("the broker closed the connection after the first request: this listener probably requires SASL",
                "set [kafka] security = \"sasl_plaintext\" or \"sasl_ssl\" with username and password_env/password_file")
    if "Connection refused" in joined or "Connect to" in joined:
        return (f"no broker answers at {kafka.brokers}: {next((t for t in texts if 'Connect' in t), '')}",
                "check [kafka] brokers (host:port of the listener for this security protocol) and the network path")
    return (f"{final}" + (f" ({texts[0]})" if texts else ""),
            "check [kafka] brokers, security, mechanism, username and password")


def check_connection(kafka: KafkaConfig, timeout: float = 10.0, refused_limit: int = 0):
    """(AdminClient, ClusterMetadata) for ``kafka``, or :class:`KafkaConnectError` saying why not.

    Used by precheck, status, cutover and at the start of the incremental flow, so a wrong
    password or an untrusted certificate stops the job at once with a clear message, instead of
    librdkafka retrying forever while the flow waits for messages. Authentication and TLS
    failures end the wait early (they are reported within a second; waiting longer does not
    help). ``refused_limit`` > 0 also ends it once that many connection attempts were refused
    (short-lived commands; the flow keeps waiting ``timeout`` for a broker that restarts).
    librdkafka's log lines are collected (:class:`ClientLog`), never printed.
    """
    import time

    from confluent_kafka import KafkaError, KafkaException
    from confluent_kafka.admin import AdminClient

    clog = ClientLog()
    admin = AdminClient(admin_config(kafka, **clog.config()))
    errors, logs = clog.errors, clog.lines
    deadline = time.monotonic() + timeout
    final: BaseException = TimeoutError(f"no metadata within {timeout:.0f}s")
    while time.monotonic() < deadline:
        try:
            md = admin.list_topics(timeout=min(1.0, max(0.1, deadline - time.monotonic())))
            if md.brokers:
                return admin, md
        except KafkaException as e:
            final = e
        admin.poll(0)  # serve error events and log lines
        if clog.codes() & {KafkaError._AUTHENTICATION, KafkaError._SSL}:
            break
        # The broker accepting TCP and then hanging up, again and again, is a protocol
        # mismatch (plaintext client on a TLS or SASL listener), not a slow broker.
        if sum("Disconnected" in line and ("APIVERSION_QUERY" in line or "in state UP" in line) for line in logs) >= 3:
            break
        if refused_limit and sum("Connection refused" in line for line in logs) >= refused_limit:
            break
    admin.poll(0.2)
    what, fix = explain_failure(kafka, errors, logs, final)
    permanent = bool(clog.codes() & {KafkaError._AUTHENTICATION, KafkaError._SSL}) or what.startswith(
        ("TLS handshake failed", "SASL ", "the broker closed the connection"))
    raise KafkaConnectError(f"Kafka {kafka.describe()}: {what}; fix: {fix}", permanent=permanent)
