"""The S3 backend (MinIO, Ceph RGW, AWS) through the ``minio`` SDK.

S3 takes user metadata before the body, so ``put`` learns the SHA-256 first (a hashing pass
over a file or seekable stream, or a spool to a temporary file for other streams), then sends
one PUT for small objects or a multipart upload, which the SDK aborts on failure, for large ones.
"""

from __future__ import annotations

import contextlib
import datetime
import math
from collections.abc import Iterator
from urllib.parse import SplitResult, parse_qsl, unquote

import urllib3
from minio import Minio
from minio.error import InvalidResponseError, S3Error, ServerError
from minio.helpers import MAX_MULTIPART_COUNT, MIN_PART_SIZE, check_bucket_name

from storage.errors import (
    ChecksumMismatch,
    InvalidRange,
    ObjectNotFound,
    StorageError,
    StorageFull,
    StorageUnavailable,
)
from storage.interfaces import DEFAULT_MEDIA_TYPE, ByteRange, ObjectInfo, ObjectStore, Source
from storage.keys import validate_key, validate_prefix
from storage.streams import HashingReader, ObjectReader, check_range, measured_source

MIB = 1024 * 1024
SHA256_HEADER = "x-amz-meta-sha256"
NOT_FOUND_CODES = {"NoSuchKey", "NoSuchObject", "ResourceNotFound", "NoSuchBucket"}
FULL_CODES = {"QuotaExceeded", "XMinioStorageFull"}
UNAVAILABLE_CODES = {"ServiceUnavailable", "SlowDown", "InternalError"}
PRESIGN_LIMITS = (datetime.timedelta(seconds=1), datetime.timedelta(days=7))


class S3Options:
    """The query options of an ``s3://`` URL, with their defaults."""

    def __init__(self, query: str) -> None:
        given = dict(parse_qsl(query, keep_blank_values=True, strict_parsing=bool(query)))
        self.secure = _flag(given.pop("secure", "true"))
        self.region = given.pop("region", "us-east-1")
        self.create_bucket = _flag(given.pop("create_bucket", "false"))
        self.part_size = _number(given.pop("part_size_mb", "8"), minimum=5) * MIB
        self.parallel_parts = _number(given.pop("parallel_parts", "2"), minimum=1)
        self.connect_timeout = _number(given.pop("connect_timeout", "2"), minimum=1)
        self.read_timeout = _number(given.pop("read_timeout", "60"), minimum=1)
        self.ca_file = given.pop("ca_file", None)
        self.spool_dir = given.pop("spool_dir", None)
        if given:
            raise ValueError(f"unknown S3 storage URL options: {', '.join(sorted(given))}")


