"""The pull's answer as JSON-ready data, without a marshmallow pass over every item.

Every phone pulls after each sync pass, so this is one of the server's hottest answers;
building the schema objects and walking each field through them cost more than the
queries. `PullOut` (server.protocol.schemas) stays the description of the answer (the
OpenAPI document); tests/api/test_pull_out.py checks that `dump_pull` gives exactly what
`PullOut().dump` gives, and that it knows every field of the schema.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from server.walks.schemas import WalkOut


def dump_pull(data: dict[str, Any]) -> dict[str, Any]:
    """Return the pull's answer as JSON-ready data, as `PullOut().dump(data)` would."""
    on_call = data["on_call"]
    return {
        "cursor": str(data["cursor"]),
        "reset": data["reset"],
        "more": data["more"],
        "reports": [_report(r) for r in data["reports"]],
        "deleted": [str(rid) for rid in data["deleted"]],
        "categories": [_category(c) for c in data["categories"]],
        "server_time": _iso(data["server_time"]),
        "retention": {"phone_days": int(data["retention"]["phone_days"])},
        "wipe": data["wipe"],
        # Rarely any: planned walks keep the schema (nested stops, GeoJSON, dates).
        "walks": WalkOut(many=True).dump(data["walks"]) if data["walks"] else [],
        # server.rounds.schemas.pull_view dumped these through their schemas already.
        "checkpoints": data["checkpoints"],
        "rounds": data["rounds"],
        "acknowledged": [
            {"report_id": str(a["report_id"]), "at": _iso(a["at"])} for a in data["acknowledged"]
        ],
        "on_call": None if on_call is None else {"phone": _text(on_call["phone"])},
    }


def _report(state: dict[str, Any]) -> dict[str, Any]:
    """Return one report's server-side state (ReportStateOut)."""
    return {
        "id": str(state["id"]),
        "status": _text(state["status"]),
        "version": _int(state["version"]),
        "updated_at": _iso(state["updated_at"]),
        "missing_photos": [str(p) for p in state["missing_photos"]],
        "comments": _comments(state["comments"]),
    }


def _comments(comments: Iterable[Any]) -> list[dict[str, Any]]:
    """Return the comments a device sees (CommentOut: never the author)."""
    return [
        {"id": _int(c.id), "body": _text(c.body), "created_at": _iso(c.created_at)}
        for c in comments
    ]


def _category(c: Any) -> dict[str, Any]:
    """Return one category (CategoryOut; `order` is the sort order)."""
    return {
        "code": _text(c.code),
        "label_sv": _text(c.label_sv),
        "label_en": _text(c.label_en),
        "urgent": c.urgent,
        "walk": c.walk,
        "order": _int(c.sort_order),
        "active": c.active,
    }


def _iso(value: datetime | date | None) -> str | None:
    """Return an ISO 8601 time as marshmallow's DateTime field writes it."""
    return None if value is None else value.isoformat()


def _text(value: Any) -> str | None:
    """Return a String field's value (None stays None)."""
    return None if value is None else str(value)


def _int(value: Any) -> int | None:
    """Return an Integer field's value (None stays None)."""
    return None if value is None else int(value)
