"""Photo upload rules: verify, strip, store atomically, then record."""

from __future__ import annotations

import errno
import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import String, cast, delete, exists, or_, select, update

from server.db import phase
from server.devices.models import Device
from server.domain_errors import (
    Invalid,
    NotFound,
    StorageFull,
    TooLarge,
    Unprocessable,
    UnsupportedMedia,
)
from server.errors import ApiError
from server.extensions import db
from server.orgs.counter import reserve_counter
from server.photos import quota
from server.photos.backends import open_store
from server.photos.imaging import ImageError, ImageTooLarge, UnsupportedImage, process_image
from server.photos.models import Photo
from server.photos.storage import VARIANTS, PhotoBackend, StorageUnavailable
from server.reports.models import Report
from server.sharing.rules import Scope
from server.sharing.scope import visible
from server.upsert import insert_ignore
from sync.clock import utcnow
from sync.ids import is_sha256

_PHOTOS = Photo.__table__
log = logging.getLogger("lagesbild.photos")
# A write that failed for want of room: the disk (ENOSPC), a quota (EDQUOT) or the
# process's file size limit (EFBIG). The same upload may succeed once there is room again.
_NO_ROOM = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})


# How long a phone waits before it sends a photo again after the storage failed.
STORAGE_RETRY_SECONDS = 60


@dataclass(frozen=True)
class PhotoRef:
    """One stored size of one photo; `str()` gives where it lives (a path or s3:// address)."""

    org_id: int
    sha256: str
    variant: str

    def __str__(self) -> str:
        """Return the storage's location of this size."""
        return store().location(self.org_id, self.sha256, self.variant)

    def read_bytes(self) -> bytes | None:
        """Return this size's bytes from the storage, or None when it is not there."""
        return store().read(self.org_id, self.sha256, self.variant)


def store() -> PhotoBackend:
    """Return the configured photo storage (the data directory or an S3 bucket)."""
    return open_store(current_app.config)


def storage_unavailable(exc: StorageUnavailable) -> ApiError:
    """Return the 503 a client gets while the photo storage is down (it retries later)."""
    log.warning("photo storage unavailable: %s", exc)
    return ApiError(
        503,
        "photo_storage_unavailable",
        "The photo storage is not reachable right now; nothing was stored. The photo stays"
        " on the phone and is sent again later.",
        headers={"Retry-After": str(STORAGE_RETRY_SECONDS)},
    )


def find(org_id: int, sha256: str) -> Photo | None:
    """Return the organisation's photo with this hash, if uploaded."""
    return db.session.scalar(select(Photo).where(Photo.org_id == org_id, Photo.sha256 == sha256))


def photos_present(org_id: int, hashes: set[str]) -> set[str]:
    """Return which of the hashes the organisation already has."""
    if not hashes:
        return set()
    return set(
        db.session.scalars(
            select(Photo.sha256).where(Photo.org_id == org_id, Photo.sha256.in_(sorted(hashes)))
        )
    )


def receive_upload(
    device: Device, sha256: str, read_body: Callable[[], bytes], *, redacted: bool = False
) -> tuple[Photo, bool]:
    """Store an uploaded photo unless it is stored already; return it and whether it is new.

    A known photo is a cheap no-op: its body is never read, and the device's daily quota
    (`quota`) does not apply to it. Reading a slow upload and
    re-encoding it happen with no transaction open, so a phone on a bad connection never
    holds the database's write lock. `redacted`: the phone blacked out parts of the photo
    before it was stored there (recorded with a new photo; a known one keeps its flag).
    """
    now, limit = utcnow(), quota.limit()
    with phase("read"):
        existing = find(device.org_id, sha256)
        used = quota.used_today(device.id, now) if existing is None and limit > 0 else 0
    if existing is not None:
        return existing, False
    # Over the day's photo quota: refused before the body is read, or once its size is known.
    quota.check(used, 0, limit, now)
    data = read_body()
    quota.check(used, len(data), limit, now)
    return save_upload(device, sha256, data, redacted=redacted)


