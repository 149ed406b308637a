"""A fast check of one pushed report that decides exactly as the ReportIn schema does.

Marshmallow's field machinery costs most of a push's validation time, yet nearly every
pushed report is well-formed. This module repeats the schema's rules with the same
primitives (``uuid.UUID``, ``datetime.fromisoformat``, ``float``, the same regex) and no
per-field framework, so it accepts exactly what ReportIn accepts and returns the same
data. It never explains a rejection: the caller runs the schema for the messages.
tests/unit/test_fastcheck.py compares the two on generated reports.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from server.protocol.schemas import (
    EARLIEST,
    FEELINGS,
    MAX_OFFSET,
    MAX_PHOTOS,
    MAX_WALK_ID,
    MAX_WALK_STOP,
)
from server.walks.models import FOLLOW_UP_MARKS
from sync.ids import SHA256_PATTERN

_PHOTO = re.compile(f"^{SHA256_PATTERN}$")  # the schema's Regexp, `$` and all
_MISSING = object()
_BAD = object()  # a value the schema rejects
_INF = float("inf")
_MAX_REVISION = 2**31 - 1


@dataclass(frozen=True)
class Rules:
    """The request-time arguments of ReportIn: known codes, the server's clock, the skew."""

    categories: Collection[str]
    now: datetime
    future_skew: timedelta

    @property
    def latest(self) -> datetime:
        """Return the latest device time the schema accepts."""
        return self.now + self.future_skew


def fast_load(raw: dict[str, Any], rules: Rules) -> dict[str, Any] | None:
    """Return what ReportIn(...).load(raw) returns, or None when the schema rejects it."""
    get = raw.get
    rid = get("id", _MISSING)
    if not isinstance(rid, str):
        return None
    try:
        report_id = uuid.UUID(rid)
    except ValueError:
        return None
    latest = rules.latest
    created = _when(get("created_at", _MISSING), latest, required=True)
    updated = _when(get("updated_at", _MISSING), latest, required=False)
    revision = _integer(get("revision", _MISSING), 0, _MAX_REVISION, default=0, nullable=False)
    category = _text(get("category", _MISSING), 40, default=_BAD, nullable=False)
    if category is not _BAD and (not category or category not in rules.categories):
        category = _BAD
    values = (
        created,
        updated,
        revision,
        category,
        severity := _severity(get("severity", _MISSING)),
        description := _text(get("description", _MISSING), 4000, default="", nullable=True),
        location := _location(get("location", _MISSING)),
        place := _text(get("place", _MISSING), 200, default="", nullable=True),
        people := _integer(get("people_count", _MISSING), 0, 10_000, default=None, nullable=True),
        photos := _photos(get("photos", _MISSING)),
        walk_id := _integer(get("walk_id", _MISSING), 1, MAX_WALK_ID, default=None, nullable=True),
        stop := _integer(get("walk_stop", _MISSING), 1, MAX_WALK_STOP, default=None, nullable=True),
        feeling := _feeling(get("feeling", _MISSING)),
        follows := _follows(get("follows", _MISSING)),
        follow_up := _follow_up(get("follow_up", _MISSING)),
    )
    # `in` compares by identity first, and no parsed value (str, number, datetime, UUID,
    # dict, list, None) equals a bare object(): the same test as `is _BAD`, in C.
    if _BAD in values:
        return None
    if walk_id is None and (
        stop is not None or feeling is not None or follows is not None or follow_up is not None
    ):
        return None  # a stop, a feeling or a mark belongs to a walk observation only
    if (follows is None) != (follow_up is None):
        return None  # a mark names the observation and its mark together
    return {
        "id": report_id,
        "created_at": created,
        "updated_at": updated,
        "revision": revision,
        "category": category,
        "severity": severity,
        "description": description,
        "location": location,
        "place": place,
        "people_count": people,
        "photos": photos,
        "walk_id": walk_id,
        "walk_stop": stop,
        "feeling": feeling,
        "follows": follows,
        "follow_up": follow_up,
    }


