"""`lagesbild backup DIR`: the database (consistent while the app writes), photos, manifest."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import current_app
from sqlalchemy import text

from server.extensions import db
from server.ops import manifest, pgtools, tables
from server.ops.manifest import BackupError
from server.photos.backends import open_store
from server.photos.storage import PhotoBackend, StorageUnavailable
from sync.clock import utcnow

SQLITE_FILE = "database.sqlite3"
PG_FILE = "database.pgdump"
PHOTOS = "photos"


@dataclass(frozen=True)
class Snapshot:
    """What the database held at the moment the backup saw it."""

    revision: str
    epoch: str | None
    counts: dict[str, int]


def make(target: Path, data_dir: Path) -> dict[str, Any]:
    """Write a backup into the empty (or new) directory `target`; return its manifest.

    Everything in it is readable by the one account that made it (the directory 0700,
    files 0600, pg_dump's too): a backup holds every report.
    """
    old_umask = os.umask(PRIVATE_UMASK)
    try:
        return _make(target, data_dir)
    finally:
        os.umask(old_umask)


def _make(target: Path, data_dir: Path) -> dict[str, Any]:
    """Write the backup (under the private umask)."""
    if target.resolve().is_relative_to(data_dir.resolve()):
        raise BackupError(f"{target} is inside the data directory {data_dir}; choose another place")
    _prepare(target)
    target.chmod(0o700)  # an existing empty directory may have been made with looser modes
    engine = db.engine
    if engine.dialect.name == "sqlite":
        name, snap = SQLITE_FILE, _sqlite(Path(engine.url.database or ""), target / SQLITE_FILE)
    else:
        name, snap = PG_FILE, _postgres(engine.url.render_as_string(False), target / PG_FILE)
    # Photos after the database: a photo's file is written before its row, so every photo
    # row in the snapshot has its files here (unless a purge removed them meanwhile).
    files = {name: manifest.sha256_file(target / name)}
    files.update(_copy_photos(photo_store(data_dir), target))
    os.sync()  # the copies reach the disk before the manifest says the backup is whole
    data = {
        "format": manifest.FORMAT,
        "created_at": utcnow().isoformat(timespec="seconds"),
        "database": {"dialect": engine.dialect.name, "file": name, "revision": snap.revision},
        "epoch": snap.epoch,
        "counts": snap.counts,
        "photo_files": len(files) - 1,
        "files": files,
    }
    manifest.write(target, data)
    return data


# Files and directories created by a backup: for the account that made it only.
PRIVATE_UMASK = 0o077


def _prepare(target: Path) -> None:
    """Create the directory, or accept an existing empty one; refuse anything else."""
    if target.exists() and not target.is_dir():
        raise BackupError(f"{target} is a file, not a directory")
    if target.is_dir() and any(target.iterdir()):
        raise BackupError(f"{target} is not empty; give a new or empty directory")
    try:
        target.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BackupError(f"cannot create {target}: {exc}") from exc


def _sqlite(source: Path, copy: Path) -> Snapshot:
    """Copy the database with SQLite's online backup API (one consistent read snapshot)."""
    if not source.is_file():
        raise BackupError(f"the database file {source} does not exist")
    db.session.remove()  # no transaction of ours holds a lock while the copy reads
    with (
        closing(sqlite3.connect(source, timeout=30)) as src,
        closing(sqlite3.connect(copy)) as dst,
    ):
        src.backup(dst)  # all pages in one step: the copy is one moment of the database
    with closing(sqlite3.connect(copy)) as conn:
        conn.execute("PRAGMA journal_mode = DELETE")  # one self-contained file, no -wal
        counts = tables.sqlite_counts(conn)
        rev = _one(conn, "SELECT version_num FROM alembic_version", "alembic_version" in counts)
        epoch = _one(conn, "SELECT value FROM meta WHERE key = 'epoch'", "meta" in counts)
    if rev is None:
        raise BackupError("the database was never migrated; run 'lagesbild db upgrade' first")
    return Snapshot(rev, epoch, counts)


def _one(conn: sqlite3.Connection, sql: str, table_exists: bool) -> str | None:
    """Return the first column of the first row, or None (also when the table is missing)."""
    row = conn.execute(sql).fetchone() if table_exists else None
    return None if row is None else str(row[0])


def _postgres(url: str, dump: Path) -> Snapshot:
    """Dump with pg_dump (custom format) inside the snapshot the counts were taken in."""
    pgtools.find_tool("pg_dump")  # missing: say so before anything else
    db.session.remove()
    with _exported_snapshot() as (snapshot_id, snap):
        pgtools.run(
            "pg_dump",
            ["--format=custom", f"--snapshot={snapshot_id}", f"--file={dump}"],
            url,
        )
    return snap


@contextmanager
def _exported_snapshot() -> Iterator[tuple[str, Snapshot]]:
    """Hold a repeatable-read transaction open and export its snapshot for pg_dump."""
    with db.engine.connect() as conn:
        conn = conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            conn.execute(text("SET TRANSACTION READ ONLY"))
            snapshot_id = conn.execute(text("SELECT pg_export_snapshot()")).scalar_one()
            rev = tables.revision(conn)
            if rev is None:
                raise BackupError(
                    "the database was never migrated; run 'lagesbild db upgrade' first"
                )
            counts = tables.counts(conn)
            epoch = conn.execute(text("SELECT value FROM meta WHERE key = 'epoch'")).scalar()
            yield snapshot_id, Snapshot(rev, epoch, counts)


def photo_store(data_dir: Path) -> PhotoBackend:
    """Return the configured photo storage (the data directory given, or the S3 bucket)."""
    return open_store({**current_app.config, "DATA_DIR": str(data_dir)})


def _copy_photos(photos: PhotoBackend, root: Path) -> dict[str, str]:
    """Copy every finished photo into files under `root`; return their hashes by path.

    From either storage the files get the same layout (``photos/<org>/<sha[:2]>/…``), so a
    backup of one storage restores into the other.
    """
    hashes: dict[str, str] = {}
    try:
        for key in photos.list_keys():
            data = photos.get_key(key)
            if data is None:  # deleted (purged) since the listing: not in the backup
                continue
            out = root / key
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_bytes(data)
            hashes[key] = manifest.sha256_file(out)
    except StorageUnavailable as exc:
        raise BackupError(f"cannot copy the photos: {exc}") from exc
    return hashes
