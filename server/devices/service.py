"""Device enrolment, tokens and revocation."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update

from server.audit import service as audit
from server.audit.service import CLI, Actor
from server.db import phase
from server.devices.models import DEVICE_KINDS, Device, EnrolmentCode
from server.domain_errors import Invalid, NotFound, Unauthenticated
from server.extensions import db
from server.orgs.models import Organisation
from sync.clock import utcnow

# Crockford-style alphabet without 0/O, 1/I/L: codes are typed from a screen by cold hands.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 12  # 12 symbols of 31 ≈ 59 bits; one-time and expiring.
TOKEN_PREFIX = "lbd_"  # noqa: S105 - a public prefix, not a secret
KIND_ALIASES = {"väktare": "vaktare", "fältare": "faltare", "annan": "other", "övrig": "other"}
# Last-seen is written at most this often per device, so reads stay reads.
LAST_SEEN_RESOLUTION = timedelta(minutes=1)


@dataclass(frozen=True)
class IssuedCode:
    """A freshly issued enrolment code (shown once, stored only as a hash)."""

    device: Device
    code: str
    expires_at: datetime


def sha256_hex(text: str) -> str:
    """Hash a secret for storage."""
    return hashlib.sha256(text.encode()).hexdigest()


def normalise_kind(kind: str | None) -> str:
    """Map a user-typed device kind to its stable code."""
    value = (kind or "other").strip().lower()
    value = KIND_ALIASES.get(value, value)
    if value not in DEVICE_KINDS:
        raise Invalid(
            "unknown_kind", f"unknown device kind {kind!r}; use one of {', '.join(DEVICE_KINDS)}"
        )
    return value


def normalise_code(code: str) -> str:
    """Strip the separators and case a person may type around a code."""
    return "".join(ch for ch in code.upper() if ch.isalnum())


def format_code(code: str) -> str:
    """Group a code in fours for reading aloud."""
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


def issue_code(org: Organisation, name: str, kind: str | None, ttl_hours: int) -> IssuedCode:
    """Create (or reuse a not yet enrolled) device and a one-time enrolment code for it."""
    kind_code = normalise_kind(kind)
    name = name.strip()
    if not name or len(name) > 120:
        raise Invalid("invalid_name", "the device name must be 1–120 characters")
    device = db.session.scalar(
        select(Device).where(
            Device.org_id == org.id,
            Device.display_name == name,
            Device.enrolled_at.is_(None),
            Device.revoked_at.is_(None),
        )
    )
    if device is None:
        device = Device(org_id=org.id, display_name=name, kind=kind_code)
        db.session.add(device)
        db.session.flush()
    code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    expires = utcnow() + timedelta(hours=ttl_hours)
    db.session.add(
        EnrolmentCode(device_id=device.id, code_hash=sha256_hex(code), expires_at=expires)
    )
    db.session.commit()
    return IssuedCode(device=device, code=format_code(code), expires_at=expires)


@dataclass(frozen=True)
class Enrolled:
    """A device just enrolled: its token (shown once) and its organisation."""

    device: Device
    token: str
    organisation: Organisation


def enrol_device(code: str) -> Enrolled:
    """Exchange a one-time code for a new device token, with the device's organisation."""
    device, token = enrol(code)
    org = db.session.get(Organisation, device.org_id)
    if org is None:  # pragma: no cover - a foreign key guarantees it
        raise RuntimeError(f"device {device.id} has no organisation")
    return Enrolled(device, token, org)


def enrol(code: str) -> tuple[Device, str]:
    """Exchange a one-time code for a new device token."""
    normalised = normalise_code(code)
    now = utcnow()
    row = db.session.scalar(
        select(EnrolmentCode).where(EnrolmentCode.code_hash == sha256_hex(normalised))
    )
    if row is None or row.used_at is not None or row.expires_at <= now:
        raise Invalid(
            "invalid_code",
            "This enrolment code is unknown, already used or expired. "
            "Ask your coordinator for a new one.",
        )
    device = db.session.get(Device, row.device_id)
    if device is None or device.revoked_at is not None:
        raise Invalid("invalid_code", "This device has been revoked. Ask your coordinator.")
    # Mark the code used in the same statement that checks it, so two phones racing with
    # one code cannot both win.
    claimed = db.session.execute(
        update(EnrolmentCode)
        .where(EnrolmentCode.id == row.id, EnrolmentCode.used_at.is_(None))
        .values(used_at=now)
    ).rowcount
    if claimed != 1:
        db.session.rollback()
        raise Invalid("invalid_code", "This enrolment code has already been used.")
    # Any other code issued for this device dies now: a second phone must not be able to
    # take over the device (and silently lock out the first) with a leftover code.
    db.session.execute(
        update(EnrolmentCode)
        .where(EnrolmentCode.device_id == device.id, EnrolmentCode.used_at.is_(None))
        .values(used_at=now)
    )
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    device.token_hash = sha256_hex(token)
    device.enrolled_at = now
    device.last_seen_at = now
    db.session.commit()
    return device, token


