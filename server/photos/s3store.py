"""The S3-compatible photo storage (boto3): the same keys as the filesystem, in a bucket.

For several hosts: every host reads and writes the same bucket, so a photo uploaded
through one is served by another. PutObject is atomic (an object is there whole or not at
all), so no half-written photo is ever served. Credentials come from boto3's standard
sources (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, a profile, an instance role); this
module never supplies one.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping
from typing import Any, BinaryIO, cast

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from server.photos.storage import (
    TOP,
    VARIANTS,
    PhotoStore,
    StorageUnavailable,
    check_key,
)

# Short timeouts and few retries: a phone's upload should get a 503 it retries later,
# not hang a worker while an endpoint is down.
_CLIENT_CONFIG = Config(
    connect_timeout=5,
    read_timeout=30,
    retries={"max_attempts": 2, "mode": "standard"},
)
_MISSING = ("404", "NoSuchKey", "NotFound")


def make_client(endpoint_url: str | None, region: str | None) -> Any:
    """Return a boto3 S3 client (credentials from boto3's standard sources)."""
    return boto3.session.Session().client(
        "s3", endpoint_url=endpoint_url or None, region_name=region or None, config=_CLIENT_CONFIG
    )


def _one_line(exc: BaseException) -> str:
    """Return an exception as one short line."""
    return " ".join(f"{type(exc).__name__}: {exc}".split())[:300]


def _code(exc: ClientError) -> str:
    """Return the S3 error code of a client error."""
    return str(exc.response.get("Error", {}).get("Code", ""))


class S3PhotoStore:
    """Photo variants as objects ``<prefix>photos/<org>/<sha[:2]>/<sha>-<variant>.jpg``."""

    kind = "s3"

    def __init__(
        self,
        bucket: str,
        *,
        endpoint_url: str | None = None,
        region: str | None = None,
        prefix: str = "",
        client: Any = None,
    ) -> None:
        """Use `bucket` (at `endpoint_url`, empty for AWS) with keys under `prefix`."""
        self.bucket = bucket
        self.endpoint_url = endpoint_url or None
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        self.client = client or make_client(endpoint_url, region)

    def _key(self, org_id: int, sha256: str, variant: str) -> str:
        """Return the object key of one variant (validated like a filesystem path)."""
        return self.prefix + PhotoStore.relative_path(org_id, sha256, variant)

    def _unavailable(self, action: str, exc: BaseException) -> StorageUnavailable:
        """Wrap a boto error in the storage's own error, with a line for the log."""
        return StorageUnavailable(f"S3 bucket {self.bucket}: cannot {action}: {_one_line(exc)}")

    def save(self, org_id: int, sha256: str, variants: Mapping[str, bytes]) -> str:
        """Put every variant (each PutObject is atomic); return the relative base path."""
        missing = [v for v in VARIANTS if v not in variants]
        unknown = sorted(set(variants) - set(VARIANTS))
        if missing or unknown:
            raise ValueError(f"variants must be exactly {VARIANTS}; missing={missing}, {unknown=}")
        for variant in VARIANTS:
            self._put(self._key(org_id, sha256, variant), variants[variant])
        return PhotoStore.relative_base(org_id, sha256)

    def _put(self, key: str, data: bytes) -> None:
        """Put one object whole."""
        try:
            self.client.put_object(Bucket=self.bucket, Key=key, Body=data, ContentType="image/jpeg")
        except (BotoCoreError, ClientError) as exc:
            raise self._unavailable("store a photo", exc) from exc

    def open(self, org_id: int, sha256: str, variant: str) -> BinaryIO | None:
        """Return the object's streaming body, or None when it is not stored."""
        return self._get(self._key(org_id, sha256, variant))

    def _get(self, key: str) -> BinaryIO | None:
        """Return a stream of one object, or None when there is no such object."""
        try:
            answer = self.client.get_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if _code(exc) in _MISSING:
                return None
            raise self._unavailable("read a photo", exc) from exc
        except BotoCoreError as exc:
            raise self._unavailable("read a photo", exc) from exc
        return cast(BinaryIO, answer["Body"])

    def read(self, org_id: int, sha256: str, variant: str) -> bytes | None:
        """Return one variant's bytes, or None when it is not stored."""
        body = self.open(org_id, sha256, variant)
        if body is None:
            return None
        try:
            return body.read()
        except BotoCoreError as exc:
            raise self._unavailable("read a photo", exc) from exc
        finally:
            body.close()

    def has(self, org_id: int, sha256: str, variant: str) -> bool:
        """Return whether one variant's object exists (a HEAD request)."""
        try:
            self.client.head_object(Bucket=self.bucket, Key=self._key(org_id, sha256, variant))
        except ClientError as exc:
            if _code(exc) in _MISSING:
                return False
            raise self._unavailable("look up a photo", exc) from exc
        except BotoCoreError as exc:
            raise self._unavailable("look up a photo", exc) from exc
        return True

    def exists(self, org_id: int, sha256: str) -> bool:
        """Return whether every variant's object exists."""
        return all(self.has(org_id, sha256, v) for v in VARIANTS)

    def delete(self, org_id: int, sha256: str) -> None:
        """Delete every variant's object (deleting a missing object succeeds in S3)."""
        objects = [{"Key": self._key(org_id, sha256, v)} for v in VARIANTS]
        try:
            answer = self.client.delete_objects(
                Bucket=self.bucket, Delete={"Objects": objects, "Quiet": True}
            )
        except (BotoCoreError, ClientError) as exc:
            raise self._unavailable("delete a photo", exc) from exc
        errors = answer.get("Errors") or []
        if errors:
            raise StorageUnavailable(f"S3 bucket {self.bucket}: cannot delete {errors[0]}")

    def location(self, org_id: int, sha256: str, variant: str) -> str:
        """Return the s3:// address of one variant."""
        return f"s3://{self.bucket}/{self._key(org_id, sha256, variant)}"

    def list_keys(self) -> Iterator[str]:
        """Yield the relative key of every photo object, sorted; other objects are skipped."""
        found: list[str] = []
        try:
            pages = self.client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=f"{self.prefix}{TOP}/"
            )
            for page in pages:
                for item in page.get("Contents") or []:
                    key = str(item["Key"]).removeprefix(self.prefix)
                    try:
                        check_key(key)
                    except ValueError:
                        continue  # not one of ours (the bucket may hold other things)
                    found.append(key)
        except (BotoCoreError, ClientError) as exc:
            raise self._unavailable("list the photos", exc) from exc
        yield from sorted(found)

    def get_key(self, key: str) -> bytes | None:
        """Return the bytes of a relative key, or None when it was deleted meanwhile."""
        org_id, sha256, variant = check_key(key)
        return self.read(org_id, sha256, variant)

    def put_key(self, key: str, data: bytes) -> None:
        """Put a relative key (a restore)."""
        check_key(key)
        self._put(self.prefix + key, data)

    def probe(self) -> list[str]:
        """Return the bucket's problems: missing, unreachable, or not writable."""
        where = f"bucket {self.bucket!r}" + (
            f" at {self.endpoint_url}" if self.endpoint_url else ""
        )
        try:
            self.client.head_bucket(Bucket=self.bucket)
        except ClientError as exc:
            if _code(exc) in ("404", "NoSuchBucket", "NotFound"):
                return [f"object storage: {where} does not exist"]
            return [f"object storage: {where} refused access: {_one_line(exc)}"]
        except BotoCoreError as exc:
            return [f"object storage: cannot reach {where}: {_one_line(exc)}"]
        probe = f"{self.prefix}.lagesbild-check/{uuid.uuid4().hex}"
        try:
            self.client.put_object(Bucket=self.bucket, Key=probe, Body=b"check")
            self.client.delete_object(Bucket=self.bucket, Key=probe)
        except (BotoCoreError, ClientError) as exc:
            return [f"object storage: cannot write to {where}: {_one_line(exc)}"]
        return []
