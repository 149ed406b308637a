"""Helpers for the push tests: pushing, reading back, building edits and checking errors."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from server.extensions import db
from server.orgs.models import ChangeCounter
from server.photos.models import Photo
from server.reports.models import Report
from tests.support import factories

PUSH = "/api/v1/sync/push"
STATUSES = {"created", "duplicate", "updated", "gone", "rejected"}
HASH_A = "a" * 64
HASH_B = "b" * 64
HASH_C = "0123456789abcdef" * 4


# --- helpers ------------------------------------------------------------------------------


def push_ok(client, dev, *reports: Any) -> list[dict[str, Any]]:
    """Push reports, check the 200 answer's shape and return the results."""
    resp = client.post(PUSH, json={"reports": list(reports)}, headers=dev.headers)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    body = resp.get_json()
    assert set(body) == {"results", "server_time"}, body
    assert datetime.fromisoformat(body["server_time"]).utcoffset() is not None
    results = body["results"]
    assert len(results) == len(reports)
    for res in results:
        assert res["status"] in STATUSES, res
    return results


def push_one(client, dev, report: Any) -> dict[str, Any]:
    """Push one report and return its result."""
    return push_ok(client, dev, report)[0]


def stored(report_id: str) -> Report | None:
    """Read a report afresh from the database."""
    db.session.expire_all()
    return db.session.get(Report, uuid.UUID(report_id))


def report_count() -> int:
    """Count the stored reports."""
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(Report))


def snapshot(report_id: str) -> dict[str, Any]:
    """Capture the server bookkeeping and device fields of a stored report."""
    r = stored(report_id)
    assert r is not None
    return {
        "version": r.version,
        "updated_at": r.updated_at,
        "change_seq": r.change_seq,
        "device_id": r.device_id,
        "status": r.status,
        "description": r.description,
        "place": r.place,
        "severity": r.severity,
        "category_code": r.category_code,
        "photos": list(r.photos or []),
    }


def counter(org_id: int) -> int:
    """Read the organisation's change counter."""
    db.session.expire_all()
    return db.session.scalar(select(ChangeCounter.value).where(ChangeCounter.org_id == org_id))


def shifted(report: dict[str, Any], minutes: int) -> str:
    """Return the report's creation time moved by some minutes, as RFC 3339."""
    return (datetime.fromisoformat(report["created_at"]) + timedelta(minutes=minutes)).isoformat()


def edit_of(report: dict[str, Any], minutes: int, revision: int, **changes: Any) -> dict[str, Any]:
    """Return a later (or earlier) whole-report edit, as a phone sends it."""
    return {**report, "updated_at": shifted(report, minutes), "revision": revision, **changes}


def flat_messages(node: Any) -> list[Any]:
    """Collect every message in a (nested) marshmallow error structure."""
    if isinstance(node, dict):
        return [m for v in node.values() for m in flat_messages(v)]
    if isinstance(node, list):
        return [m for v in node for m in flat_messages(v)]
    return [node]


def assert_readable(errors: dict[str, Any], *path: str) -> None:
    """Check that errors hold messages a person can read at the given field path."""
    node: Any = errors
    for key in path:
        assert isinstance(node, dict) and key in node, errors
        node = node[key]
    messages = flat_messages(node)
    assert messages, errors
    for message in messages:
        assert isinstance(message, str) and len(message.split()) >= 3, errors


def add_photo(org_id: int, sha: str) -> None:
    """Simulate an uploaded photo."""
    db.session.add(
        Photo(
            org_id=org_id,
            sha256=sha,
            source_format="jpeg",
            width=10,
            height=10,
            bytes=100,
            storage_path=f"{org_id}/{sha}",
        )
    )
    db.session.commit()


def now_local() -> datetime:
    return datetime.now(UTC).astimezone(factories.STOCKHOLM_WINTER)


def shifted_now(minutes: int) -> str:
    return (now_local() + timedelta(minutes=minutes)).isoformat(timespec="seconds")
