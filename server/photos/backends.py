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


@functools.lru_cache(maxsize=8)
def _s3_store(bucket: str, endpoint_url: str, region: str, prefix: str) -> PhotoBackend:
    """Return one client per bucket and process: making a boto3 client takes milliseconds."""
    # Imported here: boto3 costs time and memory, and the default never needs it.
    from server.photos.s3store import S3PhotoStore

    return S3PhotoStore(bucket, endpoint_url=endpoint_url, region=region, prefix=prefix)
