"""Push and pull: the server side of the sync protocol."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from marshmallow import ValidationError
from sqlalchemy import select, update

from server.categories.models import Category
from server.db import phase
from server.devices.models import Device
from server.extensions import db
from server.orgs.models import ChangeCounter
from server.photos.service import photos_present
from server.reports.convert import columns_from_values, values_from_input, values_from_row
from server.reports.models import Report, Tombstone
from server.reports.schemas import ReportIn
from server.types import utcnow
from server.upsert import insert_ignore
from sync.merge import (
    Edit,
    MergeResult,
    Outcome,
    ReportState,
    apply_batch,
    clocks_to_json,
    state_from_columns,
    values_of,
)

FOREIGN_ID = "This report id is already used by another device; the app must make a new id."


@dataclass
class _Item:
    """One pushed report on its way through validation and merge."""

    raw_id: str | None
    edit: Edit | None = None
    report_id: uuid.UUID | None = None
    errors: dict[str, Any] | None = None
    result: MergeResult | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def active_category_codes() -> set[str]:
    """Return the codes a device may report under."""
    return set(db.session.scalars(select(Category.code).where(Category.active.is_(True))))


def _parse(raw_items: list[Any], categories: set[str], now: datetime) -> list[_Item]:
    """Validate each report on its own; a bad one is rejected alone."""
    skew = timedelta(hours=int(current_app.config["FUTURE_SKEW_HOURS"]))
    schema = ReportIn(categories=categories, now=now, future_skew=skew)
    items: list[_Item] = []
    for raw in raw_items:
        if not isinstance(raw, dict):
            items.append(_Item(None, errors={"_report": ["Each report must be a JSON object."]}))
            continue
        raw_id = raw.get("id") if isinstance(raw.get("id"), str) else None
        try:
            data = schema.load(raw)
        except ValidationError as exc:
            items.append(_Item(raw_id, errors=_flatten(exc.messages)))
            continue
        edited_at = data["updated_at"] or data["created_at"]
        edit = Edit(values=values_from_input(data), edited_at=edited_at, revision=data["revision"])
        items.append(_Item(raw_id, edit=edit, report_id=data["id"]))
    return items


def _flatten(messages: Any) -> dict[str, Any]:
    """Return marshmallow messages as a dict (a list means schema-level errors)."""
    return messages if isinstance(messages, dict) else {"_report": list(messages)}


def push(device: Device, raw_items: list[Any]) -> list[dict[str, Any]]:
    """Merge a batch of pushed reports and return one result per report, in order."""
    now = utcnow()
    with phase("read"):
        categories = active_category_codes()
    # Validation runs outside any transaction: the write lock is held only to merge.
    items = _parse(raw_items, categories, now)
    valid = [it for it in items if it.edit is not None]
    if valid:
        with phase("write"):
            _merge_valid(device, valid, now)
    return [_result_json(it) for it in items]


def _lock_counter(org_id: int) -> int:
    """Lock the organisation's change counter for this transaction and return its value.

    Holding this lock until commit serialises the organisation's writers, so change
    sequence numbers become visible in order and merges never race.
    """
    value = db.session.scalar(
        select(ChangeCounter.value).where(ChangeCounter.org_id == org_id).with_for_update()
    )
    if value is None:
        db.session.add(ChangeCounter(org_id=org_id, value=0))
        db.session.flush()
        return 0
    return value


def _merge_valid(device: Device, valid: list[_Item], now: datetime) -> None:
    """Merge validated items against the stored reports inside one write transaction."""
    seq = _lock_counter(device.org_id)
    ids = sorted({it.report_id for it in valid if it.report_id is not None})
    rows = db.session.execute(
        select(Report).where(Report.id.in_(ids)).order_by(Report.id).with_for_update()
    ).scalars()
    stored = {r.id: r for r in rows}
    tombs = {
        t.report_id: t
        for t in db.session.scalars(select(Tombstone).where(Tombstone.report_id.in_(ids)))
    }
    mergeable: list[_Item] = []
    for it in valid:
        owner = stored.get(it.report_id) or tombs.get(it.report_id)
        if owner is not None and owner.device_id != device.id:
            it.errors = {"id": [FOREIGN_ID]}
        else:
            mergeable.append(it)
    existing: dict[str, ReportState] = {
        str(rid): state_from_columns(values_from_row(r), r.clocks or {})
        for rid, r in stored.items()
        if r.device_id == device.id
    }
    batch = apply_batch(
        existing, {str(t) for t in tombs}, [(str(it.report_id), it.edit) for it in mergeable]
    )
    for it, res in zip(mergeable, batch.results, strict=True):
        it.result = res
    changed_ids = {str(it.report_id) for it in mergeable if it.result and it.result.changed}
    seq, claimed = _write_changes(device, stored, batch.final, batch.created, changed_ids, seq, now)
    for it in mergeable:
        if str(it.report_id) in claimed:
            it.errors, it.result = {"id": [FOREIGN_ID]}, None
    db.session.execute(
        update(ChangeCounter).where(ChangeCounter.org_id == device.org_id).values(value=seq)
    )
    _attach_versions_and_missing(device, mergeable, stored, batch.final)


def _write_changes(
    device: Device,
    stored: dict[uuid.UUID, Report],
    final: dict[str, ReportState],
    created: set[str],
    changed_ids: set[str],
    seq: int,
    now: datetime,
) -> tuple[int, set[str]]:
    """Insert new reports and update changed ones.

    Returns the last sequence number used and the new ids that another organisation's
    device inserted first (its transaction was not visible to our locking read).
    """
    new_rows = []
    for rid in sorted(created):
        seq += 1
        state = final[rid]
        new_rows.append(
            {
                "id": uuid.UUID(rid),
                "org_id": device.org_id,
                "device_id": device.id,
                **columns_from_values(values_of(state)),
                "clocks": clocks_to_json(state),
                "status": "ny",
                "received_at": now,
                "updated_at": now,
                "version": 1,
                "change_seq": seq,
            }
        )
    claimed: set[str] = set()
    if new_rows:
        # The counter lock serialises this organisation, so a conflict here means another
        # organisation's device inserted the id concurrently: that id is not ours.
        stmt = insert_ignore(Report.__table__, ["id"]).returning(Report.__table__.c.id)
        inserted = {str(rid) for rid in db.session.execute(stmt, new_rows).scalars()}
        claimed = {row_id for row_id in created if row_id not in inserted}
    for rid, state in final.items():
        if rid in created:
            continue
        row = stored[uuid.UUID(rid)]
        if rid in changed_ids:
            seq += 1
            row.version += 1
            row.updated_at = now
            row.change_seq = seq
            for key, value in columns_from_values(values_of(state)).items():
                setattr(row, key, value)
        row.clocks = clocks_to_json(state)
    db.session.flush()
    return seq, claimed


def _attach_versions_and_missing(
    device: Device,
    items: list[_Item],
    stored: dict[uuid.UUID, Report],
    final: dict[str, ReportState],
) -> None:
    """Fill in each result's version and the photos the server still lacks."""
    named: set[str] = set()
    photos_of: dict[str, list[str]] = {}
    for it in items:
        rid = str(it.report_id)
        if it.result is None or it.result.outcome == Outcome.GONE:
            continue
        if rid in final:
            photos = list(values_of(final[rid])["photos"])
        else:
            photos = list(stored[it.report_id].photos or [])
        photos_of[rid] = photos
        named.update(photos)
    have = photos_present(device.org_id, named)
    for it in items:
        rid = str(it.report_id)
        if rid not in photos_of:
            continue
        row = stored.get(it.report_id)
        it.extra["version"] = row.version if row is not None else 1
        it.extra["missing_photos"] = [p for p in photos_of[rid] if p not in have]


def _result_json(it: _Item) -> dict[str, Any]:
    """Render one push result."""
    if it.errors is not None or it.result is None:
        return {"id": it.raw_id, "status": "rejected", "errors": it.errors or {}}
    # Echo the id exactly as sent, so a client can match results by string equality.
    body: dict[str, Any] = {"id": it.raw_id, "status": str(it.result.outcome)}
    body.update(it.extra)
    return body
