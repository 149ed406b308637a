"""Checkpoints and rounds of an organisation: create, find and list them."""

from __future__ import annotations

import math
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import exists, select

from server.domain_errors import Invalid, NotFound
from server.extensions import db
from server.geography.models import Area
from server.rounds.models import Checkpoint, Round, RoundCheckpoint
from sync.rounds import (
    ALL_WEEKDAYS,
    DEFAULT_GRACE_MINUTES,
    DEFAULT_RADIUS_M,
    Schedule,
    parse_window,
)

# No 0/O, 1/I/L: a guard types the code off a worn label, in the dark.
SHORT_CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
SHORT_CODE_LENGTH = 6
NAME_LENGTH = 120
MAX_RADIUS_M = 5000
MAX_GRACE_MINUTES = 240
MAX_ROUND_CHECKPOINTS = 100


@dataclass(frozen=True)
class CheckpointPlan:
    """What a coordinator (or the CLI) gives to create a checkpoint."""

    name: str
    lat: float
    lon: float
    radius_m: int = DEFAULT_RADIUS_M
    instructions: str = ""
    area_id: int | None = None
    nfc_serial: str | None = None


@dataclass(frozen=True)
class RoundPlan:
    """What a coordinator (or the CLI) gives to create a round."""

    name: str
    checkpoint_ids: tuple[int, ...]
    window: str
    ordered: bool = False
    grace_minutes: int = DEFAULT_GRACE_MINUTES
    every_minutes: int | None = None
    weekdays: tuple[int, ...] = ALL_WEEKDAYS
    optional_ids: frozenset[int] = frozenset()  # checkpoints that are not required


def qr_url(base_url: str, token: str) -> str:
    """Return the address a checkpoint's QR code holds (a hash: it never reaches a log)."""
    return f"{base_url.rstrip('/')}/#scan={token}"


def _name(text: str) -> str:
    """Return a trimmed name of 1..NAME_LENGTH characters, or raise Invalid."""
    name = (text or "").strip()
    if not name or len(name) > NAME_LENGTH:
        raise Invalid("invalid_name", f"The name must be 1–{NAME_LENGTH} characters.")
    return name


def check_position(lat: float, lon: float) -> tuple[float, float]:
    """Return a finite WGS 84 position, or raise Invalid."""
    if not all(isinstance(v, int | float) and math.isfinite(v) for v in (lat, lon)):
        raise Invalid("bad_position", "Latitude and longitude must be numbers.")
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise Invalid(
            "bad_position",
            f"{lat}, {lon} is not a position: latitude is -90..90 and longitude -180..180.",
        )
    return float(lat), float(lon)


def _short_code(org_id: int) -> str:
    """Return a short code not yet used in the organisation."""
    used = set(db.session.scalars(select(Checkpoint.short_code).where(Checkpoint.org_id == org_id)))
    while True:
        code = "".join(secrets.choice(SHORT_CODE_ALPHABET) for _ in range(SHORT_CODE_LENGTH))
        if code not in used:
            return code


def checked_checkpoint(org_id: int, plan: CheckpointPlan) -> dict[str, object]:
    """Return a checkpoint plan's checked values (name, position, radius, area …), or raise."""
    lat, lon = check_position(plan.lat, plan.lon)
    if not isinstance(plan.radius_m, int) or not 1 <= plan.radius_m <= MAX_RADIUS_M:
        raise Invalid("bad_radius", f"The radius must be 1–{MAX_RADIUS_M} metres.")
    if plan.area_id is not None:
        area = db.session.get(Area, plan.area_id)
        if area is None or area.org_id != org_id:
            raise NotFound("area_not_found", f"The organisation has no area {plan.area_id}.")
    return {
        "name": _name(plan.name),
        "lat": lat,
        "lon": lon,
        "radius_m": plan.radius_m,
        "instructions": (plan.instructions or "").strip()[:2000],
        "area_id": plan.area_id,
        "nfc_serial": (plan.nfc_serial or "").strip() or None,
    }


def create_checkpoint(org_id: int, plan: CheckpointPlan) -> Checkpoint:
    """Create a checkpoint with a fresh token and short code, and commit it."""
    checkpoint = Checkpoint(
        org_id=org_id,
        **checked_checkpoint(org_id, plan),
        # 16 random bytes: 22 url-safe characters, 128 bits nobody guesses.
        token=secrets.token_urlsafe(16),
        short_code=_short_code(org_id),
        active=True,
    )
    db.session.add(checkpoint)
    db.session.commit()
    return checkpoint


def parse_ids(text: str) -> tuple[int, ...]:
    """Return the ids of a comma-separated list, or raise Invalid."""
    parts = [p.strip() for p in (text or "").split(",") if p.strip()]
    # An id is ASCII digits within the database's integers ("²" is a digit to Python).
    if not parts or not all(p.isascii() and p.isdigit() and int(p) < 2**31 for p in parts):
        raise Invalid("bad_checkpoints", f"{text!r} is not a list of checkpoint ids (1,2,3).")
    return tuple(int(p) for p in parts)


def parse_optional(text: str | None, checkpoint_ids: Sequence[int]) -> frozenset[int]:
    """Return the optional checkpoints of a comma-separated list, all on the round, or raise."""
    if text is None:
        return frozenset()
    parts = [p.strip() for p in text.split(",") if p.strip()]
    if not parts or not all(p.isdigit() for p in parts):
        raise Invalid("bad_optional", f"--optional {text!r} is not a list of checkpoint ids (2,5).")
    ids = frozenset(int(p) for p in parts)
    strays = sorted(ids - set(checkpoint_ids))
    if strays:
        raise Invalid(
            "bad_optional",
            f"--optional names checkpoint {', '.join(map(str, strays))}, "
            "which is not in --checkpoints.",
        )
    return ids


