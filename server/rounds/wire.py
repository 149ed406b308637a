"""Parse the `scans` and `round_runs` of a push, item by item (a bad one is rejected alone)."""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from server.rounds.models import SCAN_METHODS

EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
MAX_OFFSET = timedelta(hours=18)
MAX_REASON = 500
MAX_SCANS = 500
MAX_ROUND_RUNS = 50
# A skew beyond a week is a phone whose clock is broken, not one that drifted.
MAX_SKEW_MS = 7 * 24 * 3600 * 1000

UNKNOWN_CHECKPOINT = (
    "No checkpoint has this code. Check the label, or type the short code printed under "
    "the QR code; if it still fails, tell your coordinator."
)


class Refused(Exception):
    """One item breaks a rule: it is answered `rejected` with this code and message."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class ScanIn:
    """One pushed scan, parsed; `error` set when it is rejected."""

    raw_id: Any
    id: uuid.UUID | None = None
    token: str | None = None
    short_code: str | None = None
    scanned_at: datetime | None = None  # as the device sent it (its clock)
    lat: float | None = None
    lon: float | None = None
    accuracy: float | None = None
    round_run: uuid.UUID | None = None
    method: str | None = None
    error: Refused | None = None


@dataclass
class RunIn:
    """One pushed round run, parsed; `error` set when it is rejected."""

    raw_id: Any
    id: uuid.UUID | None = None
    round_id: int | None = None
    started_at: datetime | None = None
    ended_at: datetime | None = None
    end_reason: str | None = None
    error: Refused | None = None
    outcome: str = ""  # created, updated or duplicate once stored


def check_skew(value: Any) -> int:
    """Return the phone's measured clock skew in ms (server minus phone), 0 when absent."""
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int) or abs(value) > MAX_SKEW_MS:
        raise ValueError("clock_skew_ms must be a whole number of milliseconds within a week.")
    return value


def _uuid(value: Any, what: str) -> uuid.UUID:
    """Return a UUID from its text, or refuse the item."""
    if isinstance(value, str):
        try:
            return uuid.UUID(value)
        except ValueError:
            pass
    raise Refused("invalid", f"{what} must be a UUID made by the app.")


def device_time(value: Any, what: str, latest: datetime, skew: timedelta) -> datetime:
    """Return an aware device time that, corrected by the skew, is plausible; or refuse it."""
    moment = None
    if isinstance(value, str) and len(value) <= 64:
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            moment = None
    if moment is None:
        raise Refused(
            "bad_time", f"{what} must be a date and time such as 2026-05-01T22:10:00+02:00."
        )
    offset = moment.utcoffset()
    if offset is None or offset.total_seconds() % 60 or abs(offset) > MAX_OFFSET:
        raise Refused("bad_time", f"{what} must include its UTC offset, e.g. +01:00.")
    try:
        corrected = moment.astimezone(UTC) + skew
    except OverflowError:
        # Near year 1 or 9999 the conversion leaves the calendar: no phone's clock is there.
        raise Refused(
            "bad_time", f"{what} is not a plausible time; check the phone's clock."
        ) from None
    if corrected < EARLIEST:
        raise Refused("bad_time", f"{what} is before the year 2000; check the phone's clock.")
    if corrected > latest:
        raise Refused("bad_time", f"{what} is in the future; check the phone's clock.")
    return moment.astimezone(UTC)


def storable(text: str) -> bool:
    """Tell whether a text can be stored: no NUL (PostgreSQL refuses it), valid UTF-8."""
    if "\x00" in text:
        return False
    try:
        # A lone surrogate ("\ud800") is valid JSON but no database can encode it.
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _code(value: Any, what: str, longest: int) -> str:
    """Return a non-empty short text, or refuse the item."""
    if (
        not isinstance(value, str)
        or not value.strip()
        or len(value) > longest
        or not storable(value)
    ):
        raise Refused("invalid", f"{what} must be a text of 1–{longest} characters.")
    return value.strip()


