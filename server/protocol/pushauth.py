"""Device authentication for the push, with the category codes read by the same query."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import ParamSpec, TypeVar

from flask import g
from sqlalchemy import bindparam, select, true

from server.categories.models import Category
from server.categories.service import category_codes
from server.db import phase
from server.devices.auth import bearer_token
from server.devices.models import Device
from server.devices.service import needs_touch, refuse_unusable, sha256_hex, touch
from server.extensions import db

P = ParamSpec("P")
R = TypeVar("R")
_DEVICES = Device.__table__
_CATEGORIES = Category.__table__
# One row per category, each carrying the device's columns (a device and no categories
# still gives one row, its category columns NULL).
_BY_TOKEN = (
    select(
        _DEVICES.c.id,
        _DEVICES.c.org_id,
        _DEVICES.c.last_seen_at,
        _DEVICES.c.revoked_at,
        _CATEGORIES.c.code,
        _CATEGORIES.c.active,
    )
    .select_from(_DEVICES.outerjoin(_CATEGORIES, true()))
    .where(_DEVICES.c.token_hash == bindparam("token_hash"))
)


@dataclass(frozen=True)
class PushDevice:
    """The columns of the authenticated device that a push needs (no ORM object)."""

    id: int
    org_id: int
    last_seen_at: datetime | None
    revoked_at: datetime | None


Codes = tuple[set[str], set[str]]


def device_and_codes(token: str) -> tuple[PushDevice, Codes]:
    """Find the token's usable device and every category code and the active ones."""
    params = {"token_hash": sha256_hex(token)}
    rows = db.session.connection().execute(_BY_TOKEN, params).all()
    refuse_unusable(rows[0] if rows else None)
    first = rows[0]
    device = PushDevice(first.id, first.org_id, first.last_seen_at, first.revoked_at)
    every = {r.code for r in rows if r.code is not None}
    active = {r.code for r in rows if r.code is not None and r.active}
    return device, (every, active)


def push_device_required(view: Callable[P, R]) -> Callable[P, R]:
    """As `device_required`, in one query that also reads the category codes for the push."""

    @functools.wraps(view)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        token = bearer_token()
        with phase("read"):
            device, codes = device_and_codes(token)
        if needs_touch(device):
            with phase("write"):
                touch(device)
        g.device = device
        g.push_codes = codes
        return view(*args, **kwargs)

    return wrapper


def push_codes() -> Codes:
    """Return the category codes read with the device, or read them now."""
    codes: Codes | None = g.get("push_codes")
    if codes is not None:
        return codes
    with phase("read"):
        return category_codes()