def checked_round(org_id: int, plan: RoundPlan) -> dict[str, object]:
    """Return a round plan's checked values (its checkpoint ids in order too), or raise."""
    try:
        window = parse_window(plan.window)
    except ValueError as exc:
        raise Invalid("bad_window", str(exc)) from exc
    if not 0 <= plan.grace_minutes <= MAX_GRACE_MINUTES:
        raise Invalid("bad_grace", f"The grace period must be 0–{MAX_GRACE_MINUTES} minutes.")
    if plan.every_minutes is not None and not 5 <= plan.every_minutes <= 24 * 60:
        raise Invalid("bad_every", "A run every N minutes needs N between 5 and 1440.")
    weekdays = tuple(sorted(set(plan.weekdays)))
    if not weekdays or any(d not in ALL_WEEKDAYS for d in weekdays):
        raise Invalid("bad_weekdays", "Choose at least one weekday (0 is Monday, 6 Sunday).")
    ids = plan.checkpoint_ids
    if not ids or len(ids) > MAX_ROUND_CHECKPOINTS or len(set(ids)) != len(ids):
        raise Invalid(
            "bad_checkpoints",
            f"A round has 1–{MAX_ROUND_CHECKPOINTS} different checkpoints.",
        )
    own = set(
        db.session.scalars(
            select(Checkpoint.id).where(Checkpoint.id.in_(ids), Checkpoint.org_id == org_id)
        )
    )
    strangers = [i for i in ids if i not in own]
    if strangers:
        raise NotFound(
            "unknown_checkpoint",
            f"The organisation has no checkpoint {', '.join(map(str, strangers))}.",
        )
    return {
        "name": _name(plan.name),
        "ordered": plan.ordered,
        "weekdays": list(weekdays),
        "window": window.text(),
        "every_minutes": plan.every_minutes,
        "grace_minutes": plan.grace_minutes,
    }


def add_stops(round_id: int, plan: RoundPlan) -> None:
    """Add a round's checkpoints in the plan's order, required unless named optional."""
    for position, cp in enumerate(plan.checkpoint_ids):
        db.session.add(
            RoundCheckpoint(
                round_id=round_id,
                position=position,
                checkpoint_id=cp,
                required=cp not in plan.optional_ids,
            )
        )


def create_round(org_id: int, plan: RoundPlan) -> Round:
    """Create a round over the organisation's checkpoints and commit it."""
    created = Round(org_id=org_id, **checked_round(org_id, plan), active=True)
    db.session.add(created)
    db.session.flush()
    add_stops(created.id, plan)
    db.session.commit()
    return created


def schedule_of(round_: Round) -> Schedule:
    """Return the pure schedule of a stored round."""
    return Schedule(
        window=parse_window(round_.window),
        weekdays=tuple(round_.weekdays or ALL_WEEKDAYS),
        every_minutes=round_.every_minutes,
        grace_minutes=round_.grace_minutes,
    )


def checkpoints(org_id: int, *, active_only: bool = False) -> list[Checkpoint]:
    """Return the organisation's checkpoints by name."""
    query = select(Checkpoint).where(Checkpoint.org_id == org_id)
    if active_only:
        query = query.where(Checkpoint.active.is_(True))
    return list(db.session.scalars(query.order_by(Checkpoint.name, Checkpoint.id)))


def rounds(org_id: int, *, active_only: bool = False) -> list[Round]:
    """Return the organisation's rounds by name."""
    query = select(Round).where(Round.org_id == org_id)
    if active_only:
        query = query.where(Round.active.is_(True))
    return list(db.session.scalars(query.order_by(Round.name, Round.id)))


def round_stops(round_ids: Sequence[int]) -> dict[int, list[RoundCheckpoint]]:
    """Return each round's checkpoints in order."""
    out: dict[int, list[RoundCheckpoint]] = {i: [] for i in round_ids}
    if not round_ids:
        return out
    rows = db.session.scalars(
        select(RoundCheckpoint)
        .where(RoundCheckpoint.round_id.in_(list(round_ids)))
        .order_by(RoundCheckpoint.round_id, RoundCheckpoint.position)
    )
    for row in rows:
        out[row.round_id].append(row)
    return out


def active_stops(round_id: int) -> list[RoundCheckpoint]:
    """Return a round's checkpoints in order, leaving out the inactive ones (not asked for)."""
    stops = round_stops([round_id])[round_id]
    ids = [st.checkpoint_id for st in stops]
    active = set(
        db.session.scalars(
            select(Checkpoint.id).where(Checkpoint.id.in_(ids), Checkpoint.active.is_(True))
        )
    )
    return [st for st in stops if st.checkpoint_id in active]


def has_checkpoints(org_id: int) -> bool:
    """Tell whether the organisation uses rounds at all (has a checkpoint)."""
    return bool(db.session.scalar(select(exists().where(Checkpoint.org_id == org_id))))


def get_checkpoint(org_id: int, checkpoint_id: int) -> Checkpoint:
    """Return the organisation's checkpoint, or raise NotFound."""
    found = db.session.get(Checkpoint, checkpoint_id)
    if found is None or found.org_id != org_id:
        raise NotFound(
            "checkpoint_not_found", f"The organisation has no checkpoint {checkpoint_id}."
        )
    return found


def get_round(org_id: int, round_id: int) -> Round:
    """Return the organisation's round, or raise NotFound."""
    found = db.session.get(Round, round_id)
    if found is None or found.org_id != org_id:
        raise NotFound("round_not_found", f"The organisation has no round {round_id}.")
    return found
