"""Store processed photo variants: the one small interface, and its filesystem backend.

Layout: ``<root>/photos/<org_id>/<sha[:2]>/<sha>-<variant>.jpg`` (an S3 bucket uses the same
keys, `server.photos.s3store`). Every path component is validated, so callers cannot
construct paths outside the root. This module deliberately has no Flask or SQLAlchemy
dependency.
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import BinaryIO, Protocol

from sync.ids import is_sha256

log = logging.getLogger("lagesbild.photos")

VARIANTS = ("full", "display", "thumb")
# Readable by the service's group too: behind nginx (LAGESBILD_PHOTO_ACCEL_PREFIX), nginx's
# user is in that group and serves the files itself; mkstemp alone would give 0600.
FILE_MODE = 0o640
# The top directory (or key prefix) of every photo; backups keep it as their photo folder.
TOP = "photos"


class StorageUnavailable(RuntimeError):
    """The photo storage cannot be reached or refused the operation; retrying later may work."""


class PhotoBackend(Protocol):
    """What the app needs of a photo storage: content-addressed, per organisation."""

    kind: str

    def save(self, org_id: int, sha256: str, variants: Mapping[str, bytes]) -> str:
        """Store all variants, each atomically; return the relative base path."""
        ...

    def open(self, org_id: int, sha256: str, variant: str) -> BinaryIO | None:
        """Return a readable stream of one variant, or None when it is not stored."""
        ...

    def read(self, org_id: int, sha256: str, variant: str) -> bytes | None:
        """Return one variant's bytes, or None when it is not stored."""
        ...

    def exists(self, org_id: int, sha256: str) -> bool:
        """Return whether every variant of the photo is stored."""
        ...

    def has(self, org_id: int, sha256: str, variant: str) -> bool:
        """Return whether one variant is stored."""
        ...

    def delete(self, org_id: int, sha256: str) -> None:
        """Remove all variants of the photo; missing ones are ignored."""
        ...

    def location(self, org_id: int, sha256: str, variant: str) -> str:
        """Return where one variant lives, for an admin (a path or an s3:// address)."""
        ...

    def list_keys(self) -> Iterator[str]:
        """Yield the relative key (``photos/…``) of every finished variant, sorted."""
        ...

    def get_key(self, key: str) -> bytes | None:
        """Return the bytes stored under a relative key, or None when it is gone."""
        ...

    def put_key(self, key: str, data: bytes) -> None:
        """Store bytes under a relative key atomically (a restore)."""
        ...

    def probe(self) -> list[str]:
        """Return the storage's problems (unreachable, not writable); empty when usable."""
        ...


def check_key(key: str) -> tuple[int, str, str]:
    """Return (org_id, sha256, variant) of a relative key, or raise ValueError."""
    parts = key.split("/")
    if len(parts) != 4 or parts[0] != TOP or not parts[1].isdigit():
        raise ValueError(f"not a photo key: {key!r}")
    name = parts[3].removesuffix(".jpg")
    sha256, _, variant = name.partition("-")
    org_id = int(parts[1])
    if PhotoStore.relative_path(org_id, sha256, variant) != key:
        raise ValueError(f"not a photo key: {key!r}")
    return org_id, sha256, variant


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
    """Content-addressed, per-organisation store for photo variants in a directory."""

    kind = "filesystem"

    def __init__(self, root: Path) -> None:
        """Use ``root`` (created on demand) as the storage directory."""
        self.root = Path(root).resolve()

    @staticmethod
    def relative_base(org_id: int, sha256: str) -> str:
        """Return the relative base path (without variant suffix) for a photo."""
        _validate(org_id, sha256)
        return f"{TOP}/{org_id}/{sha256[:2]}/{sha256}"

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

    def has(self, org_id: int, sha256: str, variant: str) -> bool:
        """Return whether one variant's file is stored."""
        return self.path(org_id, sha256, variant).is_file()

    def open(self, org_id: int, sha256: str, variant: str) -> BinaryIO | None:
        """Return the open file of one variant, or None when it is not stored."""
        try:
            return self.path(org_id, sha256, variant).open("rb")
        except (FileNotFoundError, IsADirectoryError):
            return None

    def read(self, org_id: int, sha256: str, variant: str) -> bytes | None:
        """Return one variant's bytes, or None when it is not stored."""
        stream = self.open(org_id, sha256, variant)
        if stream is None:
            return None
        with stream:
            return stream.read()

    def location(self, org_id: int, sha256: str, variant: str) -> str:
        """Return the absolute path of one variant."""
        return str(self.path(org_id, sha256, variant))

    def list_keys(self) -> Iterator[str]:
        """Yield every finished variant's relative path; temp files and strays are not."""
        top = self.root / TOP
        if not top.is_dir():
            return
        for path in sorted(top.rglob("*")):
            if not path.is_file() or path.name.startswith("."):
                continue
            key = path.relative_to(self.root).as_posix()
            try:
                check_key(key)
            except ValueError:
                # Not a photo (an admin's note, an editor's backup file): a backup of the
                # photos need not carry it, and reading it as one would stop the backup.
                log.warning("skipping %s: not a photo file", path)
                continue
            yield key

    def get_key(self, key: str) -> bytes | None:
        """Return the bytes of a relative key, or None when it was deleted meanwhile."""
        org_id, sha256, variant = check_key(key)
        return self.read(org_id, sha256, variant)

    def put_key(self, key: str, data: bytes) -> None:
        """Write a relative key atomically (temp file, fsync, rename)."""
        org_id, sha256, variant = check_key(key)
        path = self.path(org_id, sha256, variant)
        self._makedirs(path.parent)
        atomic_write(path, data)

    def probe(self) -> list[str]:
        """Return a problem unless a file can be created under the photo directory."""
        directory = self.root / TOP
        existing = directory
        while not existing.exists() and existing != existing.parent:
            existing = existing.parent  # created on first use: its parent must let us
        if not existing.is_dir():
            return [f"photo storage: {existing} is not a directory"]
        try:
            with tempfile.NamedTemporaryFile(dir=existing, prefix=".lagesbild-check-"):
                pass
        except OSError as exc:
            return [f"photo storage: cannot write in {existing}: {exc.strerror or exc}"]
        return []

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
