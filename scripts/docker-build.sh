#!/usr/bin/env bash
# Build the mock-norce image on this machine: usage scripts/docker-build.sh [TAG]
# (default mock-norce:test). Prepares the engine and local base image first.
set -euo pipefail
cd "$(dirname "$0")/.."
TAG=${1:-mock-norce:test}
# The local base image docker-env.sh prepares (its tag carries the base recipe's version).
export MOCK_NORCE_BASE_IMAGE=${MOCK_NORCE_BASE_IMAGE:-mock-norce-base:local-v2}
CA=$(scripts/docker-env.sh)
echo "docker-build: building $TAG" >&2
start=$SECONDS
# /usr/bin/docker: Debian's client with BuildKit built in. --network host: pip reaches the
# package index through the host's network; the CA bundle is a secret, not a layer.
DOCKER_BUILDKIT=1 /usr/bin/docker build --network host \
    --build-arg BASE_IMAGE="$MOCK_NORCE_BASE_IMAGE" \
    --secret id=ca_bundle,src="$CA" \
    -t "$TAG" .
echo "docker-build: built $TAG in $((SECONDS - start)) s" >&2
SIZE=$(/usr/bin/docker image inspect -f '{{.Size}}' "$TAG")
echo "docker-build: image $TAG size $((SIZE / 1000000)) MB ($SIZE bytes)"