def device_for_token(token: str) -> Device:
    """Find the device behind a bearer token, or raise Unauthenticated with the reason."""
    device = db.session.scalar(select(Device).where(Device.token_hash == sha256_hex(token)))
    refuse_unusable(device)
    return device


def refuse_unusable(device: Any) -> None:
    """Raise Unauthenticated unless the token's device (ORM object or row) may sync."""
    if device is None:
        raise Unauthenticated("invalid_token", "This device is not enrolled on the server.")
    if device.revoked_at is not None:
        raise Unauthenticated(
            "device_revoked",
            "This device has been revoked. Unsent reports stay on the phone; "
            "contact your coordinator.",
        )


def needs_touch(device: Device) -> bool:
    """Tell whether last-seen is stale enough to be written (at most once a minute)."""
    seen = device.last_seen_at
    return seen is None or utcnow() - seen >= LAST_SEEN_RESOLUTION


def touch(device: Device) -> None:
    """Record that the device was seen now (the caller commits)."""
    now = utcnow()
    db.session.execute(update(Device).where(Device.id == device.id).values(last_seen_at=now))


def revoke(device_id: int, actor: Actor = CLI) -> Device:
    """Revoke a device at once; its reports keep their attribution."""
    device = db.session.get(Device, device_id)
    if device is None:
        raise NotFound("not_found", f"no device with id {device_id}")
    if device.revoked_at is None:
        device.revoked_at = utcnow()
        audit.add(
            device.org_id, "device.revoke", f"device {device.id} {device.display_name}", actor
        )
    db.session.commit()
    return device


def wipe_pending(device: Device) -> bool:
    """Tell whether an admin ordered a wipe that the phone has not yet said it carried out."""
    requested = device.wipe_requested_at
    return requested is not None and (device.wiped_at is None or device.wiped_at < requested)


def wipe_state(device: Device) -> str | None:
    """Describe the wipe for an admin: "requested", "done" or None (never ordered)."""
    if device.wipe_requested_at is None:
        return None
    return "requested" if wipe_pending(device) else "done"


def request_wipe(device_id: int, actor: Actor = CLI) -> Device:
    """Order a device to delete what the server has acknowledged; its next pull carries it.

    A wipe already waiting for the phone keeps its time (ordering it twice is one order);
    after the phone has carried one out, a new order starts a new wipe.
    """
    device = db.session.get(Device, device_id)
    if device is None:
        raise NotFound("not_found", f"no device with id {device_id}")
    if device.revoked_at is not None:
        raise Invalid(
            "device_revoked",
            f"device {device.id} is revoked: on its next request the phone deletes every "
            "report the server has, by itself",
        )
    if device.enrolled_at is None:
        raise Invalid("not_enrolled", f"device {device.id} is not enrolled: no phone to wipe")
    if not wipe_pending(device):
        device.wipe_requested_at = utcnow()
        audit.add(device.org_id, "device.wipe", f"device {device.id} {device.display_name}", actor)
    db.session.commit()
    return device


def confirm_wiped(device: Device, actor: Actor = CLI) -> Device:
    """Record that the phone carried out the wipe it was ordered (idempotent).

    Without a wipe waiting for it the call changes nothing, so a repeated confirmation (a
    lost answer, sent again) never moves the time.
    """
    with phase("write"):
        row = db.session.get(Device, device.id, populate_existing=True, with_for_update=True)
        if row is None:  # pragma: no cover - the token was just checked
            raise NotFound("not_found", f"no device with id {device.id}")
        if wipe_pending(row):
            row.wiped_at = utcnow()
            audit.add(row.org_id, "device.wiped", f"device {row.id} {row.display_name}", actor)
    return row


MAX_PENDING = 1_000_000


def parse_pending(text: str) -> int:
    """Read the outbox count a phone sends with its pull, or raise Invalid."""
    # isdigit() alone takes "²" and "١٢", which int() then refuses or reads as Arabic digits.
    if not (text.isascii() and text.isdigit()) or int(text) > MAX_PENDING:
        raise Invalid(
            "invalid_pending",
            f"pending must be a whole number from 0 to {MAX_PENDING}.",
        )
    return int(text)


def record_outbox(device: Device, pending: int) -> None:
    """Store how many unsent reports the phone holds, in a short write of its own."""
    with phase("write"):
        db.session.execute(
            update(Device)
            .where(Device.id == device.id)
            .values(outbox_pending=pending, outbox_reported_at=utcnow())
        )
    device.outbox_pending = pending


def device_kinds(device_ids: Iterable[int]) -> dict[int, str]:
    """Map device ids to their kinds (vaktare, faltare, …)."""
    ids = list(set(device_ids))
    if not ids:
        return {}
    return dict(db.session.execute(select(Device.id, Device.kind).where(Device.id.in_(ids))).all())


def list_devices(org_id: int) -> list[Device]:
    """Return the organisation's devices in the order they were made."""
    return list(
        db.session.scalars(select(Device).where(Device.org_id == org_id).order_by(Device.id))
    )