def _number(value: Any, low: float, high: float, what: str) -> float:
    """Return a finite number in range, or refuse the item."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise Refused("invalid", f"{what} must be a number.")
    if not low <= value <= high:
        raise Refused("invalid", f"{what} must be between {low:g} and {high:g}.")
    return float(value)


def parse_scan(raw: Any, latest: datetime, skew: timedelta) -> ScanIn:
    """Parse one pushed scan; a rule it breaks is kept as its error."""
    item = ScanIn(_echo(raw))
    try:
        if not isinstance(raw, dict):
            raise Refused("invalid", "Each scan must be a JSON object.")
        item.id = _uuid(raw.get("id"), "The scan's id")
        token, short = raw.get("token"), raw.get("short_code")
        if (token is None) == (short is None):
            raise Refused(
                "invalid", "A scan names its checkpoint by token or by short_code, one of them."
            )
        if token is not None:
            item.token = _code(token, "token", 64)
        else:
            item.short_code = _code(short, "short_code", 12).upper()
        item.scanned_at = device_time(raw.get("scanned_at"), "scanned_at", latest, skew)
        location = raw.get("location")
        if location is not None:
            if not isinstance(location, dict):
                raise Refused("invalid", "location must be an object with lat and lon.")
            item.lat = _number(location.get("lat"), -90, 90, "location.lat")
            item.lon = _number(location.get("lon"), -180, 180, "location.lon")
            accuracy = location.get("accuracy", location.get("accuracy_m"))
            if accuracy is not None:
                item.accuracy = _number(accuracy, 0, 100_000, "location.accuracy")
        if raw.get("round_run") is not None:
            item.round_run = _uuid(raw.get("round_run"), "round_run")
        method = raw.get("method")
        if method is not None and method not in SCAN_METHODS:
            raise Refused("invalid", f"method must be one of {', '.join(SCAN_METHODS)}.")
        item.method = method
    except Refused as exc:
        item.error = exc
    return item


def parse_run(raw: Any, latest: datetime, skew: timedelta) -> RunIn:
    """Parse one pushed round run; round_id and started_at are checked when it is new."""
    item = RunIn(_echo(raw))
    try:
        if not isinstance(raw, dict):
            raise Refused("invalid", "Each round run must be a JSON object.")
        item.id = _uuid(raw.get("id"), "The round run's id")
        round_id = raw.get("round_id")
        if round_id is not None:
            if (
                isinstance(round_id, bool)
                or not isinstance(round_id, int)
                or not 0 < round_id < 2**31
            ):
                raise Refused("invalid", "round_id must be the id of a round.")
            item.round_id = round_id
        if raw.get("started_at") is not None:
            item.started_at = device_time(raw["started_at"], "started_at", latest, skew)
        if raw.get("ended_at") is not None:
            item.ended_at = device_time(raw["ended_at"], "ended_at", latest, skew)
            if item.started_at is not None and item.ended_at < item.started_at:
                raise Refused("bad_time", "ended_at is before started_at.")
        reason = raw.get("end_reason")
        if reason is not None:
            if not isinstance(reason, str) or len(reason) > MAX_REASON or not storable(reason):
                raise Refused(
                    "invalid", f"end_reason must be a text of at most {MAX_REASON} characters."
                )
            item.end_reason = reason.strip() or None
    except Refused as exc:
        item.error = exc
    return item


def rejected(raw_id: Any, error: Refused, **extra: Any) -> dict[str, Any]:
    """Render a rejected item's result."""
    return {
        "id": raw_id,
        "status": "rejected",
        **extra,
        "error": {"code": error.code, "message": error.message},
    }


def _echo(raw: Any) -> str | None:
    """Return the item's id exactly as sent, for the client to match results by."""
    value = raw.get("id") if isinstance(raw, dict) else None
    return value if isinstance(value, str) else None
