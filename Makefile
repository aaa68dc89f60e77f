# tidb2mysql developer entry points. Every target uses the venv at ./.venv.
#
#   make test    THE test command: venv + local stack + the whole pytest suite
#   make demo    venv + local stack + simulated TiDB writing while the incremental flow replicates
#                (SOURCE=tidb: the simulator writes to the real TiDB, make up-tidb)
#   make up / down / status / wipe    the local stack (scripts/stack.sh)
#   make up SECURE=1 (= make up-secure), make down SECURE=1, ...   the secured stack beside it
#   make up-tidb / down-tidb / status-tidb   a real TiDB server as the source, beside the stack
#                (built once into ~/.cache/tidb2mysql/tidb-<version>/; config .stack/tidb2mysql-tidb.toml)
#                (TLS, SASL/SCRAM, least-privilege users; .stack-secure/, other ports)
#   make unit    pure unit tests only (no stack needed)
#   make lint    ruff + mypy (pyproject.toml); make test runs them too (tests/unit/test_lint.py)
#   make proto   regenerate the Drainer protobuf module

SHELL := /bin/bash
PY_BOOTSTRAP ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
PYTEST_ARGS ?=
DEMO_ARGS ?=
# make bench BENCH_ARGS=--full   (the issue's sizes; --smoke for tiny; --only SECTION ...)
BENCH_ARGS ?=

# SECURE=1: the secured stack (scripts/stack.sh, T2M_SECURE) instead of the default one.
SECURE ?= 0

# scripts/stack.sh uses the venv's confluent-kafka for its Kafka health check.
STACK := PYTHON=$(CURDIR)/$(PY) T2M_SECURE=$(SECURE) scripts/stack.sh
SECURE_STACK := PYTHON=$(CURDIR)/$(PY) T2M_SECURE=1 scripts/stack.sh

.PHONY: setup up down status wipe up-tidb down-tidb status-tidb proto test unit lint demo bench fuzz up-secure down-secure status-secure image k8s-check

# The stamp is newer than pyproject.toml once the install succeeded, so a second
# `make setup` does nothing.
setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml setup.py tidb2mysql/drainer/_rowscan.c tidb2mysql/mysql/_rowtext.c
	@if [ ! -x $(PY) ]; then \
	  echo "creating $(VENV) with $(PY_BOOTSTRAP)"; \
	  if ! $(PY_BOOTSTRAP) -m venv $(VENV) 2>/dev/null; then \
	    rm -rf $(VENV); \
	    if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	      echo "installing python3.11-venv with apt-get"; \
	      DEBIAN_FRONTEND=noninteractive apt-get update -q && \
	      DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3.11 python3.11-venv || exit 1; \
	      $(PY_BOOTSTRAP) -m venv $(VENV) || exit 1; \
	    else \
	      echo "cannot create a venv with $(PY_BOOTSTRAP): install python3.11 and python3.11-venv" >&2; exit 1; \
	    fi; \
	  fi; \
	fi
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	@touch $@

up: setup
	$(STACK) up

down:
	$(STACK) down

status:
	$(STACK) status

wipe:
	$(STACK) wipe

# A real TiDB (tidb-server with its embedded storage), built from deploy/tidb/ the first time
# (minutes; cached until the pinned version changes), started without touching the rest.
up-tidb:
	$(STACK) up-tidb

down-tidb:
	$(STACK) down-tidb

status-tidb:
	$(STACK) status-tidb

up-secure: setup
	$(SECURE_STACK) up

down-secure:
	$(SECURE_STACK) down

status-secure:
	$(SECURE_STACK) status

proto: setup
	$(PY) -m grpc_tools.protoc -Iproto --python_out=tidb2mysql/drainer proto/secondary_binlog.proto

# PYTEST_STATUS=file records pytest's own exit status there (make itself exits 2 on any
# failure); .ci/run uses it to exit with pytest's status.
# The secured stack (TLS, SASL/SCRAM; ~15 s from nothing, ~1 s when up) runs beside the
# default one for tests/integration/test_security.py, whose fixture would start it anyway.
# The real TiDB (up-tidb) is the source of the tests marked `tidb`; its first build takes
# minutes (cached afterwards).
test: setup up up-secure up-tidb
	@$(VENV)/bin/pytest $(PYTEST_ARGS); s=$$?; \
	  if [ -n "$(PYTEST_STATUS)" ]; then echo $$s > "$(PYTEST_STATUS)"; fi; exit $$s

unit: setup
	$(VENV)/bin/pytest tests/unit $(PYTEST_ARGS)

# ruff + mypy as configured in pyproject.toml (also run by make test: tests/unit/test_lint.py,
# and the layer contract: tests/unit/test_layers.py)
lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

# make demo SOURCE=tidb: the simulator writes to the real TiDB (make up-tidb) instead of the
# MariaDB stand-in (the default: fast on a fresh machine, no TiDB build).
SOURCE ?= mariadb
ifeq ($(SOURCE),tidb)
DEMO_DEPS := up-tidb
DEMO_CONFIG := --config $${T2M_STACK_DIR:-.stack}/tidb2mysql-tidb.toml
else ifneq ($(SOURCE),mariadb)
$(error SOURCE must be mariadb or tidb, not '$(SOURCE)')
endif
demo: setup up $(DEMO_DEPS)
	$(PY) scripts/demo.py $(DEMO_CONFIG) $(DEMO_ARGS)

bench: setup up
	@if [ -d bench ]; then \
	  $(PY) -m bench $(BENCH_ARGS); \
	else \
	  echo "bench/ is not built yet: nothing to run"; \
	fi

# Fuzz the Drainer decoder: FUZZ_CASES mutated hostile messages (plus a structured corpus);
# every case must decode to native values or fail naming topic/partition/offset. No stack needed.
FUZZ_CASES ?= 1000000
fuzz: setup
	$(PY) -m tests.support.drainer_fuzz --cases $(FUZZ_CASES)
	$(PY) -m tests.support.ticdc_fuzz --cases $(FUZZ_CASES)

# Container image (Dockerfile); needs a running container builder (docker, or IMAGE_BUILDER=podman).
IMAGE ?= tidb2mysql:dev
IMAGE_BUILDER ?= docker
image:
	$(IMAGE_BUILDER) build -t $(IMAGE) .

# Kubernetes manifests: render (kustomize) and validate offline (kubeconform, strict) - k8s/check.py.
# Not part of `make test`: it builds kustomize and kubeconform with `go install` the first time.
k8s-check: setup
	$(PY) k8s/check.py
