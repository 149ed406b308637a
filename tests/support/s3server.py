"""An S3-compatible server for the tests: moto's server mode on loopback, or a real endpoint.

By default one moto server (`moto.server.ThreadedMotoServer`, pip package moto[server])
runs per test session on 127.0.0.1 on a free port, and each test gets its own bucket.
With `LAGESBILD_TEST_S3_URL` set, the same tests run against that endpoint instead:

- `LAGESBILD_TEST_S3_URL`: the endpoint, e.g. https://s3.eu-north-1.amazonaws.com or a MinIO
- `LAGESBILD_TEST_S3_BUCKET`: an existing bucket the tests may write to (required then);
  each test works under its own random key prefix and deletes its objects afterwards
- `LAGESBILD_TEST_S3_REGION`: the region (optional)
- credentials: boto3's standard sources (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, ...)
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from server.photos.backends import s3_client

# moto accepts any credentials; these only keep boto3 from looking for real ones.
_MOTO_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "lagesbild-test",
    "AWS_SECRET_ACCESS_KEY": "lagesbild-test-secret",
    "AWS_DEFAULT_REGION": "us-east-1",
}


@dataclass(frozen=True)
class S3Endpoint:
    """Where the tests' S3 lives, and whether the tests may make buckets there."""

    url: str
    region: str
    fixed_bucket: str | None  # a real endpoint: the one bucket to use
    env: dict[str, str]  # what a server process needs (credentials), beyond the settings

    def client(self) -> Any:
        """Return a boto3 client of the endpoint (for setting up and inspecting)."""
        return s3_client(self.url, self.region)


@dataclass(frozen=True)
class S3Bucket:
    """One test's place in the storage: a bucket and a key prefix."""

    endpoint: S3Endpoint
    name: str
    prefix: str

    def config(self) -> dict[str, str]:
        """Return the Flask config that points the photo storage here."""
        return {
            "PHOTO_STORAGE": "s3",
            "S3_ENDPOINT_URL": self.endpoint.url,
            "S3_BUCKET": self.name,
            "S3_REGION": self.endpoint.region,
            "S3_PREFIX": self.prefix,
        }

    def env(self) -> dict[str, str]:
        """Return the environment that points a server process here."""
        return {
            **self.endpoint.env,
            "LAGESBILD_PHOTO_STORAGE": "s3",
            "LAGESBILD_S3_ENDPOINT_URL": self.endpoint.url,
            "LAGESBILD_S3_BUCKET": self.name,
            "LAGESBILD_S3_REGION": self.endpoint.region,
            "LAGESBILD_S3_PREFIX": self.prefix,
        }

    def object_keys(self) -> list[str]:
        """Return every key under the test's prefix, without the prefix, sorted."""
        client = self.endpoint.client()
        found = []
        for page in client.get_paginator("list_objects_v2").paginate(
            Bucket=self.name, Prefix=f"{self.prefix}/"
        ):
            found += [
                str(o["Key"]).removeprefix(f"{self.prefix}/") for o in page.get("Contents", [])
            ]
        return sorted(found)

    def get(self, key: str) -> bytes:
        """Return the bytes of a key under the test's prefix."""
        answer = self.endpoint.client().get_object(Bucket=self.name, Key=f"{self.prefix}/{key}")
        return bytes(answer["Body"].read())

    def clear(self) -> None:
        """Delete every object under the test's prefix."""
        client = self.endpoint.client()
        for key in self.object_keys():
            client.delete_object(Bucket=self.name, Key=f"{self.prefix}/{key}")


@pytest.fixture(scope="session", name="s3_endpoint")
def s3_endpoint_fixture() -> Iterator[S3Endpoint]:
    """Start moto's S3 server on loopback for the session, or use LAGESBILD_TEST_S3_URL."""
    url = os.environ.get("LAGESBILD_TEST_S3_URL", "").strip()
    if url:
        bucket = os.environ.get("LAGESBILD_TEST_S3_BUCKET", "").strip()
        if not bucket:
            pytest.fail("LAGESBILD_TEST_S3_URL is set, LAGESBILD_TEST_S3_BUCKET must be too")
        yield S3Endpoint(url, os.environ.get("LAGESBILD_TEST_S3_REGION", ""), bucket, {})
        return
    from moto.server import ThreadedMotoServer

    saved = {k: os.environ.get(k) for k in _MOTO_CREDENTIALS}
    os.environ.update(_MOTO_CREDENTIALS)  # the in-process app's boto3 reads them
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        yield S3Endpoint(f"http://{host}:{port}", "us-east-1", None, dict(_MOTO_CREDENTIALS))
    finally:
        server.stop()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def new_bucket(endpoint: S3Endpoint) -> S3Bucket:
    """Make a fresh bucket (moto) or pick a fresh prefix in the given bucket (a real one)."""
    token = uuid.uuid4().hex[:12]
    if endpoint.fixed_bucket is None:
        name = f"lagesbild-test-{token}"
        endpoint.client().create_bucket(Bucket=name)
    else:
        name = endpoint.fixed_bucket
    return S3Bucket(endpoint, name, f"test-{token}")


@pytest.fixture(name="s3_bucket")
def s3_bucket_fixture(s3_endpoint: S3Endpoint) -> Iterator[S3Bucket]:
    """Give the test a fresh bucket (moto) or a fresh prefix in the given bucket."""
    bucket = new_bucket(s3_endpoint)
    try:
        yield bucket
    finally:
        bucket.clear()