class S3Store(ObjectStore):
    """Objects in one bucket, under an optional key prefix shared with nobody else."""

    def __init__(self, client: Minio, bucket: str, *, endpoint: str, prefix: str = "",
                 options: S3Options | None = None) -> None:
        self._client = client
        self._bucket = bucket
        self._endpoint = endpoint
        self._prefix = prefix
        self._options = options or S3Options("")

    @classmethod
    def from_url(cls, url: SplitResult, *, access_key: str | None = None,
                 secret_key: str | None = None) -> S3Store:
        """``s3://KEY:SECRET@host:port/bucket[/prefix]?option=value&...``; the keys may come as
        arguments instead. Options: secure, region, create_bucket, part_size_mb, parallel_parts,
        connect_timeout, read_timeout, ca_file, spool_dir.
        """
        options = S3Options(url.query)
        host = url.netloc.rpartition("@")[2]
        bucket, _, prefix = unquote(url.path).lstrip("/").partition("/")
        access_key = unquote(url.username or "") or access_key
        secret_key = unquote(url.password or "") or secret_key
        if not host or not bucket:
            raise ValueError(f"an S3 storage URL is s3://host:port/bucket, not {url.geturl()}")
        check_bucket_name(bucket)  # ValueError now, at configuration time
        if not access_key or not secret_key:
            raise ValueError("no S3 credentials: give s3://KEY:SECRET@host/bucket (keys "
                             "percent-encoded) or the access_key and secret_key arguments")
        client = Minio(host, access_key=access_key, secret_key=secret_key,
                       secure=options.secure, region=options.region,
                       http_client=_http_client(options))
        endpoint = ("https://" if options.secure else "http://") + host
        store = cls(client, bucket, endpoint=endpoint, prefix=_normal_prefix(prefix),
                    options=options)
        if options.create_bucket:
            store._ensure_bucket()
        return store

    def __repr__(self) -> str:
        return f"S3Store({self._endpoint}/{self._bucket}/{self._prefix})"

    def put(self, key: str, source: Source, *, media_type: str = DEFAULT_MEDIA_TYPE,
            size: int | None = None) -> ObjectInfo:
        name = self._name(key)
        with measured_source(source, self._options.spool_dir) as measured:
            if size is not None and size != measured.size:
                raise ChecksumMismatch(
                    f"{key!r}: the source gave {measured.size} bytes, {size} announced")
            sent = HashingReader(measured.stream)
            with self._translated(key, write=True):
                self._client.put_object(
                    self._bucket, name, sent, measured.size, content_type=media_type,
                    metadata={SHA256_HEADER: measured.sha256},
                    part_size=self._part_size(measured.size),
                    num_parallel_uploads=self._options.parallel_parts)
        if (sent.size, sent.hexdigest()) != (measured.size, measured.sha256):
            self.delete(key)
            raise ChecksumMismatch(f"{key!r}: the source changed while it was being uploaded; "
                                   "the object was removed")
        return self._verified(key, measured.size, measured.sha256)

    def open(self, key: str, byte_range: ByteRange | None = None) -> ObjectReader:
        name = self._name(key)
        check_range(byte_range)
        headers = {"Range": _range_header(byte_range)} if byte_range else None
        with self._translated(key):
            response = self._client.get_object(self._bucket, name, request_headers=headers)
        if byte_range and response.status != 206:
            _release(response)
            raise StorageError(f"{self._endpoint} ignored the byte range asked for {key!r}")
        return ObjectReader(response, int(response.headers["Content-Length"]),
                            close=lambda: _release(response),
                            translate_errors=lambda: self._translated(key))

    def stat(self, key: str) -> ObjectInfo:
        name = self._name(key)
        with self._translated(key):
            found = self._client.stat_object(self._bucket, name)
        return ObjectInfo(key=key, size=found.size, sha256=found.metadata.get(SHA256_HEADER),
                          etag=found.etag, media_type=found.content_type,
                          modified=found.last_modified or _now())

    def exists(self, key: str) -> bool:
        try:
            self.stat(key)
        except ObjectNotFound:
            return False
        return True

    def delete(self, key: str) -> None:
        name = self._name(key)
        with self._translated(key, write=True):
            self._client.remove_object(self._bucket, name)  # S3: a missing key is no error

    def list(self, prefix: str = "") -> Iterator[ObjectInfo]:
        validate_prefix(prefix)
        with self._translated(None):
            for found in self._client.list_objects(self._bucket, prefix=self._prefix + prefix,
                                                   recursive=True):
                if not found.is_dir:
                    yield ObjectInfo(key=found.object_name[len(self._prefix):],
                                     size=found.size, sha256=None, etag=found.etag,
                                     media_type=None, modified=found.last_modified or _now())

    def presign(self, key: str, expires: datetime.timedelta) -> str | None:
        name = self._name(key)
        if not PRESIGN_LIMITS[0] <= expires <= PRESIGN_LIMITS[1]:
            raise ValueError(f"a presigned URL expires after 1 second to 7 days, not {expires}")
        with self._translated(key):
            return self._client.presigned_get_object(self._bucket, name, expires=expires)

    def check(self) -> None:
        try:
            with self._translated(None):
                found = self._client.bucket_exists(self._bucket)
        except StorageUnavailable:
            raise
        except StorageError as exc:
            raise StorageUnavailable(str(exc)) from exc
        if not found:
            raise StorageUnavailable(f"bucket {self._bucket!r} does not exist at {self._endpoint}")

    def _name(self, key: str) -> str:
        return self._prefix + validate_key(key)

    def _part_size(self, size: int) -> int:
        # S3 allows 10,000 parts: objects past 80 GB need parts larger than the default.
        needed = math.ceil(size / MAX_MULTIPART_COUNT / MIB) * MIB
        return max(self._options.part_size, needed, MIN_PART_SIZE)

    def _verified(self, key: str, size: int, sha256: str) -> ObjectInfo:
        info = self.stat(key)
        if (info.size, info.sha256) != (size, sha256):
            raise ChecksumMismatch(f"{key!r}: {self._endpoint} stored {info.size} bytes with "
                                   f"SHA-256 {info.sha256}, not {size} bytes with {sha256}")
        return info

    def _ensure_bucket(self) -> None:
        with self._translated(None):
            if self._client.bucket_exists(self._bucket):
                return
            try:
                self._client.make_bucket(self._bucket)
            except S3Error as exc:
                # Another process made it first; RGW answers 200 there, MinIO this code.
                if exc.code != "BucketAlreadyOwnedByYou":
                    raise

    @contextlib.contextmanager
    def _translated(self, key: str | None, *, write: bool = False) -> Iterator[None]:
        """Turn SDK and connection errors into storage errors naming the endpoint.

        ``key`` is None for calls on the whole bucket; ``write`` marks calls that change it. For
        both, a missing bucket is a broken store rather than a missing object.
        """
        try:
            yield
        except S3Error as exc:
            if exc.code in NOT_FOUND_CODES and (key is None or write):
                raise StorageUnavailable(
                    f"bucket {self._bucket!r} does not exist at {self._endpoint}") from exc
            raise self._s3_error(exc, key) from exc
        except (urllib3.exceptions.HTTPError, ServerError) as exc:
            raise StorageUnavailable(
                f"S3 endpoint {self._endpoint} is unreachable or failing: {_reason(exc)}") from exc
        except InvalidResponseError as exc:
            raise StorageError(f"S3 endpoint {self._endpoint} answered oddly: {exc}") from exc

    def _s3_error(self, exc: S3Error, key: str) -> StorageError:
        where = f"{self._endpoint}/{self._bucket}"
        if exc.code in NOT_FOUND_CODES:
            return ObjectNotFound(key)  # RGW answers a HEAD in a missing bucket as NoSuchKey
        if exc.code == "InvalidRange":
            return InvalidRange(f"the byte range starts past the end of {key!r}")
        if exc.code in FULL_CODES:
            return StorageFull(f"{where} is full: {exc.message}")
        if exc.code in UNAVAILABLE_CODES:
            return StorageUnavailable(f"S3 endpoint {self._endpoint} failed: {exc.message}")
        return StorageError(f"{where} refused {key!r}: {exc.code}: {exc.message}")


