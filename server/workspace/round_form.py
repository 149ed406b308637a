"""The workspace's checkpoint and round forms: read a request into a plan, or say what is wrong."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from server.domain_errors import Invalid
from server.rounds.models import Checkpoint, Round, RoundCheckpoint
from server.rounds.service import CheckpointPlan, RoundPlan
from sync.rounds import ALL_WEEKDAYS


@dataclass
class CheckpointForm:
    """The checkpoint form's values as typed, and its error."""

    name: str = ""
    lat: str = ""
    lon: str = ""
    radius: str = "50"
    area: str = ""
    instructions: str = ""
    error: str | None = None


@dataclass
class RoundForm:
    """The round form's values as typed, and its error."""

    name: str = ""
    window: str = "22:00-02:00"
    grace: str = "15"
    every: str = ""
    ordered: bool = False
    weekdays: set[int] = field(default_factory=lambda: set(ALL_WEEKDAYS))
    positions: dict[int, str] = field(default_factory=dict)  # checkpoint id → its number
    # The checkpoints left not required; every checkbox starts checked (required).
    optional: set[int] = field(default_factory=set)
    error: str | None = None


def _number(text: str, what: str, kind: type = float) -> Any:
    """Return a number typed in a form (a decimal comma too), or raise Invalid."""
    try:
        return kind(text.strip().replace(",", "."))
    except ValueError as exc:
        raise Invalid("bad_number", f"{what}: {text!r} is not a number.") from exc


def _id(text: str, what: str) -> int:
    """Return an id typed in a form; one beyond the database's integers names nothing."""
    value = _number(text, what, int)
    if not 0 < value < 2**31:
        raise Invalid("not_found", f"The organisation has no {what} {text.strip()}.")
    return value


def _text(value: str, what: str) -> str:
    """Return a typed text, or raise Invalid for a NUL (PostgreSQL cannot store it)."""
    if "\x00" in value:
        raise Invalid("bad_text", f"{what}: the text holds a NUL character; type it again.")
    return value


def checkpoint_form(data: Any) -> CheckpointForm:
    """Read the checkpoint form."""
    return CheckpointForm(
        name=data.get("name", ""),
        lat=data.get("lat", ""),
        lon=data.get("lon", ""),
        radius=data.get("radius", "50"),
        area=data.get("area", ""),
        instructions=data.get("instructions", ""),
    )


def checkpoint_plan(form: CheckpointForm) -> CheckpointPlan:
    """Turn the form into a plan, or raise Invalid."""
    return CheckpointPlan(
        name=_text(form.name, "name"),
        lat=_number(form.lat, "lat"),
        lon=_number(form.lon, "lon"),
        radius_m=_number(form.radius or "50", "radius", int),
        instructions=_text(form.instructions[:2000], "instructions"),
        area_id=_id(form.area, "area") if form.area else None,
    )


def round_form(data: Any, checkpoint_ids: list[int]) -> RoundForm:
    """Read the round form (a position per checkpoint, empty when it is not on the round)."""
    weekdays = {int(d) for d in data.getlist("weekday") if d in {str(i) for i in ALL_WEEKDAYS}}
    return RoundForm(
        name=data.get("name", ""),
        window=data.get("window", ""),
        grace=data.get("grace", "15"),
        every=data.get("every", ""),
        ordered=bool(data.get("ordered")),
        weekdays=weekdays,
        positions={i: data.get(f"pos_{i}", "").strip() for i in checkpoint_ids},
        # An unchecked box is not sent: the form carries `req_present` to tell a submitted
        # form (box unchecked = optional) from one without the boxes (all required).
        optional=(
            {i for i in checkpoint_ids if not data.get(f"req_{i}")}
            if data.get("req_present")
            else set()
        ),
    )


def round_plan(form: RoundForm) -> RoundPlan:
    """Turn the form into a plan: the checkpoints sorted by their numbers, or raise Invalid."""
    chosen = sorted(
        (_number(pos, "position", int), cp) for cp, pos in form.positions.items() if pos
    )
    return RoundPlan(
        name=_text(form.name, "name"),
        checkpoint_ids=tuple(cp for _, cp in chosen),
        window=form.window,
        ordered=form.ordered,
        grace_minutes=_number(form.grace or "15", "grace", int),
        every_minutes=_number(form.every, "every", int) if form.every.strip() else None,
        weekdays=tuple(sorted(form.weekdays)),
        optional_ids=frozenset(cp for _, cp in chosen if cp in form.optional),
    )


def checkpoint_form_of(cp: Checkpoint) -> CheckpointForm:
    """Fill the checkpoint form with a stored checkpoint's values."""
    return CheckpointForm(
        name=cp.name,
        lat=str(cp.lat),
        lon=str(cp.lon),
        radius=str(cp.radius_m),
        area=str(cp.area_id) if cp.area_id is not None else "",
        instructions=cp.instructions or "",
    )


def round_form_of(rnd: Round, stops: list[RoundCheckpoint]) -> RoundForm:
    """Fill the round form with a stored round's values (positions numbered from 1)."""
    return RoundForm(
        name=rnd.name,
        window=rnd.window,
        grace=str(rnd.grace_minutes),
        every=str(rnd.every_minutes) if rnd.every_minutes else "",
        ordered=rnd.ordered,
        weekdays=set(rnd.weekdays or ALL_WEEKDAYS),
        positions={st.checkpoint_id: str(st.position + 1) for st in stops},
        optional={st.checkpoint_id for st in stops if not st.required},
    )
