# syntax=docker/dockerfile:1
# tidb2mysql container image: every `tidb2mysql` command, and `tidb2mysql-k8s` (k8s/entrypoint.py),
# the entrypoint of one incremental-flow process in the Kubernetes StatefulSet (k8s/README.md).
#
#   make image                         (docker build -t tidb2mysql:dev .)
#   docker run --rm tidb2mysql:dev precheck --config /etc/tidb2mysql/config/tidb2mysql.toml
#
# Two stages: the first installs the package and its dependencies into a venv, the second copies
# only that venv onto a clean Python image and runs as an unprivileged user (uid 10001). All
# dependencies ship manylinux wheels (bytewax, confluent-kafka with librdkafka, orjson,
# protobuf); the build stage has gcc for the project's one C module (tidb2mysql/drainer/
# _rowscan.c, setup.py), and the build fails if it was not built. No compiler in the final stage.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends gcc libc6-dev \
 && rm -rf /var/lib/apt/lists/*
RUN python -m venv /opt/tidb2mysql
WORKDIR /src
COPY pyproject.toml setup.py README.md ./
COPY tidb2mysql ./tidb2mysql
COPY flows ./flows
# Not editable: the flows package lands in site-packages next to tidb2mysql, where
# `python -m bytewax.run flows.incremental` and tidb2mysql/launch.py find it. Byte-compiled here,
# because the pods run with a read-only root filesystem.
RUN /opt/tidb2mysql/bin/pip install . \
 && cd / && /opt/tidb2mysql/bin/python -c "import bytewax, confluent_kafka, pymysql, flows, tidb2mysql.cli, tidb2mysql.drainer._rowscan"
COPY k8s/entrypoint.py /opt/tidb2mysql/bin/tidb2mysql-k8s
RUN sed -i '1s|.*|#!/opt/tidb2mysql/bin/python|' /opt/tidb2mysql/bin/tidb2mysql-k8s \
 && chmod 0755 /opt/tidb2mysql/bin/tidb2mysql-k8s

FROM ${PYTHON_IMAGE}
RUN groupadd --system --gid 10001 tidb2mysql \
 && useradd --system --uid 10001 --gid 10001 --home-dir /nonexistent --no-create-home \
            --shell /usr/sbin/nologin tidb2mysql
COPY --from=build /opt/tidb2mysql /opt/tidb2mysql
ENV PATH=/opt/tidb2mysql/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1
WORKDIR /tmp
USER 10001:10001
ENTRYPOINT ["tidb2mysql"]
CMD ["--help"]
