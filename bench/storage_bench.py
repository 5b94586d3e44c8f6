"""Storage benchmark: put and streamed read of one large file per backend, against baselines.

Usage: python bench/storage_bench.py [--size-mb 1024] [--s3 auto|start|skip] [--workdir DIR]

A file of random data is written once. Then, each in a fresh subprocess so that peak RSS
(``ru_maxrss``) is per measurement: the local backend's ``put`` from the file and ``open``
streamed to /dev/null while hashing, against ``cp`` + ``sync`` (put does fsync), ``cp`` to
/dev/null and a plain Python read-and-hash loop (the ceiling for a hashing read); and, when an
S3 server is at hand (``S3_ENDPOINT``, or Ceph RGW started with the shared script), the S3
backend's ``put`` and ``open`` against the raw minio client's ``fput_object`` and
``fget_object`` (which writes a file, so its read baseline does more).
Figures go to the terminal and to bench/results/storage.json; the goal is peak RSS < 100 MB.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import resource
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "storage.json"
S3_SCRIPTS = ROOT.parent / "shared" / "scripts" / "s3"
MIB = 1024 * 1024
KEY = "bench/Sách cổ/big.bin"


def main() -> int:
    args = parse_args()
    if args.child:
        print(json.dumps(run_child(json.loads(args.child))))
        return 0
    with tempfile.TemporaryDirectory(prefix="khoso-storage-bench-", dir=args.workdir) as work:
        source, sha256 = write_random_file(Path(work) / "source.bin", args.size_mb)
        rows = measure_local(Path(work), source, sha256)
        with s3_server(args.s3) as server:
            if server:
                rows += measure_s3(server, Path(work), source, sha256)
    print_table(rows, args.size_mb)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({"size_mb": args.size_mb, "rows": rows}, indent=2) + "\n")
    print(f"\nwritten to {RESULTS.relative_to(ROOT)}")
    return 0


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=1024, help="file size in MiB")
    parser.add_argument("--s3", choices=("auto", "start", "skip"), default="auto",
                        help="auto: S3_ENDPOINT, else start RGW if its script exists")
    parser.add_argument("--workdir", default=None, help="where the file and local store go")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    return parser.parse_args()


def write_random_file(path: Path, size_mb: int) -> tuple[Path, str]:
    digest = hashlib.sha256()
    with open(path, "wb") as out:
        for _ in range(size_mb):
            chunk = os.urandom(MIB)
            digest.update(chunk)
            out.write(chunk)
    return path, digest.hexdigest()


def measure_local(work: Path, source: Path, sha256: str) -> list[dict]:
    url = f"file://{work / 'store'}"
    copy = work / "copy.bin"
    pairs = [
        ("put", {"op": "put", "url": url, "source": str(source), "sha256": sha256},
         "cp + sync", {"op": "command", "argv": [["cp", str(source), str(copy)],
                                                 ["sync", str(copy)]]}),
        ("read", {"op": "read", "url": url, "sha256": sha256},
         "cp to /dev/null", {"op": "command", "argv": [["cp", str(copy), "/dev/null"]]}),
        ("read", {"op": "read", "url": url, "sha256": sha256},
         "Python read+sha256", {"op": "hash", "source": str(copy), "sha256": sha256}),
    ]
    return [row("local", *pair, size=source.stat().st_size) for pair in pairs]


def measure_s3(server: dict, work: Path, source: Path, sha256: str) -> list[dict]:
    bucket = f"khoso-bench-{uuid.uuid4().hex[:8]}"
    url = (f"s3://{server['S3_ACCESS_KEY']}:{server['S3_SECRET_KEY']}@{server['S3_ENDPOINT']}"
           f"/{bucket}?secure=false&create_bucket=true")
    raw = {"server": server, "bucket": bucket}
    pairs = [
        ("put", {"op": "put", "url": url, "source": str(source), "sha256": sha256},
         "minio fput_object", {"op": "fput", **raw, "source": str(source)}),
        ("read", {"op": "read", "url": url, "sha256": sha256},
         "minio fget_object", {"op": "fget", **raw, "target": str(work / "fget.bin")}),
    ]
    try:
        return [row("s3", *pair, size=source.stat().st_size) for pair in pairs]
    finally:
        in_child({"op": "drop_bucket", **raw})


def row(backend: str, operation: str, ours: dict, baseline_name: str, baseline: dict, *,
        size: int) -> dict:
    mine, theirs = in_child(ours), in_child(baseline)
    mb_per_s = size / 1e6 / mine["seconds"]
    baseline_mb_per_s = size / 1e6 / theirs["seconds"]
    return {"backend": backend, "operation": operation, "mb_per_s": round(mb_per_s, 1),
            "peak_rss_mb": mine["peak_rss_mb"], "baseline": baseline_name,
            "baseline_mb_per_s": round(baseline_mb_per_s, 1),
            "baseline_peak_rss_mb": theirs["peak_rss_mb"],
            "ratio": round(mb_per_s / baseline_mb_per_s, 2)}


def in_child(task: dict) -> dict:
    done = subprocess.run([sys.executable, __file__, "--child", json.dumps(task)],
                          capture_output=True, text=True, check=False, cwd=ROOT)
    if done.returncode:
        raise SystemExit(f"{task['op']} failed:\n{done.stderr}")
    return json.loads(done.stdout.splitlines()[-1])


def run_child(task: dict) -> dict:
    if task["op"] != "command":  # a forked child would count this memory as its own
        sys.path.insert(0, str(ROOT))  # the storage package, however the venv was installed
        # Imported before the clock starts, as in a running server.
        import minio  # noqa: F401

        import storage  # noqa: F401
    started = time.monotonic()
    CHILD_TASKS[task["op"]](task)
    seconds = time.monotonic() - started
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    peak_kib = children if task["op"] == "command" else own
    return {"seconds": seconds, "peak_rss_mb": round(peak_kib / 1024, 1)}


def child_put(task: dict) -> None:
    import storage
    info = storage.open_store(task["url"]).put(KEY, task["source"])
    assert info.sha256 == task["sha256"], "put stored a different SHA-256"


def child_read(task: dict) -> None:
    import storage
    digest = hashlib.sha256()
    with storage.open_store(task["url"]).open(KEY) as reader, open(os.devnull, "wb") as sink:
        for chunk in reader:
            digest.update(chunk)
            sink.write(chunk)
    assert digest.hexdigest() == task["sha256"], "read back different bytes"


def child_hash(task: dict) -> None:
    digest = hashlib.sha256()
    with open(task["source"], "rb") as stream:
        while chunk := stream.read(MIB):
            digest.update(chunk)
    assert digest.hexdigest() == task["sha256"]


def child_command(task: dict) -> None:
    for argv in task["argv"]:
        subprocess.run(argv, check=True)


def child_fput(task: dict) -> None:
    raw_client(task["server"]).fput_object(task["bucket"], "raw/big.bin", task["source"])


def child_fget(task: dict) -> None:
    raw_client(task["server"]).fget_object(task["bucket"], "raw/big.bin", task["target"])


def child_drop_bucket(task: dict) -> None:
    client = raw_client(task["server"])
    for found in client.list_objects(task["bucket"], recursive=True):
        client.remove_object(task["bucket"], found.object_name)
    client.remove_bucket(task["bucket"])


def raw_client(server: dict):  # -> Minio, imported in the child only
    from minio import Minio
    return Minio(server["S3_ENDPOINT"], access_key=server["S3_ACCESS_KEY"],
                 secret_key=server["S3_SECRET_KEY"], secure=False, region="us-east-1")


CHILD_TASKS = {"put": child_put, "read": child_read, "hash": child_hash, "command": child_command,
               "fput": child_fput, "fget": child_fget, "drop_bucket": child_drop_bucket}


@contextlib.contextmanager
def s3_server(mode: str) -> Iterator[dict | None]:
    """The S3 server to measure: S3_ENDPOINT, or RGW started here and stopped afterwards."""
    if mode == "skip":
        yield None
    elif os.environ.get("S3_ENDPOINT") and mode == "auto":
        yield {name: os.environ.get(name, "") for name in
               ("S3_ENDPOINT", "S3_ACCESS_KEY", "S3_SECRET_KEY")}
    elif not (S3_SCRIPTS / "start.sh").exists():
        print("S3: no S3_ENDPOINT and no RGW start script; measuring the local backend only")
        yield None
    else:
        # A folder and ports of its own, so that a test session's RGW is left alone.
        env = {**os.environ, "CEPH_DIR": tempfile.mkdtemp(prefix="khoso-s3-bench-"),
               "RGW_PORT": str(free_port()), "MON_PORT": str(free_port())}
        subprocess.run(["bash", str(S3_SCRIPTS / "start.sh")], check=True, env=env)
        try:
            settings = (Path(env["CEPH_DIR"]) / "s3.env").read_text().split()
            yield dict(line.split("=", 1) for line in settings)
        finally:
            subprocess.run(["bash", str(S3_SCRIPTS / "stop.sh")], check=False, env=env)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def print_table(rows: list[dict], size_mb: int) -> None:
    print(f"\nstorage, {size_mb} MiB file; MB/s = 10^6 bytes per second; RSS = peak of the process")
    header = (f"{'backend':<8}{'op':<6}{'MB/s':>9}{'RSS MB':>9}   {'baseline':<19}"
              f"{'MB/s':>9}{'RSS MB':>9}{'ratio':>8}")
    print(header)
    print("-" * len(header))
    for r in rows:
        print(f"{r['backend']:<8}{r['operation']:<6}{r['mb_per_s']:>9.1f}{r['peak_rss_mb']:>9.1f}"
              f"   {r['baseline']:<19}{r['baseline_mb_per_s']:>9.1f}"
              f"{r['baseline_peak_rss_mb']:>9.1f}{r['ratio']:>8.2f}")


if __name__ == "__main__":
    sys.exit(main())
