"""Paired input/output schemas of the device protocol: push, pull and photos."""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, datetime, timedelta
from typing import Any

from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate, validates_schema

from server.categories.schemas import CategoryOut
from server.rounds.schemas import (
    CheckpointOut,
    RoundOut,
    RoundRunDoc,
    RoundRunResultOut,
    ScanDoc,
    ScanResultOut,
)
from server.walks.models import FOLLOW_UP_MARKS
from server.walks.schemas import WalkOut
from sync.ids import SHA256_PATTERN

EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
MAX_PHOTOS = 20
MAX_OFFSET = timedelta(hours=18)
MAX_WALK_ID = 2**31 - 1
MAX_WALK_STOP = 999
FEELINGS = ("unsafe", "neutral", "safe")
WALK_ONLY = "Only a walk observation (with walk_id) has this."
MARK_PAIR = "A follow-up mark needs both follows (the observation's id) and follow_up."


class Text(fields.String):
    """A string that every database can store: valid UTF-8 and no NUL characters."""

    default_error_messages = {  # noqa: RUF012 - marshmallow merges this class attribute
        "unstorable": "The text contains characters that cannot be stored (invalid Unicode)."
    }

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kw: Any) -> Any:
        text = super()._deserialize(value, attr, data, **kw)
        if text is not None:
            try:
                text.encode("utf-8")
            except UnicodeEncodeError as exc:
                raise self.make_error("unstorable") from exc
            if "\x00" in text:
                raise self.make_error("unstorable")
        return text


class LocationIn(Schema):
    """A position from the phone's GPS (extra keys such as altitude are ignored)."""

    class Meta:
        unknown = EXCLUDE

    lat = fields.Float(
        required=True,
        validate=validate.Range(-90, 90, error="Latitude must be between -90 and 90 degrees."),
    )
    lon = fields.Float(
        required=True,
        validate=validate.Range(-180, 180, error="Longitude must be between -180 and 180 degrees."),
    )
    accuracy_m = fields.Float(
        load_default=None,
        allow_none=True,
        validate=validate.Range(0, 100_000, error="Accuracy must be 0–100,000 metres."),
    )


