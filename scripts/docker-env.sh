#!/usr/bin/env bash
# Prepare this machine for building the mock-norce image, idempotently:
#   1. a running Docker engine (installs Debian's docker.io and starts dockerd if needed),
#      and compose (Debian's docker-compose when the client has no `docker compose`);
#   2. a local base image (default mock-norce-base:local-v2, or $MOCK_NORCE_BASE_IMAGE;
#      Docker Hub is unreachable here, so the image is built from a debootstrap'ed Debian
#      bookworm with python3, slimmed: no docs, man pages, translations, apt lists, test suite);
#   3. prints the host CA bundle to pass as the BuildKit secret `ca_bundle` as its ONLY
#      stdout line:   CA=$(scripts/docker-env.sh)
# Progress goes to stderr. Safe to run many times.
set -euo pipefail

DOCKER=/usr/bin/docker          # Debian's client: BuildKit built in (another client on PATH wants buildx)
# The tag carries the recipe's version: change the slimming below, bump it, and machines
# that cached an older base build the new one instead of reusing it.
BASE_IMAGE=${MOCK_NORCE_BASE_IMAGE:-mock-norce-base:local-v2}
OLD_BASE_IMAGES=(mock-norce-base:local)   # earlier recipes' tags, untagged once the new one exists
SUITE=bookworm
DOCKERD_LOG=/tmp/dockerd.log

log() { echo "docker-env: $*" >&2; }
die() { echo "docker-env: ERROR: $*" >&2; exit 1; }

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || die "not root and no sudo"
    SUDO=(sudo)
fi

APT_UPDATED=0
apt_install() {
    # apt_install PKG...: install only the missing packages.
    local missing=() p
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    if [ "$APT_UPDATED" -eq 0 ]; then
        log "apt-get update"
        "${SUDO[@]}" apt-get update -qq >&2 || die "apt-get update failed"
        APT_UPDATED=1
    fi
    log "apt-get install -y ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get install -y -qq "${missing[@]}" >&2 \
        || die "apt-get install ${missing[*]} failed"
}

docker_ok() { [ -x "$DOCKER" ] && "${SUDO[@]}" "$DOCKER" info >/dev/null 2>&1; }

# --- 1. Docker engine ------------------------------------------------------------------
if docker_ok; then
    log "docker engine is up"
else
    apt_install docker.io
    if ! pgrep -x dockerd >/dev/null 2>&1; then
        log "starting dockerd (log: $DOCKERD_LOG)"
        # setsid + nohup: the daemon must outlive this script and its caller's shell.
        "${SUDO[@]}" setsid nohup dockerd >"$DOCKERD_LOG" 2>&1 < /dev/null &
    else
        log "dockerd is running but not answering yet; waiting"
    fi
    for _ in $(seq 1 60); do
        docker_ok && break
        sleep 1
    done
    docker_ok || die "docker engine did not answer within 60 s (see $DOCKERD_LOG)"
    log "docker engine is up"
fi

# Compose, as users have it: `docker compose` (v2) if the client has the plugin, else
# Debian's docker-compose 1.29 (the container tests run compose.yaml with it).
if ! "$DOCKER" compose version >/dev/null 2>&1 && ! command -v docker-compose >/dev/null 2>&1; then
    apt_install docker-compose
fi

