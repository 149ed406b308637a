"""What a phone learns about its organisation's checkpoints and rounds in the pull."""

from __future__ import annotations

import hashlib
from typing import Any

from marshmallow import Schema, fields

from server.rounds.service import checkpoints, round_stops, rounds


class CheckpointOut(Schema):
    """A checkpoint the phone can recognise offline (by its token's hash or its short code)."""

    id = fields.Integer()
    name = fields.String()
    short_code = fields.String()
    # The phone matches a scanned token by its SHA-256 and sends the token itself: a phone
    # that never stood at the label cannot make a QR scan from what the pull told it.
    token_sha256 = fields.String(
        metadata={"description": "Hex SHA-256 of the checkpoint's QR/NFC token."}
    )
    lat = fields.Float()
    lon = fields.Float()
    radius_m = fields.Integer()
    instructions = fields.String()


class RoundStopOut(Schema):
    """One checkpoint of a round, in order."""

    id = fields.Integer(metadata={"description": "The checkpoint's id."})
    required = fields.Boolean()


class RoundOut(Schema):
    """A round the phone can start: its checkpoints in order and its schedule."""

    id = fields.Integer()
    name = fields.String()
    ordered = fields.Boolean()
    window = fields.String(metadata={"description": "HH:MM-HH:MM, Europe/Stockholm."})
    every_minutes = fields.Integer(allow_none=True)
    grace_minutes = fields.Integer()
    weekdays = fields.List(fields.Integer(), metadata={"description": "0 is Monday."})
    checkpoints = fields.List(fields.Nested(RoundStopOut))


def pull_view(org_id: int) -> dict[str, list[dict[str, Any]]]:
    """Return the organisation's active checkpoints and rounds (empty lists when none)."""
    cps = checkpoints(org_id, active_only=True)
    if not cps:
        return {"checkpoints": [], "rounds": []}
    rnds = rounds(org_id, active_only=True)
    # The phone learns only active checkpoints; a round loses its inactive ones, and a
    # round left without any is not sent.
    live = {cp.id for cp in cps}
    all_stops = round_stops([r.id for r in rnds])
    stops = {r: [st for st in sts if st.checkpoint_id in live] for r, sts in all_stops.items()}
    rnds = [r for r in rnds if stops[r.id]]
    return {
        "checkpoints": CheckpointOut(many=True).dump(
            [{**_columns(cp), "token_sha256": token_sha256(cp.token)} for cp in cps]
        ),
        "rounds": [
            RoundOut().dump(
                {
                    "id": r.id,
                    "name": r.name,
                    "ordered": r.ordered,
                    "window": r.window,
                    "every_minutes": r.every_minutes,
                    "grace_minutes": r.grace_minutes,
                    "weekdays": list(r.weekdays),
                    "checkpoints": [
                        {"id": st.checkpoint_id, "required": st.required} for st in stops[r.id]
                    ],
                }
            )
            for r in rnds
        ],
    }


# --- the push's rounds part, for the OpenAPI document (server.rounds.wire parses it) ------


class ScanLocationDoc(Schema):
    """Where the phone was when it scanned."""

    lat = fields.Float(required=True)
    lon = fields.Float(required=True)
    accuracy = fields.Float(metadata={"description": "Metres."})


class ScanDoc(Schema):
    """One checkpoint scan: by token (QR, NFC) or typed short code, exactly one of them."""

    id = fields.UUID(required=True, metadata={"description": "Made by the app; exactly once."})
    token = fields.String()
    short_code = fields.String()
    scanned_at = fields.AwareDateTime(required=True, metadata={"description": "Device time."})
    location = fields.Nested(ScanLocationDoc, allow_none=True)
    round_run = fields.UUID(allow_none=True, metadata={"description": "The run's client id."})
    method = fields.String(metadata={"enum": ["qr", "code", "nfc"]})


class RoundRunDoc(Schema):
    """A round run: created by its first item, ended by a later one."""

    id = fields.UUID(required=True)
    round_id = fields.Integer(metadata={"description": "Required when the run is new."})
    started_at = fields.AwareDateTime(metadata={"description": "Required when the run is new."})
    ended_at = fields.AwareDateTime(allow_none=True)
    end_reason = fields.String(
        allow_none=True,
        metadata={
            "description": "At most 500 characters; required to end a run with "
            "required checkpoints unscanned (else rejected, code reason_required)."
        },
    )


class ItemErrorOut(Schema):
    """Why one item was rejected."""

    code = fields.String()
    message = fields.String()


class CheckpointRefOut(Schema):
    """The checkpoint a scan named."""

    id = fields.Integer()
    name = fields.String()


class ScanResultOut(Schema):
    """The answer for one scan."""

    id = fields.String(allow_none=True)
    status = fields.String(metadata={"enum": ["created", "duplicate", "rejected"]})
    flags = fields.List(
        fields.String(),
        metadata={
            "description": "too_far, no_position, out_of_order, too_early, "
            "out_of_window, rapid_repeat, typed_code: never a rejection."
        },
    )
    checkpoint = fields.Nested(CheckpointRefOut)
    error = fields.Nested(ItemErrorOut)


class RoundRunResultOut(Schema):
    """The answer for one round run."""

    id = fields.String(allow_none=True)
    status = fields.String(metadata={"enum": ["created", "updated", "duplicate", "rejected"]})
    error = fields.Nested(ItemErrorOut)


def token_sha256(token: str) -> str:
    """Return the hex SHA-256 of a checkpoint token (what the pull gives instead of it)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _columns(cp: Any) -> dict[str, Any]:
    """Return a checkpoint's pulled columns (never its token)."""
    return {
        k: getattr(cp, k)
        for k in ("id", "name", "short_code", "lat", "lon", "radius_m", "instructions")
    }