def save_upload(
    device: Device, sha256: str, data: bytes, *, redacted: bool = False
) -> tuple[Photo, bool]:
    """Verify and store an uploaded photo; return it and whether it is new."""
    if not data:
        raise Invalid("empty_body", "The photo upload was empty.")
    actual = hashlib.sha256(data).hexdigest()
    if actual != sha256:
        raise Invalid(
            "hash_mismatch",
            "The photo's bytes do not match its SHA-256; the upload was damaged. Send it again.",
            {"expected": sha256, "actual": actual},
        )
    try:
        processed = process_image(data, max_pixels=int(current_app.config["MAX_PHOTO_PIXELS"]))
    except UnsupportedImage as exc:
        raise UnsupportedMedia(exc.code, exc.message) from exc
    except ImageTooLarge as exc:
        raise TooLarge(exc.code, exc.message) from exc
    except ImageError as exc:
        raise Unprocessable(exc.code, exc.message) from exc
    # Files first (atomically, fsynced; or whole S3 objects), the row after: a row never
    # points at no file, and a failed put leaves no row (the phone sends it again).
    try:
        path = store().save(device.org_id, sha256, processed.variants)
    except StorageUnavailable as exc:
        raise storage_unavailable(exc) from exc
    except OSError as exc:
        if exc.errno not in _NO_ROOM:
            raise
        # The failed write removed its temp file; the phone keeps the photo and retries.
        raise StorageFull(
            "storage_full",
            "The server has no room for the photo right now; keep it and send it again later.",
        ) from exc
    row = {
        "org_id": device.org_id,
        "sha256": sha256,
        "uploaded_by_device_id": device.id,
        "source_format": processed.source_format,
        "width": processed.width,
        "height": processed.height,
        "bytes": len(data),
        "storage_path": path,
        "redacted": redacted,
        "created_at": utcnow(),
    }
    with phase("write"):
        stmt = insert_ignore(_PHOTOS, ["org_id", "sha256"]).returning(_PHOTOS.c.id)
        # No row back: a concurrent upload of the same photo won.
        inserted = db.session.execute(stmt, row).first()
        if inserted is not None:
            announce_photo(device.org_id, sha256)
    if inserted is not None:
        # The row as just written: reading it back cost a transaction and a query.
        return Photo(id=inserted[0], **row), True
    photo = find(device.org_id, sha256)
    if photo is None:  # pragma: no cover - the row was just written
        raise RuntimeError("photo row vanished after commit")
    return photo, False


def announce_photo(org_id: int, sha256: str) -> None:
    """Give each report naming the photo a new change number, so pulls drop it as missing."""
    report_ids = list(
        db.session.scalars(
            select(Report.id)
            .where(Report.org_id == org_id, cast(Report.photos, String).contains(sha256))
            .order_by(Report.id)
        )
    )
    if not report_ids:
        return
    # The numbers only: a photo moves no report between incidents, so no grouping lock.
    first = reserve_counter(org_id, len(report_ids))
    for offset, report_id in enumerate(report_ids):
        db.session.execute(
            update(Report).where(Report.id == report_id).values(change_seq=first + offset)
        )


def photos_redacted(org_id: int, hashes: set[str]) -> set[str]:
    """Return which of the hashes are photos the phone redacted before sending."""
    if not hashes:
        return set()
    return set(
        db.session.scalars(
            select(Photo.sha256).where(
                Photo.org_id == org_id, Photo.sha256.in_(sorted(hashes)), Photo.redacted.is_(True)
            )
        )
    )


def device_may_see(device: Device, photo: Photo) -> bool:
    """Tell whether the device uploaded the photo or names it in one of its reports."""
    if photo.org_id != device.org_id:
        return False
    if photo.uploaded_by_device_id == device.id:
        return True
    return bool(
        db.session.scalar(
            select(
                exists().where(
                    Report.device_id == device.id,
                    cast(Report.photos, String).contains(photo.sha256),
                )
            )
        )
    )


def file_for_device(device: Device, sha256: str, variant: str) -> PhotoRef:
    """Return the file of a photo the device may see, or raise NotFound."""
    photo = find(device.org_id, sha256)
    if photo is None or not device_may_see(device, photo):
        raise NotFound("not_found", "No such photo.")
    ref = file_for(photo, variant)
    if not is_stored(ref):
        raise NotFound("not_found", "The photo's file is missing on the server.")
    return ref


def file_for(photo: Photo, variant: str) -> PhotoRef:
    """Return the file of one stored size."""
    if variant not in VARIANTS:
        raise Invalid(
            "invalid_size", f"Unknown size {variant!r}; use one of {', '.join(VARIANTS)}."
        )
    return PhotoRef(photo.org_id, photo.sha256, variant)


