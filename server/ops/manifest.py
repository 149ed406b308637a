"""The backup manifest: what a backup holds, with a SHA-256 of every file in it."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

MANIFEST = "manifest.json"
FORMAT = 1
_CHUNK = 1024 * 1024


class BackupError(RuntimeError):
    """Raised when a backup cannot be made or restored; the message is for the admin."""


def sha256_file(path: Path) -> str:
    """Return the SHA-256 of a file, read in chunks (photos and dumps can be large)."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def write(directory: Path, manifest: dict[str, Any]) -> None:
    """Write manifest.json last, durably: a backup without it is visibly incomplete."""
    path = directory / MANIFEST
    with path.open("w", encoding="utf-8") as fh:
        json.dump(manifest, fh, ensure_ascii=False, indent=2, sort_keys=True)
        fh.write("\n")
        fh.flush()
        os.fsync(fh.fileno())


def read(directory: Path) -> dict[str, Any]:
    """Read and sanity-check a backup's manifest."""
    path = directory / MANIFEST
    if not path.is_file():
        raise BackupError(f"{path} is missing: not a Lägesbild backup, or an unfinished one")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BackupError(f"{path} cannot be read: {exc}") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError(f"{path} is not a backup manifest of format {FORMAT}")
    files = manifest.get("files")
    database = manifest.get("database")
    if not isinstance(files, dict) or not isinstance(database, dict):
        raise BackupError(f"{path} lacks its file list or its database entry")
    counts = manifest.get("counts")
    if not isinstance(counts, dict) or not all(type(v) is int for v in counts.values()):
        raise BackupError(f"{path} lacks its row counts per table")
    if database.get("file") not in files:
        raise BackupError(f"{path} names no database file among its files")
    return manifest


def verify(directory: Path, manifest: dict[str, Any]) -> None:
    """Check every file against its hash and refuse strays; raise listing what is wrong."""
    root = directory.resolve()
    problems: list[str] = []
    listed: set[str] = set()
    for name, expected in sorted(manifest["files"].items()):
        path = (root / name).resolve()
        if not path.is_relative_to(root) or name == MANIFEST:
            problems.append(f"{name}: not a path inside the backup")
            continue
        listed.add(str(path))
        if not path.is_file():
            problems.append(f"{name}: missing")
        elif sha256_file(path) != expected:
            problems.append(f"{name}: SHA-256 does not match the manifest (changed or damaged)")
    for path in sorted(root.rglob("*")):
        if path.is_file() and path.name != MANIFEST and str(path.resolve()) not in listed:
            problems.append(f"{path.relative_to(root)}: not in the manifest")
    if problems:
        shown = "; ".join(problems[:10])
        more = f" (and {len(problems) - 10} more)" if len(problems) > 10 else ""
        raise BackupError(f"the backup does not verify, nothing was restored: {shown}{more}")
