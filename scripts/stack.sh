#!/usr/bin/env bash
# The local test stack: Apache Kafka (KRaft, single node) and two MariaDB 10.11 servers,
# "source" (plays TiDB) and "target" (plays MySQL), all on loopback, all state under one
# directory so that several checkouts or CI runs never step on each other's files.
#
#   scripts/stack.sh up       install what is missing, start everything, wait until healthy,
#                             write $T2M_STACK_DIR/tidb2mysql.toml   (idempotent)
#   scripts/stack.sh down     stop what runs (a no-op when nothing runs)
#   scripts/stack.sh status   show what runs and whether it answers
#   scripts/stack.sh wipe     down + delete the state dir (keeps the download cache)
#   scripts/stack.sh up-tidb  build (once, cached) and start a real TiDB server beside the
#                             stack, write $T2M_STACK_DIR/tidb2mysql-tidb.toml (TiDB as the
#                             source, the stack's MariaDB target and Kafka); needs only itself
#                             running, so it can start while the rest of the stack runs
#   scripts/stack.sh down-tidb / status-tidb    stop it / show it (`down` stops it too)
#   scripts/stack.sh build-tidb  only build tidb-server and dumpling (cached; prints the dir)
#
# Why our own processes instead of the distro's mariadb service or a container: the tool
# needs two independent MySQL-protocol servers with settings we control (1 GiB packets,
# TiDB's utf8mb4_bin on the source), and CI machines have no docker. Kafka comes as the
# official jars from Maven Central at a pinned version (no tarball mirror to trust), fetched
# with maven so ~/.m2 and a copied lib dir make the second `up` fast.
#
# Environment:
#   T2M_STACK_DIR   state dir (default <repo>/.stack): data, logs, sockets, pids, config
#   T2M_CACHE_DIR   download cache (default ~/.cache/tidb2mysql); `wipe` keeps it
#   T2M_KAFKA_PORT, T2M_KAFKA_CONTROLLER_PORT, T2M_SOURCE_PORT, T2M_TARGET_PORT
#                   override the ports (default 19092, 19093, 14000, 13306)
#   T2M_TIDB_PORT, T2M_TIDB_STATUS_PORT
#                   TiDB's MySQL and status ports (default 14400, 14480)
#   PYTHON          a python with confluent-kafka for the Kafka health check
#                   (default <repo>/.venv/bin/python; falls back to Kafka's own Java tool)
#   T2M_SECURE=1    the *secured* stack instead (`make up SECURE=1`), beside the default one:
#                   state in <repo>/.stack-secure, Kafka SASL_SSL on 19192 and SASL_PLAINTEXT
#                   on 19194 (SCRAM-SHA-256/512, controller 19193), MariaDB source 14100 and
#                   target 13406 with TLS, users that REQUIRE SSL, a test CA made with openssl,
#                   random passwords in <state>/secrets. Extra port override:
#                   T2M_KAFKA_SASL_PLAINTEXT_PORT. See docs/operations.md, "Securing connections".
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SECURE="${T2M_SECURE:-0}"
[[ "$SECURE" == 1 || "$SECURE" == 0 ]] || { echo "T2M_SECURE must be 0 or 1, not '$SECURE'" >&2; exit 2; }
if [[ "$SECURE" == 1 ]]; then
  STATE="${T2M_STACK_DIR:-$REPO/.stack-secure}"
else
  STATE="${T2M_STACK_DIR:-$REPO/.stack}"
fi
CACHE="${T2M_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/tidb2mysql}"
PYTHON="${PYTHON:-$REPO/.venv/bin/python}"

KAFKA_VERSION=3.9.1            # keep in sync with scripts/kafka/pom.xml
# The ports are fixed by convention (docs, README); the overrides exist to run a second,
# throw-away stack next to the shared one (e.g. to test this script).
# The secured stack has its own ports so that both stacks run side by side.
if [[ "$SECURE" == 1 ]]; then
  KAFKA_PORT="${T2M_KAFKA_PORT:-19192}"                       # SASL_SSL
  KAFKA_SASL_PLAINTEXT_PORT="${T2M_KAFKA_SASL_PLAINTEXT_PORT:-19194}"
  KAFKA_CONTROLLER_PORT="${T2M_KAFKA_CONTROLLER_PORT:-19193}"
  SOURCE_PORT="${T2M_SOURCE_PORT:-14100}"
  TARGET_PORT="${T2M_TARGET_PORT:-13406}"
else
  KAFKA_PORT="${T2M_KAFKA_PORT:-19092}"
  KAFKA_CONTROLLER_PORT="${T2M_KAFKA_CONTROLLER_PORT:-19093}"
  SOURCE_PORT="${T2M_SOURCE_PORT:-14000}"
  TARGET_PORT="${T2M_TARGET_PORT:-13306}"
fi
DB_USER=tidb2mysql
DB_PASSWORD=tidb2mysql
# Secured stack: the migration's own least-privilege user (REQUIRE SSL) is $DB_USER; an
# all-privileges admin (also REQUIRE SSL) plays the application/TiDB side (simulator, test
# fixtures). Passwords are random, made once, and live only in files under secrets/ (mode
# 600) and the broker's server.properties (600); the only command line that ever carries one
# is Kafka's StorageTool format, once per state dir (start_kafka).
DB_ADMIN=t2m_admin
KAFKA_USER=tidb2mysql       # SCRAM user of every tidb2mysql client: read-only ACLs
KAFKA_DRAINER=drainer       # SCRAM user that plays Drainer (simulator, test fixtures): super user
KAFKA_ADMIN=kafka_admin     # SCRAM user of the broker's own connections and of this script
SCRAM_USERS="$KAFKA_ADMIN $KAFKA_DRAINER $KAFKA_USER"
SECRETS="$STATE/secrets"
TLS="$STATE/tls"
# 1 GiB: Drainer writes one Kafka message per transaction, and transactions of hundreds of
# MB happen. Kafka's size settings are Java ints (max 2147483647), so stay well below that.
ONE_GIB=1073741824
# A request carries the message plus headers; leave room above message.max.bytes.
REQUEST_MAX=1200000000

KAFKA_LIBS="$CACHE/kafka-$KAFKA_VERSION/libs"

log() { printf '[stack] %s\n' "$*" >&2; }
die() { printf '[stack] ERROR: %s\n' "$*" >&2; exit 1; }

# ---------------------------------------------------------------------------------------
# processes and ports

pid_alive() { [[ -n "${1:-}" ]] && kill -0 "$1" 2>/dev/null; }

# The pid in a pid file, if that process is alive and is one of *ours* (its command line
# names our state dir). A stale pid file, or a recycled pid now used by something else,
# yields nothing.
our_pid() {
  local file="$1" pid
  [[ -s "$file" ]] || return 1
  pid="$(tr -dc 0-9 <"$file")"
  pid_alive "$pid" || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$STATE" || return 1
  echo "$pid"
}

# What listens on a TCP port (empty if nothing).
port_holder() {
  local port="$1"
  if command -v ss >/dev/null; then
    ss -Hltnp "sport = :$port" 2>/dev/null | head -n 3
  else
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && echo "something (install iproute2 to see what)"
  fi
}

# Refuse to start on a port that someone else holds: the tests would talk to the wrong server.
require_free_port() {
  local port="$1" what="$2" holder
  holder="$(port_holder "$port")"
  [[ -z "$holder" ]] || die "port $port (wanted for $what) is already in use by something that is not this stack (state dir $STATE):
$holder
Stop it, or point T2M_STACK_DIR at the stack that owns it."
}

