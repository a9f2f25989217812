# mock-norce: a test double for Norce Commerce Event webhooks.
#
# Build:  DOCKER_BUILDKIT=1 docker build -t mock-norce:latest .
# DOCKER_BUILDKIT=1 because the build step below mounts a secret (RUN --mount), which only
# BuildKit understands: Docker Desktop and Docker 23+ use it anyway, Debian's docker.io 20.10
# does not without the variable ("the --mount option requires BuildKit"). The secret is how a
# proxy's CA reaches pip without being stored in a layer; a build arg or COPY would keep it
# in the image, so the Dockerfile keeps the mount and the command says BuildKit.
# Behind a TLS-intercepting proxy (corporate proxies, this project's CI), pass the host's CA
# bundle as that secret so pip can reach the package index:
#         DOCKER_BUILDKIT=1 docker build --secret id=ca_bundle,src=/etc/ssl/certs/ca-certificates.crt ...
# Without Docker Hub, build on a local base with python3: scripts/docker-build.sh does it all
# (engine, a slimmed debootstrap base mock-norce-base:local-v2, the secret, the labels); by hand:
#         DOCKER_BUILDKIT=1 docker build --build-arg BASE_IMAGE=mock-norce-base:local-v2 ...
# Run:    docker run -p 127.0.0.1:8080:8080 -v mock-norce-data:/data mock-norce:latest
# More:   docs/docker.md

# Pin by digest (python:3.12-slim@sha256:...) for reproducible releases.
ARG BASE_IMAGE=python:3.12-slim

# ---- build: install the package and its dependencies into a self-contained venv -------
FROM ${BASE_IMAGE} AS build
# python3, not python: the debootstrap base has no `python` alias.
RUN python3 -m venv /venv
COPY pyproject.toml README.md /src/
COPY mock_norce/ /src/mock_norce/
# The secret mount gives pip the CA of a TLS-intercepting proxy (corporate proxies, this
# CI's proxy) only when one is passed; nothing of it is stored in the image. It is set as
# PIP_CERT, not only `--cert`: pip does not pass `--cert` on to the isolated subprocess that
# installs the build backend (setuptools), which then fails certificate verification.
# Flask and waitress are core dependencies: `serve` needs no extra. pip, setuptools and
# wheel go once the package is in: nothing at run time imports them (about 25 MB).
RUN --mount=type=secret,id=ca_bundle \
    export PIP_DISABLE_PIP_VERSION_CHECK=1 \
        $( [ -f /run/secrets/ca_bundle ] && echo PIP_CERT=/run/secrets/ca_bundle ) \
    && /venv/bin/pip install --no-cache-dir /src \
    && /venv/bin/python -m pip uninstall -y -q pip setuptools wheel

# ---- final: the venv, no build tools, no pip cache --------------------------------------
FROM ${BASE_IMAGE}
# The venv's python links to the base's interpreter, so both stages use the same base. The
# built-in data (schemas, tenant, scenarios) is inside the package, so the venv is all.
COPY --from=build /venv /venv
# A numeric user in group 0, as OpenShift expects: there every container runs as an arbitrary
# uid in group 0, so /data belongs to group 0 and the group may do what the owner may
# (g=u). `docker run --user 12345:0` works the same; a user outside group 0 cannot write
# /data and mock-norce says so in one line. --no-log-init: no lastlog entry for the uid.
RUN useradd --system --no-log-init --uid 10001 --gid 0 --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin mocknorce \
    && mkdir -p /data \
    && chown 10001:0 /data \
    && chmod g=u /data
# Declared after the chown so a new named volume starts out with this owner and mode.
VOLUME /data
# The working directory is the volume too: nothing writes to it, but with --read-only it is
# the one writable place, should a relative path ever be written.
WORKDIR /data
# TMPDIR=/data: SQLite (and Python's tempfile) put their temporary files there, so that
# `docker run --read-only` with a volume on /data works without a --tmpfs /tmp. SQLite needs
# one for large statements of the world's database; it unlinks the file as soon as it opens
# it, so nothing is left in the volume. PYTHONDONTWRITEBYTECODE: the venv's modules are
# compiled at install; nothing else is written to the image at run time.
ENV PATH=/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    TMPDIR=/data \
    MOCK_NORCE_HOST=0.0.0.0 \
    MOCK_NORCE_PORT=8080 \
    MOCK_NORCE_DATA_DIR=/data
# Inside a container the server binds 0.0.0.0; publish with -p 127.0.0.1:8080:8080 to
# keep it on the host's loopback.
EXPOSE 8080
# Numeric, not the name: Kubernetes' runAsNonRoot can only verify a numeric USER.
USER 10001:0
# No curl in the image: Python's socket module does the GET. Exec form has no shell, so the
# port comes from os.environ. `-I -S` (no site-packages) keeps one check at ~15 ms of CPU
# (urllib would take ~40 ms), cheap enough to run every second: Docker (before 25, which
# has no --start-interval) runs the first check one interval after start, so the health
# status turns healthy ~1.2 s after `docker run` (bench/startup.py). /healthz answers without
# MOCK_NORCE_API_TOKEN. A container started with MOCK_NORCE_PORT=0 cannot be checked.
HEALTHCHECK --interval=1s --timeout=2s --start-period=15s --retries=3 \
    CMD ["python3", "-I", "-S", "-c", "import os, socket, sys; s = socket.create_connection(('127.0.0.1', int(os.environ.get('MOCK_NORCE_PORT') or 8080)), 2); s.settimeout(2); s.sendall(b'GET /healthz HTTP/1.0\\r\\nHost: 127.0.0.1\\r\\n\\r\\n'); sys.exit(0 if s.makefile('rb').readline().split()[1:2] == [b'200'] else 1)"]
ENTRYPOINT ["mock-norce"]
CMD ["serve"]
# OCI labels, last: a new REVISION changes only this metadata, never a cached layer above.
# VERSION's default is mock_norce.__version__ (a test keeps the two equal);
# scripts/docker-build.sh passes all three from the checkout. The project has no public home
# yet: SOURCE stays "unknown" unless the build passes it (the script takes git's origin URL).
ARG VERSION=0.1.0
ARG REVISION=unknown
ARG SOURCE=unknown
LABEL org.opencontainers.image.title="mock-norce" \
      org.opencontainers.image.description="A test double for Norce Commerce Event webhooks: realistic events, Norce's delivery policy, scenarios." \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.source="${SOURCE}" \
      org.opencontainers.image.licenses="MIT"