def is_stored(ref: PhotoRef) -> bool:
    """Tell whether the size's file is in the storage (a 503 while the storage is down)."""
    try:
        return store().has(ref.org_id, ref.sha256, ref.variant)
    except StorageUnavailable as exc:
        raise storage_unavailable(exc) from exc


def photo_for_org(org_id: int, sha256: str, size: str) -> PhotoRef | None:
    """Return the file of an organisation's photo that one of its reports names, else None.

    For the coordinators' workspace: a bad hash or size, a photo of another organisation,
    one no report names, or a missing file all answer None (the caller's 404).
    """
    if not is_sha256(sha256) or size not in VARIANTS:
        return None
    photo = find(org_id, sha256)
    if photo is None or not _named_by_any_report(org_id, sha256):
        return None
    ref = file_for(photo, size)
    return ref if is_stored(ref) else None


def photo_for_scope(scope: Scope, sha256: str, size: str) -> PhotoRef | None:
    """Return the file of a photo the scope may see in full, else None.

    A photo is shown with its report, and photos are granted only at `full`: the photo of
    another organisation is served only when a report of that organisation naming it is
    covered at `full` (its own category and area) and so is its incident, if any. Own
    photos answer exactly as `photo_for_org`. Anything else is None, like a missing photo,
    so the answer never tells whether another organisation has it.
    """
    if not is_sha256(sha256) or size not in VARIANTS:
        return None
    own = photo_for_org(scope.viewer, sha256, size)
    if own is not None or not scope.grants_at_least("full"):
        return own
    for owner in sorted(_owners_showing(scope, sha256)):
        photo = find(owner, sha256)
        if photo is not None:
            ref = file_for(photo, size)
            if is_stored(ref):
                return ref
    return None


def _owners_showing(scope: Scope, sha256: str) -> set[int]:
    """Return the other organisations with a report naming the photo that the scope sees in full."""
    # The incidents table by name: server.incidents imports this package (it deletes
    # photos), so importing its model here would make an import loop.
    incidents = db.metadata.tables["incidents"].c
    incident_full = or_(
        Report.incident_id.is_(None),
        visible(scope, incidents.org_id, incidents.category_code, incidents.area_id, "full"),
    )
    query = (
        select(Report.org_id)
        .outerjoin(db.metadata.tables["incidents"], incidents.id == Report.incident_id)
        .where(
            Report.org_id.in_(sorted(scope.owners("full") - {scope.viewer})),
            visible(scope, Report.org_id, Report.category_code, Report.area_id, "full"),
            incident_full,
            cast(Report.photos, String).contains(sha256),
        )
        .distinct()
    )
    return set(db.session.scalars(query))


def forget_unreferenced(org_id: int, hashes: list[str]) -> list[str]:
    """Delete the rows of those photos no remaining report or action names; return them."""
    orphans = [
        sha
        for sha in hashes
        if not _named_by_any_report(org_id, sha) and not _named_by_an_action(org_id, sha)
    ]
    if orphans:
        db.session.execute(delete(Photo).where(Photo.org_id == org_id, Photo.sha256.in_(orphans)))
    return orphans


def _named_by_an_action(org_id: int, sha256: str) -> bool:
    """Tell whether an action of the organisation has the photo as its after-photo."""
    # The table by name: server.actions imports this package (it stores after-photos).
    actions = db.metadata.tables["actions"].c
    return bool(
        db.session.scalar(
            select(exists().where(actions.org_id == org_id, actions.after_photo == sha256))
        )
    )


def _named_by_any_report(org_id: int, sha256: str) -> bool:
    """Tell whether any report of the organisation names the photo."""
    return bool(
        db.session.scalar(
            select(
                exists().where(
                    Report.org_id == org_id, cast(Report.photos, String).contains(sha256)
                )
            )
        )
    )


def delete_files(org_id: int, hashes: list[str]) -> None:
    """Remove the stored files of deleted photos (their rows are gone already).

    The rows are committed away first, so a photo without a row is never served. When the
    object storage is down the objects stay: logged with their hashes for the admin
    (docs/operations.md, "Several hosts"), and the deletion that called this still succeeds.
    """
    photos = store()
    for sha in hashes:
        try:
            photos.delete(org_id, sha)
        except StorageUnavailable as exc:
            log.error(
                "photo of organisation %s not deleted from the storage, remove it by hand: %s (%s)",
                org_id,
                sha,
                exc,
            )
