#!/usr/bin/env bash
# Build the mock-norce image on this machine: usage scripts/docker-build.sh [TAG]
# (default mock-norce:latest, the tag the README, compose.yaml and docs/docker.md use).
# Prepares the engine and local base image first, and sets the image's OCI labels from the
# checkout (version, git revision, origin URL). Prints the image size as its last line.
set -euo pipefail
cd "$(dirname "$0")/.."
TAG=${1:-mock-norce:latest}
# The local base image docker-env.sh prepares (its tag carries the base recipe's version).
export MOCK_NORCE_BASE_IMAGE=${MOCK_NORCE_BASE_IMAGE:-mock-norce-base:local-v2}
CA=$(scripts/docker-env.sh)
VERSION=$(sed -n 's/^__version__ = "\(.*\)"$/\1/p' mock_norce/__init__.py)
REVISION=$(git rev-parse HEAD 2>/dev/null || echo unknown)
# Only a web URL is a source a reader can open (not a local path or an ssh remote).
SOURCE=$(git remote get-url origin 2>/dev/null || true)
case "$SOURCE" in https://*) SOURCE=${SOURCE%.git} ;; *) SOURCE=unknown ;; esac
echo "docker-build: building $TAG (version $VERSION, revision $REVISION)" >&2
start=$SECONDS
# /usr/bin/docker: Debian's client with BuildKit built in. --network host: pip reaches the
# package index through the host's network; the CA bundle is a secret, not a layer.
DOCKER_BUILDKIT=1 /usr/bin/docker build --network host \
    --build-arg BASE_IMAGE="$MOCK_NORCE_BASE_IMAGE" \
    --build-arg VERSION="${VERSION:-unknown}" \
    --build-arg REVISION="$REVISION" \
    --build-arg SOURCE="$SOURCE" \
    --secret id=ca_bundle,src="$CA" \
    -t "$TAG" .
echo "docker-build: built $TAG in $((SECONDS - start)) s" >&2
SIZE=$(/usr/bin/docker image inspect -f '{{.Size}}' "$TAG")
echo "docker-build: image $TAG size $((SIZE / 1000000)) MB ($SIZE bytes)"