def _follows(value: Any) -> Any:
    """Check follows: a UUID (as the schema's fields.UUID parses a JSON string) or null."""
    if value is _MISSING or value is None:
        return None
    if not isinstance(value, str):
        return _BAD  # a JSON number, list or object: uuid.UUID refuses it
    try:
        return uuid.UUID(value)
    except ValueError:
        return _BAD


def _follow_up(value: Any) -> Any:
    """Check follow_up: a String, one of FOLLOW_UP_MARKS, or null."""
    if value is _MISSING or value is None:
        return None
    if not isinstance(value, str):
        return _BAD
    return value if value in FOLLOW_UP_MARKS else _BAD


def _feeling(value: Any) -> Any:
    """Check the feeling: a String, one of FEELINGS, or null."""
    if value is _MISSING or value is None:
        return None
    if not isinstance(value, str):
        return _BAD
    return value if value in FEELINGS else _BAD


def _when(value: Any, latest: datetime, *, required: bool) -> Any:
    """Check an AwareDateTime and the schema's offset and range rules."""
    if value is _MISSING:
        return _BAD if required else None
    if value is None:
        return _BAD if required else None
    if not isinstance(value, str):
        return _BAD
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        return _BAD
    offset = when.utcoffset()
    if offset is None:
        return _BAD  # naive: the schema wants the offset
    if offset.total_seconds() % 60 or abs(offset) > MAX_OFFSET:
        return _BAD
    if when < EARLIEST or when > latest:
        return _BAD
    return when


def _integer(value: Any, low: int, high: int, *, default: Any, nullable: bool) -> Any:
    """Check a strict Integer with a Range."""
    if value is _MISSING:
        return default
    if value is None:
        return None if nullable else _BAD
    # bool is an int subclass, but the schema refuses it as a number.
    if value is True or value is False or not isinstance(value, int):
        return _BAD
    return value if low <= value <= high else _BAD


def _severity(value: Any) -> Any:
    """Check the severity: a strict Integer, one of 1, 2, 3, or null."""
    if value is _MISSING or value is None:
        return None
    if value is True or value is False or not isinstance(value, int):
        return _BAD
    return value if value in (1, 2, 3) else _BAD


def _text(value: Any, longest: int, *, default: Any, nullable: bool) -> Any:
    """Check a Text field (storable UTF-8, no NUL) with a maximum length."""
    if value is _MISSING:
        return default
    if value is None:
        return None if nullable else _BAD
    if not isinstance(value, str) or len(value) > longest:
        return _BAD
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate, as JSON's \ud800 gives
            return _BAD
    return _BAD if "\x00" in value else value


def _number(value: Any, low: float, high: float) -> Any:
    """Check a Float (numbers and numeric strings, never bool, NaN or infinity) in a Range."""
    if value is True or value is False:
        return _BAD
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        return _BAD
    if number != number or number in (_INF, -_INF):
        return _BAD
    return number if low <= number <= high else _BAD


def _location(value: Any) -> Any:
    """Check the nested LocationIn (extra keys ignored)."""
    if value is _MISSING or value is None:
        return None
    if not isinstance(value, dict):
        return _BAD
    lat = value.get("lat")
    lon = value.get("lon")
    if lat is None or lon is None:
        return _BAD  # required and not nullable
    accuracy = value.get("accuracy_m")
    loc = {
        "lat": _number(lat, -90, 90),
        "lon": _number(lon, -180, 180),
        "accuracy_m": None if accuracy is None else _number(accuracy, 0, 100_000),
    }
    return _BAD if _BAD in loc.values() else loc


def _photos(value: Any) -> Any:
    """Check the photo list: at most MAX_PHOTOS distinct SHA-256 names."""
    if value is _MISSING:
        return []
    if not isinstance(value, list) or len(value) > MAX_PHOTOS:
        return _BAD
    for name in value:
        if not isinstance(name, str) or _PHOTO.match(name) is None:
            return _BAD
    if len(set(value)) != len(value):
        return _BAD
    return list(value)