# --- 2. Base image ---------------------------------------------------------------------
find_debian_mirror() {
    # The mirror apt already uses for the Debian suite itself (not -security/-updates,
    # not third-party repos), from one-line .list files and deb822 .sources files.
    local f
    local files=()
    [ -f /etc/apt/sources.list ] && files+=(/etc/apt/sources.list)
    for f in /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
        [ -f "$f" ] && files+=("$f")
    done
    [ ${#files[@]} -eq 0 ] && return 0
    awk -v suite="$SUITE" '
        function flush(   n, i, u, s) {
            if (types ~ /(^|[ \t])deb([ \t]|$)/ && (" " suites " ") ~ (" " suite " ")) {
                n = split(uris, u, /[ \t]+/)
                for (i = 1; i <= n; i++) if (u[i] ~ /^https?:\/\//) { print u[i]; found = 1; exit }
            }
            types = ""; uris = ""; suites = ""
        }
        FNR == 1 { if (in822) flush(); in822 = (FILENAME ~ /\.sources$/) }
        /^[ \t]*#/ { next }
        in822 && /^[ \t]*$/ { flush(); next }
        in822 {
            line = $0
            if (tolower(line) ~ /^types:/)  { sub(/^[^:]*:[ \t]*/, "", line); types = line }
            if (tolower(line) ~ /^uris:/)   { sub(/^[^:]*:[ \t]*/, "", line); uris = line }
            if (tolower(line) ~ /^suites:/) { sub(/^[^:]*:[ \t]*/, "", line); suites = line }
            next
        }
        $1 == "deb" {
            # deb [opts] URI SUITE COMPONENTS...
            i = 2
            if ($i ~ /^\[/) { while (i <= NF && $i !~ /\]$/) i++; i++ }
            if ($(i + 1) == suite && $i ~ /^https?:\/\//) { print $i; found = 1; exit }
        }
        END { if (in822 && !found) flush() }
    ' "${files[@]}" | head -n 1
}

if "${SUDO[@]}" "$DOCKER" image inspect "$BASE_IMAGE" >/dev/null 2>&1; then
    log "base image $BASE_IMAGE exists (cached)"
else
    apt_install debootstrap
    MIRROR=$(find_debian_mirror || true)
    if [ -z "$MIRROR" ]; then
        MIRROR=http://deb.debian.org/debian
        log "no $SUITE mirror found in apt sources; using $MIRROR"
    fi
    ROOTFS=$(mktemp -d /tmp/mock-norce-rootfs.XXXXXX)
    trap '"${SUDO[@]}" rm -rf "$ROOTFS"' EXIT
    log "debootstrap $SUITE from $MIRROR into $ROOTFS (about a minute)"
    start=$SECONDS
    "${SUDO[@]}" debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates \
        "$SUITE" "$ROOTFS" "$MIRROR" >/tmp/mock-norce-debootstrap.log 2>&1 \
        || die "debootstrap failed (see /tmp/mock-norce-debootstrap.log)"
    # Trim what a container never needs (about 50 MB): documentation, man and info pages,
    # message translations, apt's package lists and caches, logs, and CPython's test
    # package. Kept: python3 with its stdlib and lib-dynload, /usr/share/python-wheels
    # (pip and setuptools for `python3 -m venv`), CA certificates, zoneinfo, dpkg's own
    # database (so `apt-get install` in a derived image still works after `apt-get update`).
    # Of usr/share/locale only the per-language directories go (locale.alias stays).
    "${SUDO[@]}" rm -rf \
        "$ROOTFS"/usr/share/doc/* "$ROOTFS"/usr/share/man/* "$ROOTFS"/usr/share/info/* \
        "$ROOTFS"/usr/share/lintian "$ROOTFS"/usr/share/linda \
        "$ROOTFS"/var/lib/apt/lists/* "$ROOTFS"/var/cache/apt/* "$ROOTFS"/var/cache/debconf/*-old \
        "$ROOTFS"/var/log/*.log "$ROOTFS"/var/log/apt/* \
        "$ROOTFS"/usr/lib/python3*/test
    if [ -d "$ROOTFS"/usr/share/locale ]; then
        "${SUDO[@]}" find "$ROOTFS"/usr/share/locale -mindepth 1 -maxdepth 1 -type d -exec rm -rf {} +
    fi
    # The image's own smoke test: python3 runs, its venv module and the CA bundle are there.
    "${SUDO[@]}" chroot "$ROOTFS" python3 -c "import venv, ensurepip, ssl, sqlite3, zoneinfo" \
        || die "the slimmed base cannot run python3"
    [ -s "$ROOTFS"/etc/ssl/certs/ca-certificates.crt ] || die "the slimmed base has no CA bundle"
    log "importing $BASE_IMAGE"
    "${SUDO[@]}" tar -C "$ROOTFS" -c . | "${SUDO[@]}" "$DOCKER" import - "$BASE_IMAGE" >/dev/null \
        || die "docker import failed"
    "${SUDO[@]}" rm -rf "$ROOTFS"
    trap - EXIT
    log "base image $BASE_IMAGE ready in $((SECONDS - start)) s"
fi
for old in "${OLD_BASE_IMAGES[@]}"; do
    if [ "$old" != "$BASE_IMAGE" ] && "${SUDO[@]}" "$DOCKER" image inspect "$old" >/dev/null 2>&1; then
        log "untagging the outdated base image $old"
        "${SUDO[@]}" "$DOCKER" image rm "$old" >/dev/null 2>&1 || true
    fi
done

# --- 3. CA bundle for the BuildKit secret ----------------------------------------------
# pip's effective `cert`: environment beats site, user and global config.
CA=""
if command -v pip >/dev/null 2>&1 || command -v pip3 >/dev/null 2>&1; then
    PIP=$(command -v pip || command -v pip3)
    CONF=$("$PIP" config list 2>/dev/null || true)
    for scope in ':env:' 'site' 'user' 'global'; do
        CA=$(printf '%s\n' "$CONF" | grep -F "$scope.cert=" | head -n 1 | sed -e "s/^[^=]*=//" -e "s/^'//" -e "s/'\$//" || true)
        [ -n "$CA" ] && [ -f "$CA" ] && break
        CA=""
    done
fi
[ -n "$CA" ] || CA=/etc/ssl/certs/ca-certificates.crt
[ -f "$CA" ] || die "CA bundle $CA not found"
log "CA bundle for the build secret: $CA"
echo "$CA"