tail_log() {
  local file="$1"
  if [[ -f "$file" ]]; then
    printf '[stack] ---- last lines of %s ----\n' "$file" >&2
    tail -n 40 "$file" >&2
    printf '[stack] ----\n' >&2
  else
    log "(no log file at $file)"
  fi
}

# SIGTERM is a clean shutdown for both mariadbd and the Kafka broker; wait for it, and only
# kill -9 if it hangs, so data dirs stay consistent across runs.
stop_pid() {
  local pid="$1" name="$2" waited=0
  kill -TERM "$pid" 2>/dev/null || return 0
  while pid_alive "$pid"; do
    sleep 0.2; waited=$((waited + 1))
    if (( waited == 300 )); then
      log "$name (pid $pid) did not stop within 60 s; killing it"
      kill -KILL "$pid" 2>/dev/null || true
    fi
  done
  log "$name stopped (pid $pid)"
}

# ---------------------------------------------------------------------------------------
# installation (fresh Debian 12, as root)

apt_install() {
  [[ $EUID -eq 0 ]] || die "need to install $* but not running as root; install them with: sudo apt-get install -y $*"
  command -v apt-get >/dev/null || die "need $* and there is no apt-get here; install them by hand"
  log "installing $* with apt-get"
  DEBIAN_FRONTEND=noninteractive apt-get update -q >&2 || die "apt-get update failed"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >&2 || die "apt-get install $* failed"
}

mariadbd_bin() {
  local b
  for b in mariadbd /usr/sbin/mariadbd mysqld /usr/sbin/mysqld; do
    command -v "$b" >/dev/null 2>&1 && { command -v "$b"; return 0; }
  done
  return 1
}

ensure_packages() {
  if ! mariadbd_bin >/dev/null || ! command -v mariadb-install-db >/dev/null || ! command -v mariadb >/dev/null; then
    apt_install mariadb-server mariadb-client
    # Debian's package may start its own service on 3306; we run our own servers instead.
    if command -v systemctl >/dev/null && systemctl is-active --quiet mariadb 2>/dev/null; then
      log "stopping and disabling the distro's mariadb service (the stack runs its own servers)"
      systemctl disable --now mariadb >&2 || true
    fi
  fi
  command -v java >/dev/null || apt_install openjdk-17-jre-headless
  command -v mvn >/dev/null || apt_install maven
  local version
  version="$("$(mariadbd_bin)" --version)"
  [[ "$version" == *10.11.* ]] || log "warning: expected MariaDB 10.11, found: $version"
}

# Kafka's jars and their runtime dependencies from Maven Central, copied once into the cache.
ensure_kafka_libs() {
  [[ -f "$KAFKA_LIBS/.complete" ]] && return 0
  log "fetching Apache Kafka $KAFKA_VERSION jars from Maven Central (cached in ~/.m2 and $KAFKA_LIBS)"
  rm -rf "$KAFKA_LIBS"
  mkdir -p "$KAFKA_LIBS"
  if ! mvn -q -B -f "$REPO/scripts/kafka/pom.xml" dependency:copy-dependencies \
        -DincludeScope=runtime -DoutputDirectory="$KAFKA_LIBS" >"$CACHE/mvn-kafka.log" 2>&1; then
    tail_log "$CACHE/mvn-kafka.log"
    die "download failed: maven could not fetch org.apache.kafka:kafka_2.13:$KAFKA_VERSION and its dependencies (is Maven Central reachable?)"
  fi
  [[ -f "$KAFKA_LIBS/kafka_2.13-$KAFKA_VERSION.jar" ]] || die "download failed: kafka_2.13-$KAFKA_VERSION.jar missing after maven ran"
  touch "$KAFKA_LIBS/.complete"
}

# ---------------------------------------------------------------------------------------
# secured stack: secrets and the test CA

secret() { tr -d '[:space:]' <"$SECRETS/$1.pw"; }

# Random passwords, made once per state dir (a second `up` must keep the ones baked into
# the Kafka metadata and the MariaDB users).
ensure_secrets() {
  local name
  command -v openssl >/dev/null || apt_install openssl
  mkdir -p "$SECRETS"; chmod 700 "$SECRETS"
  for name in db-admin db-app kafka-admin kafka-client kafka-drainer; do
    [[ -s "$SECRETS/$name.pw" ]] && continue
    (umask 077; openssl rand -hex 16 >"$SECRETS/$name.pw")
  done
}

