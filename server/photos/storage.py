"""Store processed photo variants on disk with atomic, durable writes.

Layout: ``<root>/photos/<org_id>/<sha[:2]>/<sha>-<variant>.jpg``. Every path
component is validated, so callers cannot construct paths outside the root.
This module deliberately has no Flask or SQLAlchemy dependency.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path

from sync.ids import is_sha256

VARIANTS = ("full", "display", "thumb")
# Readable by the service's group too: behind nginx (LAGESBILD_PHOTO_ACCEL_PREFIX), nginx's
# user is in that group and serves the files itself; mkstemp alone would give 0600.
FILE_MODE = 0o640


def atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically and durably (temp file, fsync, rename)."""
    path = Path(path)
    directory = path.parent
    fd, tmp_name = tempfile.mkstemp(dir=directory, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, FILE_MODE)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
        raise
    fsync_dir(directory)


def fsync_dir(directory: Path) -> None:
    """Flush a directory entry to disk where the platform supports it."""
    o_directory = getattr(os, "O_DIRECTORY", None)
    if o_directory is None:  # Windows: directories cannot be opened/fsynced.
        return
    fd = os.open(directory, os.O_RDONLY | o_directory)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _validate(org_id: int, sha256: str) -> None:
    """Raise ValueError unless the photo identifiers are safe path components."""
    if not isinstance(org_id, int) or isinstance(org_id, bool) or org_id < 0:
        raise ValueError(f"invalid org_id: {org_id!r}")
    if not is_sha256(sha256):
        raise ValueError("sha256 must be 64 lowercase hexadecimal characters")


def _validate_variant(variant: str) -> None:
    """Raise ValueError unless ``variant`` is a known variant name."""
    if not isinstance(variant, str) or variant not in VARIANTS:
        raise ValueError(f"unknown variant {variant!r}; expected one of {', '.join(VARIANTS)}")


class PhotoStore:
    """Content-addressed, per-organisation store for photo variants."""

    def __init__(self, root: Path) -> None:
        """Use ``root`` (created on demand) as the storage directory."""
        self.root = Path(root).resolve()

    @staticmethod
    def relative_base(org_id: int, sha256: str) -> str:
        """Return the relative base path (without variant suffix) for a photo."""
        _validate(org_id, sha256)
        return f"photos/{org_id}/{sha256[:2]}/{sha256}"

    @classmethod
    def relative_path(cls, org_id: int, sha256: str, variant: str) -> str:
        """Return the relative path of one variant, validating every component."""
        _validate_variant(variant)
        return f"{cls.relative_base(org_id, sha256)}-{variant}.jpg"

    def path(self, org_id: int, sha256: str, variant: str) -> Path:
        """Return the absolute path of one variant."""
        return self.root / self.relative_path(org_id, sha256, variant)

    def save(self, org_id: int, sha256: str, variants: Mapping[str, bytes]) -> str:
        """Write all variants atomically and return the relative base path."""
        _validate(org_id, sha256)
        missing = [v for v in VARIANTS if v not in variants]
        unknown = sorted(set(variants) - set(VARIANTS))
        if missing or unknown:
            raise ValueError(f"variants must be exactly {VARIANTS}; missing={missing}, {unknown=}")
        directory = self.path(org_id, sha256, VARIANTS[0]).parent
        self._makedirs(directory)
        for variant in VARIANTS:
            atomic_write(self.path(org_id, sha256, variant), variants[variant])
        return self.relative_base(org_id, sha256)

    def exists(self, org_id: int, sha256: str) -> bool:
        """Return whether every variant of the photo is stored."""
        return all(self.path(org_id, sha256, v).is_file() for v in VARIANTS)

    def delete(self, org_id: int, sha256: str) -> None:
        """Remove all variants of the photo; missing files are ignored."""
        paths = [self.path(org_id, sha256, v) for v in VARIANTS]
        for path in paths:
            path.unlink(missing_ok=True)
        with contextlib.suppress(FileNotFoundError):
            fsync_dir(paths[0].parent)

    def _makedirs(self, directory: Path) -> None:
        """Create ``directory`` and fsync the parent of each newly created level."""
        missing: list[Path] = []
        current = directory
        while not current.is_dir():
            missing.append(current)
            current = current.parent
        for new_dir in reversed(missing):
            with contextlib.suppress(FileExistsError):  # concurrent save of a sibling
                new_dir.mkdir()
            fsync_dir(new_dir.parent)