class ReportIn(Schema):
    """One report as a device sends it; unknown keys (e.g. "status") are ignored."""

    class Meta:
        unknown = EXCLUDE

    id = fields.UUID(required=True, error_messages={"invalid_uuid": "The id must be a UUID."})
    created_at = fields.AwareDateTime(
        required=True,
        error_messages={
            "invalid": "The time must be RFC 3339, e.g. 2026-11-21T02:13:00+01:00.",
            "invalid_awareness": "The time must include its UTC offset, e.g. +01:00.",
        },
    )
    updated_at = fields.AwareDateTime(
        load_default=None,
        allow_none=True,
        error_messages={"invalid_awareness": "The edit time must include its UTC offset."},
    )
    revision = fields.Integer(load_default=0, strict=True, validate=validate.Range(0, 2**31 - 1))
    category = Text(required=True, validate=validate.Length(1, 40))
    severity = fields.Integer(
        load_default=None,
        allow_none=True,
        strict=True,
        validate=validate.OneOf([1, 2, 3], error="Severity must be 1 (låg), 2 (medel) or 3 (hög)."),
    )
    description = Text(
        load_default="",
        allow_none=True,
        validate=validate.Length(max=4000, error="The description is longer than 4000 characters."),
    )
    location = fields.Nested(LocationIn, load_default=None, allow_none=True)
    place = Text(
        load_default="",
        allow_none=True,
        validate=validate.Length(max=200, error="The place is longer than 200 characters."),
    )
    people_count = fields.Integer(
        load_default=None,
        allow_none=True,
        strict=True,
        validate=validate.Range(0, 10_000, error="The number of people must be 0–10,000."),
    )
    photos = fields.List(
        fields.String(
            validate=validate.Regexp(
                f"^{SHA256_PATTERN}$", error="A photo is named by its SHA-256 in hex."
            )
        ),
        load_default=list,
        validate=validate.Length(max=MAX_PHOTOS, error=f"At most {MAX_PHOTOS} photos per report."),
    )
    # A walk observation (server.walks): the walk, its stop and how the place felt. Whether
    # the walk exists, is the organisation's and is on the report's day is the push's check.
    walk_id = fields.Integer(
        load_default=None,
        allow_none=True,
        strict=True,
        validate=validate.Range(1, MAX_WALK_ID, error="The walk id must be a positive number."),
    )
    walk_stop = fields.Integer(
        load_default=None,
        allow_none=True,
        strict=True,
        validate=validate.Range(
            1, MAX_WALK_STOP, error=f"The stop number must be 1–{MAX_WALK_STOP}."
        ),
    )
    feeling = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.OneOf(FEELINGS, error="The feeling must be unsafe, neutral or safe."),
    )

    # A follow-up walk's mark (server.walks.followup): the earlier observation re-checked
    # and whether it is åtgärdat or kvarstår. Whether it is open is the push's check.
    follows = fields.UUID(
        load_default=None,
        allow_none=True,
        error_messages={"invalid_uuid": "follows must be the id (a UUID) of an observation."},
    )
    follow_up = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.OneOf(
            FOLLOW_UP_MARKS, error="follow_up must be atgardat (åtgärdat) or kvarstar (kvarstår)."
        ),
    )

    def __init__(
        self, *, categories: Collection[str], now: datetime, future_skew: timedelta, **kw: Any
    ) -> None:
        super().__init__(**kw)
        self.categories = categories
        self.now = now
        self.future_skew = future_skew

    @validates_schema(skip_on_field_errors=False)
    def _check_rules(self, data: dict[str, Any], **_kw: Any) -> None:
        """Apply the rules that depend on the server's state and clock."""
        errors: dict[str, list[str]] = {}
        cat = data.get("category")
        if isinstance(cat, str) and cat not in self.categories:
            errors["category"] = [f"Unknown category {cat!r}. Update the app's category list."]
        latest = self.now + self.future_skew
        hours = int(self.future_skew.total_seconds() // 3600)
        for key in ("created_at", "updated_at"):
            when = data.get(key)
            if when is None:
                continue
            offset = when.utcoffset()
            if offset is None or offset.total_seconds() % 60 or abs(offset) > MAX_OFFSET:
                errors[key] = ["The UTC offset must be whole minutes within ±18:00."]
            elif when < EARLIEST:
                errors[key] = ["The time is before the year 2000; check the phone's clock."]
            elif when > latest:
                errors[key] = [
                    f"The time is more than {hours} hours in the future; check the phone's clock."
                ]
        photos = data.get("photos") or []
        if len(set(photos)) != len(photos):
            errors["photos"] = ["The same photo is listed twice."]
        if data.get("walk_id") is None:
            for key in ("walk_stop", "feeling", "follows", "follow_up"):
                if data.get(key) is not None:
                    errors.setdefault(key, []).append(WALK_ONLY)
        elif (data.get("follows") is None) != (data.get("follow_up") is None):
            key = "follows" if data.get("follows") is None else "follow_up"
            errors.setdefault(key, []).append(MARK_PAIR)
        if errors:
            raise ValidationError(errors)


class ReportInDoc(ReportIn):
    """ReportIn without the request-time arguments, for the OpenAPI document only."""

    def __init__(self, **kw: Any) -> None:
        super().__init__(categories=(), now=datetime.now(UTC), future_skew=timedelta(0), **kw)


class CommentOut(Schema):
    """A coordinator comment as the device sees it (never the author's name)."""

    id = fields.Integer()
    body = fields.String()
    created_at = fields.AwareDateTime()


class PushResultOut(Schema):
    """The server's answer for one pushed report."""

    id = fields.String(allow_none=True, metadata={"description": "The report id as sent."})
    status = fields.String(
        metadata={"enum": ["created", "duplicate", "updated", "gone", "rejected"]}
    )
    errors = fields.Dict(
        keys=fields.String(), metadata={"description": "Field → messages (rejected only)."}
    )
    version = fields.Integer(metadata={"description": "Server version of the report."})
    missing_photos = fields.List(
        fields.String(), metadata={"description": "Photos named but not yet uploaded."}
    )


class PushIn(Schema):
    """A batch of reports, and guard round scans and runs (docs/rounds.md)."""

    reports = fields.List(
        fields.Nested(lambda: ReportInDoc()),
        metadata={"description": "Required unless the push holds scans or round_runs."},
    )
    scans = fields.List(fields.Nested(ScanDoc), metadata={"description": "At most 500."})
    round_runs = fields.List(fields.Nested(RoundRunDoc), metadata={"description": "At most 50."})
    clock_skew_ms = fields.Integer(
        metadata={
            "description": "The phone's measured clock skew (server time minus phone time, "
            "as the pull's server_time gives it); scan and run times are stored as sent and "
            "corrected by it. Absent: 0."
        }
    )


class PushOut(Schema):
    """The answer to a push: one result per report, in order."""

    results = fields.List(fields.Nested(PushResultOut))
    scan_results = fields.List(
        fields.Nested(ScanResultOut), metadata={"description": "When the push had scans."}
    )
    round_run_results = fields.List(
        fields.Nested(RoundRunResultOut), metadata={"description": "When it had round_runs."}
    )
    server_time = fields.AwareDateTime()


class ReportStateOut(Schema):
    """Server-side state of one of the device's reports, as returned by a pull."""

    id = fields.String()
    status = fields.String()
    version = fields.Integer()
    updated_at = fields.AwareDateTime()
    missing_photos = fields.List(fields.String())
    comments = fields.List(fields.Nested(CommentOut))


class RetentionOut(Schema):
    """What the phone keeps, as the server tells it."""

    phone_days = fields.Integer(
        metadata={
            "description": "Days after the server acknowledged a report (and has its photos) "
            "before the phone deletes its text, place, position and photos, keeping only what "
            "'Mina rapporter' shows (LAGESBILD_PHONE_KEEP_DAYS)."
        }
    )


class AcknowledgedOut(Schema):
    """The on-call person acknowledged the alert of one of the phone's urgent reports."""

    report_id = fields.String()
    at = fields.AwareDateTime()


class OnCallOut(Schema):
    """The organisation's on-call number for the phone's offline fallback."""

    phone = fields.String(metadata={"description": "E.164, e.g. +46701234567"})


class PullOut(Schema):
    """Changes since a cursor."""

    cursor = fields.String()
    reset = fields.Boolean(metadata={"description": "True when this is a full resync."})
    more = fields.Boolean(metadata={"description": "True when another page follows."})
    reports = fields.List(fields.Nested(ReportStateOut))
    deleted = fields.List(fields.String())
    categories = fields.List(fields.Nested(CategoryOut))
    server_time = fields.AwareDateTime()
    retention = fields.Nested(RetentionOut)
    wipe = fields.Boolean(
        metadata={
            "description": "True when an admin ordered a wipe (`lagesbild device wipe`): the "
            "phone deletes every report the server acknowledged, with its photos, keeps the "
            "unsent ones, then calls POST /api/v1/device/wiped."
        }
    )
    walks = fields.List(
        fields.Nested(WalkOut),
        metadata={
            "description": "The organisation's planned safety walks from yesterday to a week "
            "ahead: a report joins one with walk_id (and walk_stop, feeling; a follow-up "
            "walk's mark also with follows and follow_up)."
        },
    )
    checkpoints = fields.List(
        fields.Nested(CheckpointOut),
        metadata={"description": "The organisation's guard round checkpoints (often none)."},
    )
    rounds = fields.List(
        fields.Nested(RoundOut),
        metadata={"description": "The organisation's guard rounds (empty without checkpoints)."},
    )
    acknowledged = fields.List(
        fields.Nested(AcknowledgedOut),
        metadata={
            "description": "The device's urgent reports whose alert the on-call person "
            "acknowledged in the last 24 hours (on every pull; marking twice is harmless)."
        },
    )
    on_call = fields.Nested(
        OnCallOut,
        allow_none=True,
        metadata={"description": "The on-call number (`tel:`/`sms:` fallback), or null."},
    )


class PhotoOut(Schema):
    """A stored photo's metadata."""

    sha256 = fields.String()
    format = fields.String(attribute="source_format")
    width = fields.Integer()
    height = fields.Integer()
    bytes = fields.Integer(metadata={"description": "Size of the upload in bytes."})
    created = fields.Boolean(metadata={"description": "False when it was already stored."})