def _http_client(options: S3Options) -> urllib3.PoolManager:
    """Short connect timeout and few retries: an unreachable endpoint fails in seconds."""
    retries = urllib3.Retry(total=3, connect=1, read=1, backoff_factor=0.2,
                            status_forcelist=(500, 502, 503, 504))
    return urllib3.PoolManager(
        timeout=urllib3.Timeout(connect=options.connect_timeout, read=options.read_timeout),
        retries=retries, maxsize=10, cert_reqs="CERT_REQUIRED", ca_certs=options.ca_file)


def _normal_prefix(prefix: str) -> str:
    prefix = prefix.strip("/")
    return validate_key(prefix) + "/" if prefix else ""


def _range_header(byte_range: ByteRange) -> str:
    start, end = byte_range
    return f"bytes={start}-{'' if end is None else end}"


def _release(response: urllib3.BaseHTTPResponse) -> None:
    response.close()
    response.release_conn()


def _reason(exc: Exception) -> str:
    return str(getattr(exc, "reason", None) or exc)


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def _flag(text: str) -> bool:
    if text.lower() in ("true", "1", "yes", "on"):
        return True
    if text.lower() in ("false", "0", "no", "off"):
        return False
    raise ValueError(f"expected true or false in the storage URL, not {text!r}")


def _number(text: str, *, minimum: int) -> int:
    if not text.isdigit() or int(text) < minimum:
        raise ValueError(f"expected a whole number >= {minimum} in the storage URL, not {text!r}")
    return int(text)
