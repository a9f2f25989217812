"""Benchmark: how fast the Docker image is ready, and how big it is (issue 7).

Builds the image with scripts/docker-build.sh (cached layers: seconds; --no-build reuses an
existing tag), then starts it N times (default 5) exactly as a test suite would:
`docker run -d --network host -e MOCK_NORCE_PORT=<free port> IMAGE`, each with a fresh
anonymous /data volume, and for each start records:

- **run -> /healthz**: host wall clock from just before `docker run -d` is spawned until the
  first `GET /healthz` that answers 200, polled every 20 ms (so up to ~20 ms of resolution
  error, always upwards). This is what a client that waits on the URL sees: the Docker CLI,
  container creation, namespace set-up, Python's start-up, imports, loading the fixtures and
  the database, and waitress binding the port.
- **process -> /healthz**: from the container's `State.StartedAt` to that same first 200.
  StartedAt is the Docker daemon's timestamp of the moment the container's process was
  started; the daemon runs on this machine, so it and the benchmark read the same system
  clock and the difference is honest (within the 20 ms polling). It is mock-norce's own
  start-up: interpreter, imports, core, server.
- **run -> Docker healthy**: until `State.Health.Status` is `healthy`, i.e. the image's
  HEALTHCHECK has passed once; taken from the `End` time the daemon records for the first
  successful check (no polling error), minus the same start as above. This is what
  `docker compose` `condition: service_healthy` or a wait on the health status sees; with
  Docker < 25 the first check runs one `--interval` (1 s) after start, so it cannot beat that.
- **stop**: `docker stop` (SIGTERM) until the container has exited.

Prints every run, the medians, the image size (`docker image inspect --format {{.Size}}`,
in MB of 10^6 bytes as `docker images` shows) and whether the targets are met: healthy in
under 2 s from `docker run`, image under 200 MB.

    python bench/startup.py [--runs 5] [--tag mock-norce:bench] [--no-build]
"""

from __future__ import annotations

import argparse
import json
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
import uuid
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCKER = "/usr/bin/docker"  # Debian's client: BuildKit built in
TARGET_READY_S = 2.0
TARGET_SIZE_MB = 200.0


def docker(*args: str, timeout: float = 60) -> str:
    out = subprocess.run([DOCKER, *args], check=False, capture_output=True, text=True, timeout=timeout)
    if out.returncode != 0:
        raise SystemExit(f"docker {' '.join(args)} failed: {out.stderr.strip()}")
    return out.stdout


def free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def parse_time(stamp: str) -> float:
    """Docker's RFC 3339 timestamps carry nanoseconds; datetime takes microseconds."""
    head, _, frac = stamp.rstrip("Z").partition(".")
    micros = (frac + "000000")[:6]
    return datetime.fromisoformat(f"{head}.{micros}+00:00").timestamp()


def healthz_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=0.5) as resp:
            return resp.status == 200
    except OSError:
        return False


def one_start(tag: str) -> dict:
    name = f"mock-norce-bench-{uuid.uuid4().hex[:10]}"
    port = free_port()
    url = f"http://127.0.0.1:{port}/healthz"
    try:
        t0 = time.time()
        docker("run", "-d", "--name", name, "--network", "host", "-e", f"MOCK_NORCE_PORT={port}", tag)
        deadline = t0 + 30
        while not healthz_ok(url):
            if time.time() > deadline:
                raise SystemExit(f"{name}: /healthz not 200 within 30 s:\n{docker('logs', name)}")
            time.sleep(0.02)
        t_ready = time.time()
        # Docker's own verdict: wait for it, then take the daemon's time of the first pass.
        while True:
            state = json.loads(docker("inspect", "--format", "{{json .State}}", name))
            if (state.get("Health") or {}).get("Status") == "healthy" or time.time() > deadline:
                break
            time.sleep(0.1)
        passes = [parse_time(e["End"]) for e in (state.get("Health") or {}).get("Log", []) if e["ExitCode"] == 0]
        started = parse_time(state["StartedAt"])
        t_stop = time.time()
        docker("stop", "--time", "30", name)
        stop = time.time() - t_stop
        exit_code = json.loads(docker("inspect", "--format", "{{json .State}}", name))["ExitCode"]
        return {"run_to_healthz": t_ready - t0, "process_to_healthz": t_ready - started,
                "run_to_started": started - t0,
                "run_to_docker_healthy": (min(passes) - t0) if passes else float("nan"),
                "stop": stop, "exit_code": exit_code}
    finally:
        subprocess.run([DOCKER, "rm", "--force", "--volumes", name], check=False, capture_output=True, timeout=60)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--tag", default="mock-norce:bench")
    ap.add_argument("--no-build", action="store_true", help="reuse the tag as it is")
    args = ap.parse_args()

    if not args.no_build:
        print(f"building {args.tag} with scripts/docker-build.sh ...", flush=True)
        build = subprocess.run(["bash", str(ROOT / "scripts" / "docker-build.sh"), args.tag], check=False, cwd=ROOT,
                               capture_output=True, text=True, timeout=1800)
        if build.returncode != 0:
            print(build.stderr[-3000:], file=sys.stderr)
            return 1
    size_mb = int(docker("image", "inspect", "--format", "{{.Size}}", args.tag)) / 1e6

    cols = ["run_to_healthz", "process_to_healthz", "run_to_started", "run_to_docker_healthy", "stop"]
    print(f"{'run':>3}  " + "  ".join(f"{c:>21}" for c in cols) + "  exit")
    results = []
    for i in range(args.runs):
        r = one_start(args.tag)
        results.append(r)
        print(f"{i + 1:>3}  " + "  ".join(f"{r[c]:>20.3f}s" for c in cols) + f"  {r['exit_code']:>4}", flush=True)
    med = {c: statistics.median(r[c] for r in results) for c in cols}
    print("med  " + "  ".join(f"{med[c]:>20.3f}s" for c in cols))

    ok_ready = med["run_to_healthz"] < TARGET_READY_S
    ok_docker = med["run_to_docker_healthy"] < TARGET_READY_S
    ok_size = size_mb < TARGET_SIZE_MB
    print(f"\nimage {args.tag}: {size_mb:.1f} MB")
    print(f"docker run -> /healthz 200 (median of {args.runs}): {med['run_to_healthz']:.3f} s  "
          f"target < {TARGET_READY_S:g} s: {'MET' if ok_ready else 'NOT MET'}")
    print(f"process start -> /healthz 200 (median):      {med['process_to_healthz']:.3f} s")
    print(f"docker run -> Docker health 'healthy' (median): {med['run_to_docker_healthy']:.3f} s  "
          f"target < {TARGET_READY_S:g} s: {'MET' if ok_docker else 'NOT MET'}")
    print(f"docker stop (SIGTERM) (median): {med['stop']:.3f} s; exit codes {sorted({r['exit_code'] for r in results})}")
    print(f"image size {size_mb:.1f} MB  target < {TARGET_SIZE_MB:g} MB: {'MET' if ok_size else 'NOT MET'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
