"""`lagesbild restore DIR`: verify a backup, then load it into an empty installation."""

from __future__ import annotations

import os
import shutil
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import text

from server.extensions import db
from server.meta.service import rotate_epoch
from server.ops import manifest, pgtools, tables
from server.ops.backup import PHOTOS, photo_store
from server.ops.manifest import BackupError
from server.photos.storage import FILE_MODE, PhotoBackend, PhotoStore, StorageUnavailable


@dataclass(frozen=True)
class Restored:
    """What a restore did."""

    manifest: dict[str, Any]
    counts: dict[str, int]
    upgraded_from: str | None  # the backup's revision when the schema was upgraded after it
    epoch: str


def restore(source: Path, data_dir: Path) -> Restored:
    """Restore the backup in `source`; refuse unless the installation is empty.

    Nothing is changed before the backup verified and the installation was found empty.
    """
    found = manifest.read(source)
    database = found["database"]
    dialect = db.engine.dialect.name
    if database.get("dialect") != dialect:
        raise BackupError(
            f"the backup is of a {database.get('dialect')} database, this installation uses"
            f" {dialect}; restore into the same kind of database"
        )
    rev = str(database.get("revision"))
    if not tables.known_revision(rev):
        raise BackupError(
            f"the backup's schema revision {rev} is unknown to this version of Lägesbild"
            " (a newer one made it); install that version, restore, then upgrade"
        )
    _refuse_links(source)
    manifest.verify(source, found)
    photos = photo_store(data_dir)
    _refuse_unless_empty(data_dir, photos)
    dump = source / database["file"]
    if dialect == "sqlite":
        _load_sqlite(dump)
    else:
        _load_postgres(dump)
    if isinstance(photos, PhotoStore):
        _copy_photos(source / PHOTOS, data_dir / PHOTOS)
    else:
        _put_photos(source, photos)
    with db.engine.connect() as conn:
        counts = tables.counts(conn)
    if counts != found["counts"]:
        changed = sorted(
            k
            for k in counts.keys() | found["counts"].keys()
            if counts.get(k) != found["counts"].get(k)
        )
        raise BackupError(f"the restored tables do not match the manifest's counts: {changed}")
    upgraded_from = None
    if rev not in tables.code_heads():
        from flask_migrate import upgrade

        upgrade()  # the admin would run `lagesbild db upgrade` next; it is safe here
        upgraded_from = rev
    # Phones hold cursors of the database as it was after the backup; a new epoch turns
    # each of them into a full resync (server.meta.service), which is always safe.
    epoch = rotate_epoch()
    return Restored(found, counts, upgraded_from, epoch)


_TELLING = ("organisations", "persons", "reports", "devices", "photos", "incidents")


def _refuse_unless_empty(data_dir: Path, photos: PhotoBackend) -> None:
    """Refuse an installation that holds reports, people, devices or photo files."""
    db.session.remove()
    with db.engine.connect() as conn:
        busy = tables.in_use(tables.counts(conn))
    if busy:
        # The tables an admin recognises first; bookkeeping tables after them.
        named = sorted(busy, key=lambda t: (_TELLING.index(t) if t in _TELLING else 99, t))
        more = f" and {len(named) - 6} more" if len(named) > 6 else ""
        raise BackupError(
            "this installation is not empty (rows in " + ", ".join(named[:6]) + more + ");"
            " restore only into a new, empty database, nothing was restored"
        )
    if isinstance(photos, PhotoStore):
        folder = data_dir / PHOTOS
        if folder.is_dir() and any(p.is_file() for p in folder.rglob("*")):
            raise BackupError(f"{folder} already holds photo files; nothing was restored")
        return
    try:
        first = next(iter(photos.list_keys()), None)
    except StorageUnavailable as exc:
        raise BackupError(f"{exc}; nothing was restored") from exc
    if first is not None:
        raise BackupError(f"the photo storage already holds photos ({first}); nothing was restored")


def _load_sqlite(dump: Path) -> None:
    """Replace the (empty) database file's content with the backup, page by page."""
    target = Path(db.engine.url.database or "")
    db.engine.dispose()  # no pooled connection of ours may see the old pages
    with closing(sqlite3.connect(dump)) as src, closing(sqlite3.connect(target, timeout=30)) as dst:
        src.backup(dst)
        dst.execute("PRAGMA journal_mode = WAL")  # as the app runs it (server.db)


def _load_postgres(dump: Path) -> None:
    """Drop the empty schema the migrations made, then pg_restore the dump in one transaction."""
    pgtools.find_tool("pg_restore")  # missing: say so before anything is dropped
    url = db.engine.url.render_as_string(False)
    with db.engine.begin() as conn:
        names = tables.table_names(conn)
        if names:
            quoted = ", ".join('"' + n.replace('"', '""') + '"' for n in names)
            conn.execute(text(f"DROP TABLE {quoted} CASCADE"))
    db.engine.dispose()
    try:
        pgtools.run(
            "pg_restore",
            ["--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction", str(dump)],
            url,
        )
    except pgtools.PgToolError as exc:  # rolled back: the database is empty, without a schema
        raise BackupError(
            f"{exc}; nothing was restored (run 'lagesbild db upgrade' to recreate the empty"
            " schema before trying again)"
        ) from exc


def _refuse_links(source: Path) -> None:
    """Refuse a backup holding a symbolic link: what it points to was never verified."""
    for root, dirs, files in os.walk(source, followlinks=False):
        for name in (*dirs, *files):
            if (Path(root) / name).is_symlink():
                raise BackupError(
                    f"{Path(root) / name} is a symbolic link; a backup holds plain files only"
                    " (nothing was restored)"
                )


def _copy_photos(source: Path, target: Path) -> None:
    """Copy the backup's photo files into the data directory (each via a temp file).

    They get the photo store's own mode (group-readable for the web server, nobody else)
    and, when root restores, the data directory's owner, so the service can purge them.
    """
    if not source.is_dir():
        return
    owner = target.parent.stat() if target.parent.exists() else None
    chown = owner is not None and os.geteuid() == 0 and owner.st_uid != 0
    owned: set[Path] = set()  # directories already given to the owner
    for path in sorted(source.rglob("*")):
        if not path.is_file():
            continue
        out = target / path.relative_to(source)
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_name(f".{out.name}.restore")
        shutil.copyfile(path, tmp)
        os.chmod(tmp, FILE_MODE)
        if chown and owner is not None:
            for made in (tmp, *(d for d in _new_dirs(out.parent, target) if d not in owned)):
                os.chown(made, owner.st_uid, owner.st_gid)
            owned.update(_new_dirs(out.parent, target))
        os.replace(tmp, out)


def _put_photos(source: Path, photos: PhotoBackend) -> None:
    """Put the backup's photo files into the object storage (each put is atomic)."""
    folder = source / PHOTOS
    if not folder.is_dir():
        return
    try:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                photos.put_key(path.relative_to(source).as_posix(), path.read_bytes())
    except ValueError as exc:  # a file the photo layout does not allow
        raise BackupError(f"{exc}; not every photo was restored") from exc
    except StorageUnavailable as exc:
        raise BackupError(
            f"{exc}; the database is restored but not every photo: empty the bucket and the"
            " database, then restore again"
        ) from exc


def _new_dirs(directory: Path, top: Path) -> list[Path]:
    """Return `directory` and its parents up to and including `top`."""
    found = [directory]
    while directory != top and top in directory.parents:
        directory = directory.parent
        found.append(directory)
    return found
