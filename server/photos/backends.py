"""Choose the photo storage the configuration names (LAGESBILD_PHOTO_STORAGE)."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from server.photos.storage import PhotoBackend, PhotoStore

STORAGE_KINDS = ("filesystem", "s3")


def open_store(config: Mapping[str, Any]) -> PhotoBackend:
    """Return the configured photo storage (the data directory, or an S3 bucket)."""
    if config.get("PHOTO_STORAGE") == "s3":
        return _s3_store(
            str(config["S3_BUCKET"]),
            str(config.get("S3_ENDPOINT_URL") or ""),
            str(config.get("S3_REGION") or ""),
            str(config.get("S3_PREFIX") or ""),
        )
    return PhotoStore(Path(config["DATA_DIR"]))


def _s3_store(bucket: str, endpoint_url: str, region: str, prefix: str) -> PhotoBackend:
    """Return the bucket's store, on the process's one client of that endpoint."""
    # Imported here: boto3 costs time and memory, and the default never needs it.
    from server.photos.s3store import S3PhotoStore

    client = s3_client(endpoint_url, region)
    return S3PhotoStore(
        bucket, endpoint_url=endpoint_url, region=region, prefix=prefix, client=client
    )


@functools.lru_cache(maxsize=8)
def s3_client(endpoint_url: str, region: str) -> Any:
    """Return one boto3 client per endpoint and process (thread-safe; making one is slow)."""
    from server.photos.s3store import make_client

    return make_client(endpoint_url, region)
