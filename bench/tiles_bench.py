"""IIIF tile benchmark: requests/s for cached page-image tiles, against a constant response.

Usage: python bench/tiles_bench.py [--seconds 10] [--rounds 3] [--concurrency 32] [--workdir DIR]

A fresh instance gets the demo collection; every tile of every demo page (as OpenSeadragon asks
for them from info.json) is fetched once through the portal, so that the derivative cache holds
them all (the time of that cold pass is reported too). Then ``wrk`` (Debian: apt-get install wrk)
loads gunicorn on loopback, run as ``khoso serve`` runs it, cycling through the tile URLs, and
loads the same gunicorn serving a tiny WSGI app that answers a constant in-memory body of the
tiles' mean size. For scale, the portal's /healthz (Flask, session, one SQL query) is loaded
too. Rounds alternate; the figures are medians. Results: bench/results/tiles.json.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "tiles.json"
WORKERS, THREADS = min(8, 2 * (os.cpu_count() or 1)), 4   # as `khoso serve` runs gunicorn
WRK_SCRIPT = """
local paths = {%s}
local i = 0
request = function()
  i = i %% #paths + 1
  return wrk.format("GET", paths[i])
end
"""


# -- what gunicorn loads (import string "tiles_bench:portal()" / "tiles_bench:constant(n)") --

def portal():
    """The portal of KHOSO_INSTANCE_PATH with the IIIF blueprint registered."""
    sys.path.insert(0, str(ROOT))
    from viewer import create_app, iiif_image
    app = create_app()
    if "iiif_image" not in app.blueprints:
        app.register_blueprint(iiif_image.bp)
    return app


def constant(size: int):
    """A WSGI app answering ``size`` constant bytes as image/jpeg, built once per worker."""
    body = bytes(range(256)) * (size // 256) + bytes(size % 256)
    headers = [("Content-Type", "image/jpeg"), ("Content-Length", str(size))]

    def app(_environ, start_response):
        start_response("200 OK", headers)
        return [body]
    return app


# -- the benchmark ------------------------------------------------------------------------------

def main() -> int:
    args = parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is needed: apt-get install wrk")
    with tempfile.TemporaryDirectory(prefix="khoso-tiles-bench-", dir=args.workdir) as work:
        instance = Path(work) / "instance"
        pages = prepare_instance(instance)
        env = {**os.environ, "KHOSO_INSTANCE_PATH": str(instance)}
        with gunicorn("tiles_bench:portal()", env) as base:
            paths = tile_paths(base, pages)
            cold, sizes = warm(base, paths)
            entries = cache_entries(instance)
            rounds = []
            for _ in range(args.rounds):
                rounds.append({"tiles": wrk(base, paths, args),
                               "portal_healthz": wrk(base, ["/healthz"], args)})
                with gunicorn(f"tiles_bench:constant({round(statistics.mean(sizes))})",
                              env) as constant_base:
                    rounds[-1]["constant"] = wrk(constant_base, ["/"], args)
            rendered_during_load = cache_entries(instance) - entries
    result = summarize(rounds, paths, sizes, cold, rendered_during_load, args)
    print(json.dumps(result, indent=2))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(f"\nwritten to {RESULTS.relative_to(ROOT)}")
    return 0


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10, help="length of each wrk run")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds")
    parser.add_argument("--concurrency", type=int, default=32, help="open connections")
    parser.add_argument("--workdir", default=None, help="where the instance goes")
    return parser.parse_args()


def prepare_instance(instance: Path) -> list[str]:
    """Migrate a new instance and load the demo; return its page uids."""
    sys.path.insert(0, str(ROOT))
    from repository import migrate
    from repository.models import Page
    from viewer import create_app
    from viewer.demo import load_demo
    from viewer.extensions import parts
    instance.mkdir(parents=True)
    migrate.upgrade(f"sqlite:///{instance / 'khoso.sqlite3'}")
    os.environ["KHOSO_INSTANCE_PATH"] = str(instance)
    app = create_app()
    with app.app_context(), parts().db.session() as session:
        load_demo(session, parts().store)
    with app.app_context(), parts().db.session() as session:
        uids = [page.uid for page in session.query(Page).order_by(Page.id)]
    parts_ = app.extensions["khoso"]
    parts_.db.dispose()
    return uids


def tile_paths(base: str, pages: list[str]) -> list[str]:
    """Every tile URL of every page, as OpenSeadragon derives them from info.json."""
    paths = []
    for uid in pages:
        with urllib.request.urlopen(f"{base}/iiif/3/{uid}/info.json") as response:  # noqa: S310
            info = json.load(response)
        tiles = info["tiles"][0]
        for factor in tiles["scaleFactors"]:
            paths += level_paths(uid, info["width"], info["height"], tiles["width"], factor)
    return paths


def level_paths(uid: str, width: int, height: int, tile: int, factor: int) -> list[str]:
    span = tile * factor
    level_width, level_height = math.ceil(width / factor), math.ceil(height / factor)
    found = []
    for top in range(0, height, span):
        for left in range(0, width, span):
            region_w, region_h = min(span, width - left), min(span, height - top)
            size_w = min(tile, level_width - left // factor)
            size_h = min(tile, level_height - top // factor)
            region = "full" if (region_w, region_h) == (width, height) else \
                f"{left},{top},{region_w},{region_h}"
            found.append(f"/iiif/3/{uid}/{region}/{size_w},{size_h}/0/default.jpg")
    return found


def warm(base: str, paths: list[str]) -> tuple[float, list[int]]:
    """Fetch every tile once (rendering it into the cache); the mean ms per cold tile."""
    started, sizes = time.monotonic(), []
    for path in paths:
        with urllib.request.urlopen(base + path) as response:  # noqa: S310
            sizes.append(len(response.read()))
    return (time.monotonic() - started) * 1000 / len(paths), sizes


def cache_entries(instance: Path) -> int:
    return sum(1 for _ in (instance / "iiif-cache").glob("*/*.jpg"))


@contextmanager
def gunicorn(app: str, env: dict):
    port = free_port()
    command = [sys.executable, "-m", "gunicorn", "--pythonpath", str(ROOT / "bench"),
               "--workers", str(WORKERS), "--threads", str(THREADS),
               "--worker-class", "gthread", "--bind", f"127.0.0.1:{port}",
               "--log-level", "warning", app]
    server = subprocess.Popen(command, env=env, cwd=ROOT)
    try:
        wait_for(port, server)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(timeout=30)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(port: int, server: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"gunicorn exited with status {server.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            time.sleep(1)   # let every worker finish loading the app
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("gunicorn did not start listening")


def wrk(base: str, paths: list[str], args: argparse.Namespace) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(WRK_SCRIPT % ", ".join(json.dumps(path) for path in paths))
    try:
        done = subprocess.run(
            ["wrk", "-t2", f"-c{args.concurrency}", f"-d{args.seconds}s", "--latency",
             "-s", script.name, base], capture_output=True, text=True, check=True)
    finally:
        os.unlink(script.name)
    return parse_wrk(done.stdout)


def parse_wrk(output: str) -> dict:
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    socket_errors = re.search(r"Socket errors: (.*)", output)
    return {
        "requests_per_s": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
        "latency_p50_ms": latency(output, "50%"),
        "latency_p99_ms": latency(output, "99%"),
        "non_2xx": int(errors.group(1)) if errors else 0,
        "socket_errors": socket_errors.group(1) if socket_errors else "",
    }


def latency(output: str, percentile: str) -> float:
    value, unit = re.search(rf"{percentile}\s+([\d.]+)(us|ms|s)", output).groups()
    return round(float(value) * {"us": 0.001, "ms": 1, "s": 1000}[unit], 2)


def summarize(rounds, paths, sizes, cold_ms, rendered_during_load, args) -> dict:
    tiles = [one["tiles"]["requests_per_s"] for one in rounds]
    constant_rps = [one["constant"]["requests_per_s"] for one in rounds]
    ratios = [mine / theirs for mine, theirs in zip(tiles, constant_rps, strict=True)]
    return {
        "concurrency": args.concurrency, "seconds_per_run": args.seconds,
        "gunicorn": f"{WORKERS} workers x {THREADS} threads (gthread)",
        "cpu_count": os.cpu_count(), "tile_urls": len(paths),
        "tile_bytes_mean": round(statistics.mean(sizes)),
        "cold_render_ms_per_tile": round(cold_ms, 1),
        "rendered_during_load": rendered_during_load,
        "tiles_requests_per_s": round(statistics.median(tiles), 1),
        "constant_requests_per_s": round(statistics.median(constant_rps), 1),
        "ratio": round(statistics.median(ratios), 3),
        # For scale: the same portal answering /healthz (Flask, session, one SQL query).
        "portal_healthz_requests_per_s": round(statistics.median(
            one["portal_healthz"]["requests_per_s"] for one in rounds), 1),
        "rounds": rounds,
    }


if __name__ == "__main__":
    sys.exit(main())
