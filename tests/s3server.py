"""The S3 server for suites that need one (storage, IIIF, ingest): found, or started and stopped.

Use it from a session fixture::

    @pytest.fixture(scope="session")
    def s3_server():
        yield from s3server.running_s3_server()

``S3_ENDPOINT`` (with ``S3_ACCESS_KEY``, ``S3_SECRET_KEY``) names a running server. Otherwise,
under ``CI=true`` or with ``KHOSO_TEST_S3=start``, Ceph RGW is started with the shared script
and stopped at the end; otherwise the tests skip (and fail under CI). A started server gets its
own data folder and free ports (unless ``CEPH_DIR``, ``RGW_PORT``, ``MON_PORT`` are set), so
test sessions running side by side on one machine, or xdist workers, do not stop each other's.
"""

from __future__ import annotations

import os
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlencode

import pytest
from minio import Minio
from minio.deleteobjects import DeleteObject

from tests.backends import SHARED, service_missing, under_ci

START_SCRIPT = SHARED + "/scripts/s3/start.sh"
STOP_SCRIPT = SHARED + "/scripts/s3/stop.sh"
START_TIMEOUT = 600  # seconds; the first start installs Ceph packages
HOW_TO_START = ("set S3_ENDPOINT, S3_ACCESS_KEY and S3_SECRET_KEY, or run with "
                "KHOSO_TEST_S3=start to start Ceph RGW (bash " + START_SCRIPT + ")")


@dataclass(frozen=True)
class S3Server:
    endpoint: str  # host:port, plain HTTP
    access_key: str
    secret_key: str

    def storage_url(self, bucket: str, **options: str) -> str:
        """The ``s3://`` URL for ``storage.open_store``; ``bucket`` may go on with a prefix.

        Plain HTTP, and the bucket is created unless ``create_bucket="false"`` is given.
        """
        keys = f"{quote(self.access_key, safe='')}:{quote(self.secret_key, safe='')}"
        query = urlencode({"secure": "false", "create_bucket": "true", **options})
        return f"s3://{keys}@{self.endpoint}/{bucket}?{query}"

    def client(self) -> Minio:
        return Minio(self.endpoint, access_key=self.access_key, secret_key=self.secret_key,
                     secure=False, region="us-east-1")

    def new_bucket_name(self, label: str = "test") -> str:
        return f"khoso-{label}-{uuid.uuid4().hex[:12]}"

    def remove_bucket(self, bucket: str) -> None:
        """Empty the bucket and remove it, so the next suite starts clean."""
        client = self.client()
        if not client.bucket_exists(bucket):
            return
        names = (DeleteObject(found.object_name)
                 for found in client.list_objects(bucket, recursive=True))
        failures = list(client.remove_objects(bucket, names))
        assert not failures, failures[:3]
        client.remove_bucket(bucket)


def running_s3_server() -> Iterator[S3Server]:
    """Yield the S3 server to test against; stop it afterwards only if this call started it."""
    if os.environ.get("S3_ENDPOINT"):
        yield S3Server(os.environ["S3_ENDPOINT"], os.environ.get("S3_ACCESS_KEY", ""),
                       os.environ.get("S3_SECRET_KEY", ""))
        return
    if not (under_ci() or os.environ.get("KHOSO_TEST_S3") == "start"):
        service_missing("S3", HOW_TO_START)
    env = _private_rgw_env()
    server = _start_rgw(env)
    try:
        yield server
    finally:
        subprocess.run(["bash", STOP_SCRIPT], check=False, capture_output=True, timeout=120,
                       env=env)


def _start_rgw(env: dict[str, str]) -> S3Server:
    done = subprocess.run(["bash", START_SCRIPT], check=False, capture_output=True, text=True,
                          timeout=START_TIMEOUT, env=env)
    if done.returncode != 0:
        pytest.fail(f"could not start Ceph RGW with {START_SCRIPT}:\n{done.stdout[-2000:]}"
                    f"\n{done.stderr[-2000:]}", pytrace=False)
    settings = _read_env_file(Path(env["CEPH_DIR"]) / "s3.env")
    return S3Server(settings["S3_ENDPOINT"], settings["S3_ACCESS_KEY"], settings["S3_SECRET_KEY"])


def _private_rgw_env() -> dict[str, str]:
    """start.sh's settings for a server of this session's own: its folder, free ports."""
    env = dict(os.environ)
    env.setdefault("CEPH_DIR", tempfile.mkdtemp(prefix="khoso-s3-"))
    env.setdefault("RGW_PORT", str(_free_port()))
    env.setdefault("MON_PORT", str(_free_port()))
    return env


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _read_env_file(path: Path) -> dict[str, str]:
    lines = path.read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if "=" in line)