# A test CA and one server certificate (SAN IP:127.0.0.1 only, so connecting as "localhost"
# is a hostname mismatch the tests can provoke), used by Kafka and both MariaDB servers; a
# client certificate for mutual TLS; and an unrelated "rogue" CA for the untrusted-CA tests.
# Valid for 10 years; regenerated only when missing.
ensure_tls() {
  command -v openssl >/dev/null || apt_install openssl
  mkdir -p "$TLS"; chmod 700 "$TLS"
  [[ -e "$TLS/.complete" ]] && return 0
  log "generating a test CA and certificates in $TLS (openssl)"
  (
    set -e; cd "$TLS"; umask 077
    for ca in ca rogue-ca; do
      openssl req -x509 -newkey rsa:2048 -nodes -keyout "$ca.key" -out "$ca.pem" -days 3650 \
        -subj "/CN=tidb2mysql test $ca" -addext "basicConstraints=critical,CA:TRUE" \
        -addext "keyUsage=critical,keyCertSign,cRLSign"
    done
    openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj "/CN=127.0.0.1"
    printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n' >server.ext
    openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 3650 \
      -extfile server.ext -out server.pem
    # The same key and names, already expired: the tests swap it in on one server (FLUSH SSL).
    openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days -1 \
      -extfile server.ext -out server-expired.pem
    openssl req -newkey rsa:2048 -nodes -keyout client.key -out client.csr -subj "/CN=tidb2mysql"
    printf 'extendedKeyUsage=clientAuth\nbasicConstraints=CA:FALSE\n' >client.ext
    openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 3650 \
      -extfile client.ext -out client.pem
    # Kafka's PEM keystore: the (PKCS#8) key followed by the certificate, in one file.
    cat server.key server.pem >kafka-keystore.pem
    rm -f ./*.csr ./*.ext ./*.srl
    chmod 644 ca.pem rogue-ca.pem server.pem server-expired.pem client.pem
  ) >"$STATE/tls.log" 2>&1 || { tail_log "$STATE/tls.log"; die "generating the test certificates failed"; }
  touch "$TLS/.complete"
}

# Each MariaDB server reads its own copy of the server certificate, refreshed on every `up`,
# so that a test can replace one server's certificate (and FLUSH SSL) without touching the
# other server or Kafka, and a test that died half-way is repaired by the next `up`.
refresh_db_certs() {
  local name
  for name in source target; do
    cp "$TLS/server.pem" "$TLS/$name-server.pem.tmp" && mv "$TLS/$name-server.pem.tmp" "$TLS/$name-server.pem"
  done
}

# ---------------------------------------------------------------------------------------
# MariaDB

db_dir() { echo "$STATE/$1"; }
db_port() { [[ "$1" == source ]] && echo "$SOURCE_PORT" || echo "$TARGET_PORT"; }

write_db_cnf() {
  local name="$1" dir port server_id collation="" innodb pool
  dir="$(db_dir "$name")"; port="$(db_port "$name")"
  innodb="innodb_buffer_pool_size = 256M
innodb_log_file_size = 256M"
  if [[ "$name" == source ]]; then
    server_id=1
    # TiDB's default collation for utf8mb4 is utf8mb4_bin; the source must compare like TiDB.
    collation="collation-server = utf8mb4_bin"
  else
    server_id=2
    # The target is configured like a real MySQL server, so benchmarks (make bench) are not
    # limited by MariaDB's small defaults (docs/performance.md, "The target server"): a buffer
    # pool that holds the benchmark data set (the 3-minute delay run grows its table past
    # 1.5 M rows, ~1 GiB with indexes), a redo log large enough that bulk loads do not wait
    # for checkpoints, durable commits (flush at every commit, like a production server).
    # The secured stack is not for benchmarks and keeps 256M. Overrides: T2M_TARGET_* below.
    pool="${T2M_TARGET_BUFFER_POOL:-2G}"
    [[ "$SECURE" == 1 ]] && pool="${T2M_TARGET_BUFFER_POOL:-256M}"
    innodb="innodb_buffer_pool_size = $pool
innodb_log_file_size = ${T2M_TARGET_LOG_FILE_SIZE:-1G}
innodb_log_buffer_size = 64M
innodb_flush_log_at_trx_commit = ${T2M_TARGET_FLUSH_LOG_AT_TRX_COMMIT:-1}
innodb_flush_method = O_DIRECT
innodb_io_capacity = 2000
innodb_io_capacity_max = 4000
# the full load's LOAD DATA LOCAL INFILE (MariaDB's default; explicit because it is needed)
local_infile = ON"
  fi
  cat >"$dir/my.cnf" <<EOF
# Written by scripts/stack.sh; rewritten on every \`up\`.
[mysqld]
user = root
datadir = $dir/data
socket = $dir/mysqld.sock
pid-file = $dir/mysqld.pid
log-error = $dir/mysqld.err
port = $port
bind-address = 127.0.0.1
skip-name-resolve
server-id = $server_id
character-set-server = utf8mb4
$collation
max_allowed_packet = 1G
$innodb
max_connections = 500
EOF
  if [[ "$SECURE" == 1 ]]; then
    cat >>"$dir/my.cnf" <<EOF
# secured stack: TLS with the stack's test CA (users REQUIRE SSL)
ssl-ca = $TLS/ca.pem
ssl-cert = $TLS/$name-server.pem
ssl-key = $TLS/server.key
EOF
  fi
}

db_pid() { our_pid "$(db_dir "$1")/mysqld.pid"; }

db_root() { mariadb --no-defaults --socket="$(db_dir "$1")/mysqld.sock" -uroot "${@:2}"; }

# The password goes through MYSQL_PWD (the environment), never the command line.
db_answers_tcp() {
  if [[ "$SECURE" == 1 ]]; then
    MYSQL_PWD="$(secret db-app)" mariadb --no-defaults --protocol=TCP -h127.0.0.1 -P"$(db_port "$1")" \
      -u"$DB_USER" --ssl --ssl-ca="$TLS/ca.pem" --ssl-verify-server-cert \
      --connect-timeout=2 -N -e 'SELECT 1' >/dev/null 2>&1
  else
    MYSQL_PWD="$DB_PASSWORD" mariadb --no-defaults --protocol=TCP -h127.0.0.1 -P"$(db_port "$1")" -u"$DB_USER" \
      --connect-timeout=2 -N -e 'SELECT 1' >/dev/null 2>&1
  fi
}

start_db() {
  local name="$1" dir port pid i
  dir="$(db_dir "$name")"; port="$(db_port "$name")"
  mkdir -p "$dir"
  write_db_cnf "$name"
  if pid="$(db_pid "$name")"; then
    log "mariadb $name already running (pid $pid, port $port)"
  else
    require_free_port "$port" "mariadb $name"
    if [[ ! -d "$dir/data/mysql" ]]; then
      log "initialising mariadb $name data dir"
      rm -rf "$dir/data"
      if ! mariadb-install-db --defaults-file="$dir/my.cnf" --user=root --skip-test-db \
            --auth-root-authentication-method=socket >"$dir/install-db.log" 2>&1; then
        tail_log "$dir/install-db.log"
        die "mariadb-install-db failed for $name"
      fi
    fi
    log "starting mariadb $name on 127.0.0.1:$port"
    setsid "$(mariadbd_bin)" --defaults-file="$dir/my.cnf" </dev/null >>"$dir/mysqld.out" 2>&1 &
    for ((i = 0; i < 300; i++)); do
      [[ -S "$dir/mysqld.sock" ]] && db_root "$name" -e 'SELECT 1' >/dev/null 2>&1 && break
      if (( i > 10 )) && ! db_pid "$name" >/dev/null && ! pgrep -f -- "--defaults-file=$dir/my.cnf" >/dev/null; then
        tail_log "$dir/mysqld.err"
        die "mariadb $name exited during startup"
      fi
      sleep 0.2
    done
    db_root "$name" -e 'SELECT 1' >/dev/null 2>&1 || { tail_log "$dir/mysqld.err"; die "mariadb $name did not come up within 60 s"; }
  fi
  if [[ "$SECURE" == 1 ]]; then
    create_secure_users "$name"
  else
    create_plain_users "$name"
  fi
  db_answers_tcp "$name" || { tail_log "$dir/mysqld.err"; die "mariadb $name does not answer SELECT 1 over TCP 127.0.0.1:$port as $DB_USER"; }
}

create_plain_users() {
  local name="$1" dir
  dir="$(db_dir "$name")"
  # Idempotent: the user exists with this password and all privileges on every `up`.
  db_root "$name" <<EOF || { tail_log "$dir/mysqld.err"; die "could not create user $DB_USER on mariadb $name"; }
CREATE USER IF NOT EXISTS '$DB_USER'@'127.0.0.1' IDENTIFIED BY '$DB_PASSWORD';
CREATE USER IF NOT EXISTS '$DB_USER'@'localhost' IDENTIFIED BY '$DB_PASSWORD';
ALTER USER '$DB_USER'@'127.0.0.1' IDENTIFIED BY '$DB_PASSWORD';
ALTER USER '$DB_USER'@'localhost' IDENTIFIED BY '$DB_PASSWORD';
GRANT ALL PRIVILEGES ON *.* TO '$DB_USER'@'127.0.0.1' WITH GRANT OPTION;
GRANT ALL PRIVILEGES ON *.* TO '$DB_USER'@'localhost' WITH GRANT OPTION;
EOF
}

# The grants of docs/operations.md ("Least privilege"), no more: the secured stack is where
# the tests prove that tidb2mysql works with them. Over TCP with skip-name-resolve a client
# is always 127.0.0.1, so only that host is needed. The SQL goes to the client's stdin, so
# the passwords never appear on a command line.
create_secure_users() {
  local name="$1" dir grants
  dir="$(db_dir "$name")"
  if [[ "$name" == source ]]; then
    # Read the selected tables and views; RELOAD for the MariaDB stand-in's snapshot
    # (FLUSH TABLES WITH READ LOCK; a real TiDB needs no such privilege).
    grants="SELECT, SHOW VIEW, RELOAD"
  else
    # Create and change the migrated schema and tidb2mysql's own meta schema; write rows.
    grants="SELECT, INSERT, UPDATE, DELETE, CREATE, DROP, ALTER, INDEX, CREATE VIEW, SHOW VIEW, REFERENCES"
  fi
  db_root "$name" <<EOF || { tail_log "$dir/mysqld.err"; die "could not create the users on mariadb $name"; }
CREATE USER IF NOT EXISTS '$DB_ADMIN'@'127.0.0.1';
ALTER USER '$DB_ADMIN'@'127.0.0.1' IDENTIFIED BY '$(secret db-admin)' REQUIRE SSL;
GRANT ALL PRIVILEGES ON *.* TO '$DB_ADMIN'@'127.0.0.1' WITH GRANT OPTION;
CREATE USER IF NOT EXISTS '$DB_USER'@'127.0.0.1';
ALTER USER '$DB_USER'@'127.0.0.1' IDENTIFIED BY '$(secret db-app)' REQUIRE SSL;
REVOKE ALL PRIVILEGES, GRANT OPTION FROM '$DB_USER'@'127.0.0.1';
GRANT $grants ON *.* TO '$DB_USER'@'127.0.0.1';
EOF
}

stop_db() {
  local name="$1" pid
  pid="$(db_pid "$name")" || return 0
  stop_pid "$pid" "mariadb $name"
}

# ---------------------------------------------------------------------------------------
# Kafka

KDIR="$STATE/kafka"
# The secured stack only carries test-size messages: a smaller heap, and the C1 compiler only
# (starts faster on the 2 shared cores of CI; its throughput does not matter), keep it light
# beside the default stack.
if [[ "$SECURE" == 1 ]]; then
  KAFKA_HEAP=768m; KAFKA_JIT=(-XX:TieredStopAtLevel=1)
else
  KAFKA_HEAP=2g; KAFKA_JIT=()
fi

# The listener part of server.properties. Secured: clients get SASL_SSL and SASL_PLAINTEXT
# (SCRAM-SHA-256/512), the broker talks to itself over SASL_PLAINTEXT as $KAFKA_ADMIN, and
# the controller listener (loopback, broker-internal) stays PLAINTEXT. The SCRAM credentials
# are written into the metadata log at format time (`--add-scram`), before the broker first
# starts: without them the broker could not authenticate to itself.
kafka_listener_config() {
  if [[ "$SECURE" == 1 ]]; then
    local jaas="org.apache.kafka.common.security.scram.ScramLoginModule required"
    cat <<EOF
listeners=SASL_SSL://127.0.0.1:$KAFKA_PORT,SASL_PLAINTEXT://127.0.0.1:$KAFKA_SASL_PLAINTEXT_PORT,CONTROLLER://127.0.0.1:$KAFKA_CONTROLLER_PORT
advertised.listeners=SASL_SSL://127.0.0.1:$KAFKA_PORT,SASL_PLAINTEXT://127.0.0.1:$KAFKA_SASL_PLAINTEXT_PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=SASL_PLAINTEXT
listener.security.protocol.map=SASL_SSL:SASL_SSL,SASL_PLAINTEXT:SASL_PLAINTEXT,CONTROLLER:PLAINTEXT
sasl.enabled.mechanisms=SCRAM-SHA-256,SCRAM-SHA-512
sasl.mechanism.inter.broker.protocol=SCRAM-SHA-256
listener.name.sasl_plaintext.scram-sha-256.sasl.jaas.config=$jaas username="$KAFKA_ADMIN" password="$(secret kafka-admin)";
listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config=$jaas;
listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config=$jaas;
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=$jaas;
ssl.keystore.type=PEM
ssl.keystore.location=$TLS/kafka-keystore.pem
ssl.client.auth=none
# ACLs, so that the migration's user is tested with the rights docs/operations.md lists and
# no more (ensure_kafka_acls). User:ANONYMOUS is the loopback-only PLAINTEXT controller
# listener, where the broker registers with its own controller.
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
allow.everyone.if.no.acl.found=false
super.users=User:$KAFKA_ADMIN;User:$KAFKA_DRAINER;User:ANONYMOUS
EOF
  else
    cat <<EOF
listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT,CONTROLLER://127.0.0.1:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
EOF
  fi
}

write_kafka_config() {
  mkdir -p "$KDIR/logs"
  (umask 077; cat >"$KDIR/server.properties" <<EOF
# Written by scripts/stack.sh; rewritten on every \`up\`.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$KAFKA_CONTROLLER_PORT
$(kafka_listener_config)
log.dirs=$KDIR/data
num.partitions=1
auto.create.topics.enable=false
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
group.initial.rebalance.delay.ms=0
# Drainer-size transactions: one message can be hundreds of MB.
message.max.bytes=$ONE_GIB
replica.fetch.max.bytes=$ONE_GIB
fetch.max.bytes=$REQUEST_MAX
socket.request.max.bytes=$REQUEST_MAX
num.network.threads=2
num.io.threads=4
EOF
  )
  cat >"$KDIR/log4j.properties" <<'EOF'
log4j.rootLogger=INFO, file
log4j.appender.file=org.apache.log4j.RollingFileAppender
log4j.appender.file.File=${kafka.logs.dir}/server.log
log4j.appender.file.MaxFileSize=50MB
log4j.appender.file.MaxBackupIndex=2
log4j.appender.file.layout=org.apache.log4j.PatternLayout
log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.state.change.logger=WARN
log4j.logger.kafka.request.logger=WARN
log4j.logger.kafka.log.LogCleaner=WARN
EOF
}

# Kafka's command-line tools (StorageTool, the health-check fallback): they log to their own
# dir, never into the running broker's server.log.
kafka_tool() {
  mkdir -p "$KDIR/tool-logs"
  timeout 60 java -Xmx512m -Djava.awt.headless=true \
    -Dlog4j.configuration="file:$KDIR/log4j.properties" -Dkafka.logs.dir="$KDIR/tool-logs" \
    -cp "$KAFKA_LIBS/*" "$@"
}

kafka_pid() { our_pid "$KDIR/kafka.pid"; }

# A real metadata request: the broker is up and has a controller, not just a bound port.
# The python health check and topic creation get their client settings as JSON in the
# environment (T2M_KAFKA_CLIENT), so the secured stack's password is never an argument.
kafka_client_json() {
  if [[ "$SECURE" == 1 ]]; then
    printf '{"bootstrap.servers": "127.0.0.1:%s", "security.protocol": "SASL_SSL", "sasl.mechanism": "SCRAM-SHA-256", "sasl.username": "%s", "sasl.password": "%s", "ssl.ca.location": "%s"}' \
      "$KAFKA_PORT" "$KAFKA_ADMIN" "$(secret kafka-admin)" "$TLS/ca.pem"
  else
    printf '{"bootstrap.servers": "127.0.0.1:%s"}' "$KAFKA_PORT"
  fi
}

kafka_answers() {
  if [[ -x "$PYTHON" ]] && "$PYTHON" -c 'import confluent_kafka' 2>/dev/null; then
    T2M_KAFKA_CLIENT="$(kafka_client_json)" "$PYTHON" - <<'EOF' >/dev/null 2>&1
import json, os, sys
from confluent_kafka.admin import AdminClient
md = AdminClient(json.loads(os.environ["T2M_KAFKA_CLIENT"])).list_topics(timeout=3)
sys.exit(0 if md.brokers and md.controller_id >= 0 else 1)
EOF
  elif [[ "$SECURE" == 1 ]]; then
    die "the secured stack's Kafka health check needs a python with confluent-kafka at $PYTHON (run make setup)"
  else
    kafka_tool kafka.admin.BrokerApiVersionsCommand \
      --bootstrap-server "127.0.0.1:$KAFKA_PORT" >/dev/null 2>&1
  fi
}

start_kafka() {
  local pid i
  write_kafka_config
  if pid="$(kafka_pid)"; then
    log "kafka already running (pid $pid, port $KAFKA_PORT)"
  else
    require_free_port "$KAFKA_PORT" "kafka"
    require_free_port "$KAFKA_CONTROLLER_PORT" "kafka controller"
    [[ "$SECURE" == 1 ]] && require_free_port "$KAFKA_SASL_PLAINTEXT_PORT" "kafka SASL_PLAINTEXT"
    if [[ ! -f "$KDIR/data/meta.properties" ]]; then
      log "formatting kafka storage (KRaft)"
      rm -rf "$KDIR/data"
      [[ -s "$KDIR/cluster-id" ]] || kafka_tool kafka.tools.StorageTool random-uuid >"$KDIR/cluster-id" 2>"$KDIR/format.log" \
        || { tail_log "$KDIR/format.log"; die "kafka StorageTool random-uuid failed"; }
      local scram=()
      if [[ "$SECURE" == 1 ]]; then
        # StorageTool takes credentials only as arguments: they are visible in `ps` for the
        # second the format runs, once per state dir, on a loopback-only test stack.
        scram=(--add-scram "SCRAM-SHA-256=[name=$KAFKA_ADMIN,password=$(secret kafka-admin)]"
               --add-scram "SCRAM-SHA-256=[name=$KAFKA_DRAINER,password=$(secret kafka-drainer)]"
               --add-scram "SCRAM-SHA-256=[name=$KAFKA_USER,password=$(secret kafka-client)]"
               --add-scram "SCRAM-SHA-512=[name=$KAFKA_USER,password=$(secret kafka-client)]")
      fi
      kafka_tool kafka.tools.StorageTool format -t "$(tr -d '[:space:]' <"$KDIR/cluster-id")" \
        -c "$KDIR/server.properties" "${scram[@]}" >"$KDIR/format.log" 2>&1 \
        || { tail_log "$KDIR/format.log"; die "kafka StorageTool format failed"; }
      [[ "$SECURE" == 1 ]] && echo "$SCRAM_USERS" >"$KDIR/scram-users"
    fi
    # SCRAM users exist only from format time: a state dir formatted with other users
    # (an older version of this script) cannot be fixed in place.
    if [[ "$SECURE" == 1 && "$(cat "$KDIR/scram-users" 2>/dev/null)" != "$SCRAM_USERS" ]]; then
      die "the secured stack in $STATE was formatted with other Kafka users; recreate it: make wipe SECURE=1 && make up SECURE=1"
    fi
    log "starting kafka $KAFKA_VERSION (KRaft) on 127.0.0.1:$KAFKA_PORT"
    # The state dir is on the java command line (config path), which our_pid relies on.
    setsid bash -c 'echo $$ >"$1"; shift; exec "$@"' _ "$KDIR/kafka.pid" \
      java -Xms256m "-Xmx$KAFKA_HEAP" "${KAFKA_JIT[@]}" -XX:+UseG1GC -Djava.awt.headless=true \
      -Dlog4j.configuration="file:$KDIR/log4j.properties" -Dkafka.logs.dir="$KDIR/logs" \
      -cp "$KAFKA_LIBS/*" kafka.Kafka "$KDIR/server.properties" \
      </dev/null >>"$KDIR/logs/stdout.log" 2>&1 &
    sleep 1
  fi
  for ((i = 0; i < 90; i++)); do
    kafka_answers && { log "kafka answers on 127.0.0.1:$KAFKA_PORT"; return 0; }
    if ! kafka_pid >/dev/null; then
      tail_log "$KDIR/logs/server.log"; tail_log "$KDIR/logs/stdout.log"
      die "kafka exited during startup"
    fi
    sleep 1
  done
  tail_log "$KDIR/logs/server.log"
  die "kafka did not answer a metadata request within 90 s"
}

stop_kafka() {
  local pid
  pid="$(kafka_pid)" || return 0
  stop_pid "$pid" "kafka"
}

# Drainer's default topic, so `tidb2mysql simulate`/`incremental` with the generated config
# work at once (the broker does not auto-create topics, on purpose: typos must fail).
ensure_default_topic() {
  [[ -x "$PYTHON" ]] && "$PYTHON" -c 'import confluent_kafka' 2>/dev/null || {
    log "no python with confluent-kafka at $PYTHON; not creating topic tidb_obinlog"; return 0; }
  T2M_KAFKA_CLIENT="$(kafka_client_json)" "$PYTHON" - <<'EOF' >&2
import json, os
from confluent_kafka.admin import AdminClient, NewTopic
from confluent_kafka import KafkaError, KafkaException
admin = AdminClient(json.loads(os.environ["T2M_KAFKA_CLIENT"]))
if "tidb_obinlog" not in admin.list_topics(timeout=10).topics:
    fut = admin.create_topics([NewTopic("tidb_obinlog", num_partitions=1, replication_factor=1)])["tidb_obinlog"]
    try:
        fut.result(15)
        print("[stack] created topic tidb_obinlog")
    except KafkaException as e:
        if e.args[0].code() != KafkaError.TOPIC_ALREADY_EXISTS:
            raise
EOF
}

# The migration user's Kafka rights (docs/operations.md, "Kafka with SASL/SCRAM-SHA-256"):
# read and describe every topic (tests make topics with random names; a deployment names its
# one topic), describe configs for precheck's limits check, and the consumer groups it uses
# (prefix "tidb2mysql"). No Write, Create, Delete or Alter. Idempotent (CreateAcls).
ensure_kafka_acls() {
  T2M_KAFKA_CLIENT="$(kafka_client_json)" T2M_KAFKA_USER="$KAFKA_USER" "$PYTHON" - <<'EOF' >&2
import json, os, sys
from confluent_kafka.admin import (AclBinding, AclOperation as Op, AclPermissionType, AdminClient,
                                   ResourcePatternType as Pat, ResourceType as Res)
admin = AdminClient(json.loads(os.environ["T2M_KAFKA_CLIENT"]))
user = "User:" + os.environ["T2M_KAFKA_USER"]
allow = AclPermissionType.ALLOW
acls = [AclBinding(Res.TOPIC, "*", Pat.LITERAL, user, "*", op, allow)
        for op in (Op.READ, Op.DESCRIBE, Op.DESCRIBE_CONFIGS)]
acls += [AclBinding(Res.GROUP, "tidb2mysql", Pat.PREFIXED, user, "*", Op.READ, allow),
         AclBinding(Res.BROKER, "kafka-cluster", Pat.LITERAL, user, "*", Op.DESCRIBE_CONFIGS, allow)]
for binding, fut in admin.create_acls(acls, request_timeout=15).items():
    fut.result(30)
print(f"[stack] kafka ACLs for {user}: read/describe topics, groups tidb2mysql*, describe configs")
EOF
}

# ---------------------------------------------------------------------------------------
# TiDB: a real TiDB server as the source (opt-in: up-tidb; `make test` starts it)
#
# TiDB is a Go module; the proxy lists no installable versions of it, so deploy/tidb/ is a
# small module of ours that pins one TiDB commit (its go.mod repeats TiDB's requirements and
# replacements, its go.sum TiDB's). tidb-server and dumpling are built from it once into
# $CACHE/tidb-<version>/ and rebuilt only when deploy/tidb/go.mod or go.sum change (a stamp
# holds their checksum). The server runs with its embedded storage (unistore): one process,
# no PD/TiKV, data under $STATE/tidb. No Pump/Drainer: the binlog is off (@@log_bin = 0).

TIDB_PORT="${T2M_TIDB_PORT:-14400}"
TIDB_STATUS_PORT="${T2M_TIDB_STATUS_PORT:-14480}"
TIDB_MODULE="$REPO/deploy/tidb"
TIDB_VERSION="$(awk '$1 == "github.com/pingcap/tidb" {print $2; exit}' "$TIDB_MODULE/go.mod")"
# What tidb_version() and VERSION() report (the pinned commit is TiDB's master of 2023-03-03,
# the v7.0 development line); a build outside TiDB's Makefile reports "None".
TIDB_RELEASE="v7.0.0-nightly-20230303"
TIDB_BIN_DIR="$CACHE/tidb-$TIDB_VERSION"
TDIR="$STATE/tidb"

# A Go toolchain to build TiDB with: the machine's (PATH or /usr/local/go) if it is >= 1.20,
# else one fetched once from the Go module proxy (golang.org/toolchain, the same zip `go`
# itself downloads for GOTOOLCHAIN) into the cache: a fresh machine needs no hand install.
GO_FALLBACK="1.22.12"
go_minor() { "$1" env GOVERSION 2>/dev/null | sed -n 's/^go1\.\([0-9]*\).*/\1/p'; }

go_bin() {
  local b m dir zip url
  for b in go /usr/local/go/bin/go; do
    if command -v "$b" >/dev/null 2>&1; then
      m="$(go_minor "$(command -v "$b")")"
      [[ -n "$m" && "$m" -ge 20 ]] && { command -v "$b"; return 0; }
    fi
  done
  dir="$CACHE/go-$GO_FALLBACK"
  if [[ ! -x "$dir/go/bin/go" ]]; then
    url="${GOPROXY_URL:-https://proxy.golang.org}/golang.org/toolchain/@v/v0.0.1-go$GO_FALLBACK.linux-amd64.zip"
    log "no Go >= 1.20 here: fetching go$GO_FALLBACK from the Go module proxy ($url)" >&2
    mkdir -p "$dir"
    zip="$dir/toolchain.zip"
    curl -fsSL -o "$zip" "$url" || { rm -rf "$dir"; return 1; }
    # The module zip holds golang.org/toolchain@.../{bin,pkg,src}; unpack it as $dir/go.
    "${PYTHON:-python3}" - "$zip" "$dir/go" <<'PY' || { rm -rf "$dir"; return 1; }
import os, sys, zipfile
src, dst = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(src) as z:
    for info in z.infolist():
        parts = info.filename.split("/")
        at = next((i for i, p in enumerate(parts) if "@" in p), None)
        name = "/".join(parts[at + 1:]) if at is not None else ""
        if not name or info.is_dir():
            continue
        out = os.path.join(dst, name)
        os.makedirs(os.path.dirname(out), exist_ok=True)
        with z.open(info) as f, open(out, "wb") as g:
            g.write(f.read())
        # module zips carry no permissions: the commands (bin/, pkg/tool/) must be executable
        executable = name.startswith("bin/") or name.startswith("pkg/tool/")
        os.chmod(out, 0o755 if executable else 0o644)
PY
    rm -f "$zip"
  fi
  [[ -x "$dir/go/bin/go" ]] && { echo "$dir/go/bin/go"; return 0; }
  return 1
}

tidb_build_stamp() { cat "$TIDB_MODULE/go.mod" "$TIDB_MODULE/go.sum" | sha256sum | cut -d' ' -f1; }

tidb_bin_current() {
  [[ -x "$TIDB_BIN_DIR/tidb-server" && -x "$TIDB_BIN_DIR/dumpling" \
     && "$(cat "$TIDB_BIN_DIR/.stamp" 2>/dev/null)" == "$1" ]]
}

# Build tidb-server and dumpling unless the cache already holds them for this go.mod/go.sum.
# One build at a time (flock): `make test` and a developer's `make up-tidb` may race.
ensure_tidb_bin() {
  local stamp go t0 tmp minor ldflags=""
  stamp="$(tidb_build_stamp)"
  tidb_bin_current "$stamp" && return 0
  go="$(go_bin)" || die "building TiDB needs a Go toolchain (>= 1.20): none on PATH or in /usr/local/go/bin, and fetching one from the Go module proxy failed"
  minor="$(go_minor "$go")"
  [[ -n "$minor" && "$minor" -ge 20 ]] || die "building TiDB needs Go >= 1.20; $go is $("$go" env GOVERSION)"
  # -checklinkname=0: this TiDB reaches into the runtime with go:linkname, which the linkers of
  # Go 1.23 and later refuse by default (older ones know no such flag).
  (( minor >= 23 )) && ldflags="-ldflags=-checklinkname=0"
  mkdir -p "$TIDB_BIN_DIR"
  exec 8>"$CACHE/tidb-build.lock"
  flock 8
  if tidb_bin_current "$stamp"; then
    exec 8>&-; return 0        # another process built it while we waited
  fi
  log "building TiDB $TIDB_VERSION (tidb-server, dumpling) into $TIDB_BIN_DIR: ~20 min cold on 2 busy cores, ~1.5 min when only the link is left (warm Go caches); log $TIDB_BIN_DIR/build.log"
  t0=$SECONDS
  tmp="$TIDB_BIN_DIR/.build"
  rm -rf "$tmp"; mkdir -p "$tmp"
  # -mod=readonly: go.sum is complete and committed; a build must not change it.
  if ! (cd "$TIDB_MODULE" && GOFLAGS=-mod=readonly "$go" build -trimpath $ldflags -o "$tmp/" \
          github.com/pingcap/tidb/tidb-server github.com/pingcap/tidb/dumpling/cmd/dumpling) \
        >"$TIDB_BIN_DIR/build.log" 2>&1; then
    tail_log "$TIDB_BIN_DIR/build.log"
    exec 8>&-
    die "building TiDB failed (Go $("$go" env GOVERSION); module $TIDB_MODULE)"
  fi
  mv -f "$tmp/tidb-server" "$tmp/dumpling" "$TIDB_BIN_DIR/"
  rmdir "$tmp"
  echo "$stamp" >"$TIDB_BIN_DIR/.stamp"
  log "built TiDB in $((SECONDS - t0)) s"
  exec 8>&-
}

write_tidb_config() {
  mkdir -p "$TDIR/data" "$TDIR/tmp"
  cat >"$TDIR/tidb.toml" <<CONF
# Written by scripts/stack.sh; rewritten on every \`up-tidb\`.
tidb-release-version = "$TIDB_RELEASE"
# VERSION(): the server builds it from the release version at start-up, before it reads this
# file, so it would say "5.7.25-TiDB-None" without this line
server-version = "5.7.25-TiDB-$TIDB_RELEASE"
[performance]
# like the MariaDB servers: transactions of hundreds of MB are part of the tests
txn-total-size-limit = 1073741824
[log]
level = "warn"
slow-threshold = 10000
# the slow-query log's default is a path relative to the server's working directory
slow-query-file = "$TDIR/tidb-slow.log"
[log.file]
filename = "$TDIR/tidb.log"
CONF
}

tidb_pid() { our_pid "$TDIR/tidb.pid"; }

# TiDB's root has no password; only this script (loopback) uses it.
tidb_root() {
  mariadb --no-defaults --protocol=TCP -h127.0.0.1 -P"$TIDB_PORT" -uroot --connect-timeout=2 "$@"
}

tidb_user_sql() {
  MYSQL_PWD="$DB_PASSWORD" mariadb --no-defaults --protocol=TCP -h127.0.0.1 -P"$TIDB_PORT" \
    -u"$DB_USER" --connect-timeout=2 -N -e "$1" 2>/dev/null
}

tidb_answers() { tidb_user_sql 'SELECT 1' >/dev/null; }

# Run once the server answers: our user, and the GC safe point. The embedded storage never
# runs TiDB's GC worker, so mysql.tidb lacks the tikv_gc_safe_point row a real cluster has,
# and every `SET @@tidb_snapshot` fails without it ("can not get 'tikv_gc_safe_point'"). A
# safe point in the past: every version the storage still holds may be read.
prepare_tidb() {
  tidb_root <<SQL || { tail_log "$TDIR/tidb.log"; die "could not prepare TiDB (user, GC safe point)"; }
CREATE USER IF NOT EXISTS '$DB_USER'@'%' IDENTIFIED BY '$DB_PASSWORD';
ALTER USER '$DB_USER'@'%' IDENTIFIED BY '$DB_PASSWORD';
GRANT ALL PRIVILEGES ON *.* TO '$DB_USER'@'%' WITH GRANT OPTION;
INSERT IGNORE INTO mysql.tidb (VARIABLE_NAME, VARIABLE_VALUE, COMMENT)
  VALUES ('tikv_gc_safe_point', '20000101-00:00:00.000 +0000', 'All versions after safe point can be accessed. (DO NOT EDIT)');
SQL
}

start_tidb() {
  local pid i
  write_tidb_config
  if pid="$(tidb_pid)"; then
    log "tidb already running (pid $pid, port $TIDB_PORT)"
  else
    require_free_port "$TIDB_PORT" "tidb"
    require_free_port "$TIDB_STATUS_PORT" "tidb status"
    log "starting tidb ($TIDB_RELEASE, embedded storage) on 127.0.0.1:$TIDB_PORT"
    # The state dir is on the command line (-path, -config), which our_pid relies on.
    setsid bash -c 'echo $$ >"$1"; shift; exec "$@"' _ "$TDIR/tidb.pid" \
      "$TIDB_BIN_DIR/tidb-server" -config "$TDIR/tidb.toml" -store unistore -path "$TDIR/data" \
      -host 127.0.0.1 -P "$TIDB_PORT" -status "$TIDB_STATUS_PORT" -status-host 127.0.0.1 \
      -socket "" -temp-dir "$TDIR/tmp" \
      </dev/null >>"$TDIR/stdout.log" 2>&1 &
    sleep 1
    for ((i = 0; i < 120; i++)); do
      tidb_root -N -e 'SELECT 1' >/dev/null 2>&1 && break
      if ! tidb_pid >/dev/null; then
        tail_log "$TDIR/tidb.log"; tail_log "$TDIR/stdout.log"
        die "tidb exited during startup"
      fi
      sleep 0.5
    done
    tidb_root -N -e 'SELECT 1' >/dev/null 2>&1 || { tail_log "$TDIR/tidb.log"; die "tidb did not answer within 60 s"; }
  fi
  prepare_tidb
  tidb_answers || { tail_log "$TDIR/tidb.log"; die "tidb does not answer SELECT 1 over TCP 127.0.0.1:$TIDB_PORT as $DB_USER"; }
}

stop_tidb() {
  local pid
  pid="$(tidb_pid)" || return 0
  stop_pid "$pid" "tidb"
}

# TiDB as the source, the stack's MariaDB target and Kafka: the config of the TiDB-backed
# tests (tests/support/tidb.py) and of `make demo SOURCE=tidb`.
write_tidb_tool_config() {
  write_plain_config "$STATE/tidb2mysql-tidb.toml" \
    "# Written by scripts/stack.sh (\`make up-tidb\`): TiDB as the source, the local stack's target.
# tidb-server and dumpling: $TIDB_BIN_DIR" "a real TiDB ($TIDB_RELEASE, embedded storage)" "$TIDB_PORT"
}

cmd_up_tidb() {
  local t0=$SECONDS
  [[ "$SECURE" == 0 ]] || die "up-tidb belongs to the default stack, not the secured one"
  mkdir -p "$STATE" "$CACHE"
  command -v mariadb >/dev/null || apt_install mariadb-client
  ensure_tidb_bin
  start_tidb
  write_tidb_tool_config
  log "tidb is up in $((SECONDS - t0)) s: 127.0.0.1:$TIDB_PORT (status 127.0.0.1:$TIDB_STATUS_PORT), VERSION() $(tidb_user_sql 'SELECT VERSION()')"
  log "config: $STATE/tidb2mysql-tidb.toml"
}

# One line for `make up` / `status`: whether TiDB runs, and its version.
tidb_status_line() {
  local pid
  if pid="$(tidb_pid)"; then
    if tidb_answers; then
      printf '%-15s running  pid %-8s 127.0.0.1:%-6s %s\n' "tidb" "$pid" "$TIDB_PORT" "$(tidb_user_sql 'SELECT VERSION()')"
    else
      printf '%-15s running  pid %-8s 127.0.0.1:%-6s NOT ANSWERING\n' "tidb" "$pid" "$TIDB_PORT"; return 1
    fi
  else
    printf '%-15s stopped (start it: make up-tidb)\n' "tidb"; return 1
  fi
}

# ---------------------------------------------------------------------------------------
# the config file the tests and `make demo` use

write_config() {
  if [[ "$SECURE" == 1 ]]; then write_secure_configs; return; fi
  write_plain_config "$STATE/tidb2mysql.toml" \
    "# Written by scripts/stack.sh (\`make up\`): a tidb2mysql config pointing at the local stack." \
    "MariaDB playing TiDB" "$SOURCE_PORT"
}

# A plain (default stack) config file: $1 = file, $2 = header comment, $3 = what the source
# is, $4 = its port. The target and Kafka are the stack's.
write_plain_config() {
  local file="$1" header="$2" source_note="$3" source_port="$4" tmp="$1.tmp"
  cat >"$tmp" <<EOF
$header
[source]   # $source_note
host = "127.0.0.1"
port = $source_port
user = "$DB_USER"
password = "$DB_PASSWORD"

[target]   # MariaDB playing MySQL
host = "127.0.0.1"
port = $TARGET_PORT
user = "$DB_USER"
password = "$DB_PASSWORD"

[kafka]
brokers = "127.0.0.1:$KAFKA_PORT"
topic = "tidb_obinlog"

[drainer]
time_zone = "UTC"
EOF
  mv "$tmp" "$file"
}

# One secured config file: the MySQL endpoints with TLS and the Kafka client with SCRAM,
# passwords by file. $1 = file, $2 = MySQL user, $3 = its password file, $4 = kafka
# security ("sasl_ssl" or "sasl_plaintext"), $5 = Kafka user, $6 = its password file.
write_secure_config() {
  local file="$1" user="$2" pw="$3" security="$4" kuser="$5" kpw="$6" tmp brokers port
  tmp="$file.tmp"
  if [[ "$security" == sasl_ssl ]]; then port=$KAFKA_PORT; else port=$KAFKA_SASL_PLAINTEXT_PORT; fi
  brokers="127.0.0.1:$port"
  cat >"$tmp" <<EOF
# Written by scripts/stack.sh (\`make up SECURE=1\`): the secured local stack.
# MySQL over TLS verified against the stack's test CA; Kafka with SCRAM-SHA-256 ($security).
[source]   # MariaDB playing TiDB
host = "127.0.0.1"
port = $SOURCE_PORT
user = "$user"
password_file = "$pw"
tls = "verify_identity"
ca_file = "$TLS/ca.pem"

[target]   # MariaDB playing MySQL
host = "127.0.0.1"
port = $TARGET_PORT
user = "$user"
password_file = "$pw"
tls = "verify_identity"
ca_file = "$TLS/ca.pem"

[kafka]
brokers = "$brokers"
topic = "tidb_obinlog"
security = "$security"
mechanism = "SCRAM-SHA-256"
username = "$kuser"
password_file = "$kpw"
EOF
  [[ "$security" == sasl_ssl ]] && printf 'ca_file = "%s"\n' "$TLS/ca.pem" >>"$tmp"
  printf '\n[drainer]\ntime_zone = "UTC"\n' >>"$tmp"
  mv "$tmp" "$file"
}

# tidb2mysql.toml: the migration's least-privilege user over SASL_SSL (what users deploy);
# tidb2mysql-sasl-plaintext.toml: the same over SASL_PLAINTEXT; admin.toml: the all-privileges
# admin (the simulator and test fixtures play TiDB's applications with it); stack.json:
# ports and file paths for the tests.
write_secure_configs() {
  local kapp="$SECRETS/kafka-client.pw" kdrainer="$SECRETS/kafka-drainer.pw"
  write_secure_config "$STATE/tidb2mysql.toml" "$DB_USER" "$SECRETS/db-app.pw" sasl_ssl "$KAFKA_USER" "$kapp"
  write_secure_config "$STATE/tidb2mysql-sasl-plaintext.toml" "$DB_USER" "$SECRETS/db-app.pw" sasl_plaintext \
    "$KAFKA_USER" "$kapp"
  write_secure_config "$STATE/admin.toml" "$DB_ADMIN" "$SECRETS/db-admin.pw" sasl_ssl "$KAFKA_DRAINER" "$kdrainer"
  cat >"$STATE/stack.json.tmp" <<EOF
{
  "kafka_sasl_ssl": "127.0.0.1:$KAFKA_PORT",
  "kafka_sasl_plaintext": "127.0.0.1:$KAFKA_SASL_PLAINTEXT_PORT",
  "source_port": $SOURCE_PORT,
  "target_port": $TARGET_PORT,
  "db_user": "$DB_USER",
  "db_admin": "$DB_ADMIN",
  "kafka_user": "$KAFKA_USER",
  "kafka_drainer": "$KAFKA_DRAINER",
  "ca_file": "$TLS/ca.pem",
  "rogue_ca_file": "$TLS/rogue-ca.pem",
  "server_cert_file": "$TLS/server.pem",
  "expired_server_cert_file": "$TLS/server-expired.pem",
  "target_server_cert_file": "$TLS/target-server.pem",
  "client_cert_file": "$TLS/client.pem",
  "client_key_file": "$TLS/client.key",
  "secrets": {"db_app": "$SECRETS/db-app.pw", "db_admin": "$SECRETS/db-admin.pw",
              "kafka_client": "$SECRETS/kafka-client.pw", "kafka_admin": "$SECRETS/kafka-admin.pw",
              "kafka_drainer": "$SECRETS/kafka-drainer.pw"}
}
EOF
  mv "$STATE/stack.json.tmp" "$STATE/stack.json"
}

# ---------------------------------------------------------------------------------------
# commands

cmd_up() {
  local t0=$SECONDS
  mkdir -p "$STATE" "$CACHE"
  ensure_packages
  ensure_kafka_libs
  if [[ "$SECURE" == 1 ]]; then
    ensure_secrets
    ensure_tls
    refresh_db_certs
  fi
  start_db source
  start_db target
  start_kafka
  ensure_default_topic
  [[ "$SECURE" == 1 ]] && ensure_kafka_acls
  write_config
  local what="stack"
  [[ "$SECURE" == 1 ]] && what="secured stack (kafka SASL_PLAINTEXT 127.0.0.1:$KAFKA_SASL_PLAINTEXT_PORT)"
  log "$what is up in $((SECONDS - t0)) s: kafka 127.0.0.1:$KAFKA_PORT, source 127.0.0.1:$SOURCE_PORT, target 127.0.0.1:$TARGET_PORT"
  log "config: $STATE/tidb2mysql.toml"
  [[ "$SECURE" == 1 ]] || log "$(tidb_status_line || true)"
}

cmd_down() {
  [[ "$SECURE" == 1 ]] || stop_tidb
  stop_kafka
  stop_db target
  stop_db source
  log "stack is down"
}

cmd_status() {
  local ok=0 pid name
  for name in source target; do
    if pid="$(db_pid "$name")"; then
      if db_answers_tcp "$name"; then
        printf '%-15s running  pid %-8s 127.0.0.1:%-6s answers SELECT 1\n' "mariadb $name" "$pid" "$(db_port "$name")"
      else
        printf '%-15s running  pid %-8s 127.0.0.1:%-6s NOT ANSWERING\n' "mariadb $name" "$pid" "$(db_port "$name")"; ok=1
      fi
    else
      printf '%-15s stopped\n' "mariadb $name"; ok=1
    fi
  done
  if pid="$(kafka_pid)"; then
    if kafka_answers; then
      printf '%-15s running  pid %-8s 127.0.0.1:%-6s answers metadata\n' "kafka" "$pid" "$KAFKA_PORT"
    else
      printf '%-15s running  pid %-8s 127.0.0.1:%-6s NOT ANSWERING\n' "kafka" "$pid" "$KAFKA_PORT"; ok=1
    fi
  else
    printf '%-15s stopped\n' "kafka"; ok=1
  fi
  [[ "$SECURE" == 1 ]] || tidb_status_line || true   # opt-in: a stopped TiDB is no failure
  printf 'state dir       %s\n' "$STATE"
  [[ -f "$STATE/tidb2mysql.toml" ]] && printf 'config          %s\n' "$STATE/tidb2mysql.toml"
  return $ok
}

cmd_wipe() {
  cmd_down
  if [[ -d "$STATE" ]]; then
    rm -rf "$STATE"
    log "deleted $STATE (download cache kept in $CACHE)"
  fi
}

case "${1:-}" in
  up) cmd_up ;;
  down) cmd_down ;;
  status) cmd_status ;;
  wipe) cmd_wipe ;;
  up-tidb) cmd_up_tidb ;;
  down-tidb) stop_tidb ;;
  status-tidb) tidb_status_line ;;
  build-tidb) mkdir -p "$CACHE"; ensure_tidb_bin; echo "$TIDB_BIN_DIR" ;;
  restart-kafka) ensure_kafka_libs; stop_kafka; start_kafka ;;  # tests: a broker restart under a running flow
  *) echo "usage: $0 up|down|status|wipe|up-tidb|down-tidb|status-tidb|build-tidb|restart-kafka" >&2; exit 2 ;;
esac
