"""Push: merge a device's batch of reports into the store (grouping is the caller's job)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from marshmallow import ValidationError
from sqlalchemy import select

from server.db import phase
from server.devices.models import Device
from server.extensions import db
from server.orgs.counter import lock_counter, set_counter
from server.photos.service import photos_present
from server.protocol.fastcheck import Rules, fast_load
from server.protocol.pushauth import PushDevice, push_codes
from server.protocol.schemas import ReportIn
from server.protocol.store import SomeKnown, insert_new, prepare_new, store_all_new
from server.reports.convert import columns_from_values, values_from_input, values_from_row
from server.reports.models import Report, Tombstone
from server.walks.observations import WalkTag, refusals
from sync.clock import utcnow
from sync.merge import (
    Edit,
    MergeResult,
    Outcome,
    ReportState,
    apply_batch,
    canonical,
    clocks_to_json,
    state_from_columns,
    values_of,
)

_REPORTS = Report.__table__
_TOMBSTONES = Tombstone.__table__
RETIRED_CATEGORY = "This category is no longer in use. Choose another one."
EDIT_NEEDS_TIME = (
    "This changes a report the server already has; send updated_at (the time of the edit)."
)
# The pushing device: the push view's PushDevice (no ORM object), or a Device elsewhere.
Pusher = Device | PushDevice
FOREIGN_ID = "This report id is already used by another device; the app must make a new id."


@dataclass
class _Item:
    """One pushed report on its way through validation and merge."""

    raw_id: str | None
    edit: Edit | None = None
    report_id: uuid.UUID | None = None
    key: str = ""  # str(report_id), the merge engine's id, made once
    errors: dict[str, Any] | None = None
    result: MergeResult | None = None
    explicit_clock: bool = False  # the device sent updated_at (an edit's own time)
    # walk_id, walk_stop, feeling and a follow-up mark (follows, follow_up): stored when the
    # report is created (server.walks).
    walk: dict[str, Any] = field(default_factory=dict)
    made_on: Any = None  # the device's calendar day of created_at
    extra: dict[str, Any] = field(default_factory=dict)


def _parse(raw_items: list[Any], categories: set[str], now: datetime) -> list[_Item]:
    """Validate each report on its own; a bad one is rejected alone."""
    skew = timedelta(hours=int(current_app.config["FUTURE_SKEW_HOURS"]))
    rules = Rules(categories=categories, now=now, future_skew=skew)
    schema: ReportIn | None = None  # built only when a report needs its messages
    items: list[_Item] = []
    for raw in raw_items:
        if not isinstance(raw, dict):
            items.append(_Item(None, errors={"_report": ["Each report must be a JSON object."]}))
            continue
        raw_id = raw.get("id") if isinstance(raw.get("id"), str) else None
        data = fast_load(raw, rules)
        if data is None:
            # The fast check decides as the schema does; the schema words the rejection.
            schema = schema or ReportIn(categories=categories, now=now, future_skew=skew)
            try:
                data = schema.load(raw)
            except ValidationError as exc:
                items.append(_Item(raw_id, errors=_flatten(exc.messages)))
                continue
            # Unreachable while the two agree (tests/unit/test_fastcheck.py); should they
            # ever differ, the schema's acceptance stands and the difference is logged.
            current_app.logger.error("fast check refused a report the schema accepts")
        edited_at = data["updated_at"] or data["created_at"]
        edit = Edit(values=values_from_input(data), edited_at=edited_at, revision=data["revision"])
        items.append(
            _Item(
                raw_id,
                edit=edit,
                report_id=data["id"],
                key=str(data["id"]),
                explicit_clock=data["updated_at"] is not None,
                walk={k: data[k] for k in _WALK_FIELDS},
                made_on=data["created_at"].date(),
            )
        )
    return items


_WALK_FIELDS = ("walk_id", "walk_stop", "feeling", "follows", "follow_up")
_NO_WALK = dict.fromkeys(_WALK_FIELDS)


def _check_walks(org_id: int, items: list[_Item]) -> None:
    """Refuse, item by item, the reports naming a walk they may not join."""
    tagged = [it for it in items if it.edit is not None and it.walk.get("walk_id") is not None]
    if not tagged:
        return
    tags = [
        WalkTag(
            it.walk["walk_id"],
            it.walk["walk_stop"],
            it.made_on,
            follows=it.walk["follows"],
            report_id=it.report_id,
        )
        for it in tagged
    ]
    with phase("read"):
        errors = refusals(org_id, tags)
    for it, err in zip(tagged, errors, strict=True):
        if err is not None:
            it.edit, it.errors = None, err


def _flatten(messages: Any) -> dict[str, Any]:
    """Return marshmallow messages as a dict (a list means schema-level errors)."""
    return messages if isinstance(messages, dict) else {"_report": list(messages)}


@dataclass
class Pushed:
    """What a push stored: every item's fate and, if anything was valid, the write plan."""

    items: list[_Item]
    plan: _Plan | None

    @property
    def wrote(self) -> bool:
        """Tell whether any report was created or changed."""
        return self.plan is not None and bool(self.plan.created or self.plan.changed)

    @property
    def edited(self) -> list[uuid.UUID]:
        """Return the stored reports this push changed (not the new ones)."""
        if self.plan is None:
            return []
        return [uuid.UUID(i) for i in sorted(self.plan.changed - self.plan.created)]


def push(device: Pusher, raw_items: list[Any]) -> Pushed:
    """Validate, merge and store a batch of pushed reports (one write transaction)."""
    now = utcnow()
    categories, active = push_codes()
    # Validation and planning run outside any transaction; the write lock is held only to
    # check which ids are known and to write.
    items = _parse(raw_items, categories, now)
    _check_walks(device.org_id, items)
    valid = [it for it in items if it.edit is not None]
    if not valid:
        return Pushed(items, None)
    plan = _plan(device, valid, {}, {}, now, active)  # the common case: every report is new
    if len(plan.new_rows) == len(valid):
        # Every valid report would be a new row: two statements under the lock, unless an
        # id turns out to be known after all (a resend), which the merge below handles.
        new = prepare_new(plan.new_rows)  # the rows' conversions, before the lock
        try:
            with phase("write"):
                store_all_new(device.org_id, new)
            return Pushed(items, plan)
        except SomeKnown:
            pass  # rolled back by the phase
    with phase("write"):
        seq = lock_counter(device.org_id)
        if _any_known(plan.ids):
            stored, tombs = _load_known(plan.ids)
            plan = _plan(device, valid, stored, tombs, now, active)
        _write(device, plan, seq, now)
    return Pushed(items, plan)


def answer(device: Pusher, pushed: Pushed) -> list[dict[str, Any]]:
    """Return one result per pushed report, in order, with versions and missing photos."""
    if pushed.plan is not None:
        with phase("read"):
            _attach_versions_and_missing(device, pushed.plan)
    return [_result_json(it) for it in pushed.items]


@dataclass
class _Plan:
    """What a batch will write, worked out by the pure merge engine."""

    ids: list[uuid.UUID]
    mergeable: list[_Item]
    stored: dict[uuid.UUID, Report]
    final: dict[str, ReportState]
    created: set[str]
    changed: set[str]
    new_rows: list[dict[str, Any]]


def _plan(
    device: Pusher,
    valid: list[_Item],
    stored: dict[uuid.UUID, Report],
    tombs: dict[uuid.UUID, Tombstone],
    now: datetime,
    active: set[str],
) -> _Plan:
    """Merge the batch against the given stored rows and tombstones (no database access)."""
    mergeable: list[_Item] = []
    for it in valid:
        it.errors, it.result = None, None
        owner = stored.get(it.report_id) or tombs.get(it.report_id)
        if owner is not None and owner.device_id != device.id:
            it.errors = {"id": [FOREIGN_ID]}
        elif owner is None and it.edit.values["category"] not in active:
            # A resend of a stored report keeps working after its category was retired.
            it.errors = {"category": [RETIRED_CATEGORY]}
        else:
            mergeable.append(it)
    existing: dict[str, ReportState] = {
        str(rid): state_from_columns(values_from_row(r), r.clocks or {})
        for rid, r in stored.items()
        if r.device_id == device.id
    }
    batch = apply_batch(existing, {str(t) for t in tombs}, [(it.key, it.edit) for it in mergeable])
    for it, res in zip(mergeable, batch.results, strict=True):
        it.result = res
        if res.outcome == Outcome.DUPLICATE and not it.explicit_clock:
            state = batch.final.get(it.key) or existing[it.key]
            if _lost_on_a_tie(state, it.edit):
                # An edit sent without its own time carries the creation time, ties with
                # the stored report and could be dropped while the phone believes it was
                # stored: refuse it instead. (A stale original loses on time and is fine.)
                it.errors, it.result = {"updated_at": [EDIT_NEEDS_TIME]}, None
    mergeable = [it for it in mergeable if it.result is not None]
    walk_of = {it.key: it.walk for it in valid}
    uuid_of = {it.key: it.report_id for it in valid}
    return _Plan(
        # Canonical UUID strings sort as the UUIDs do, without a Python-level comparison.
        ids=[uuid_of[key] for key in sorted(uuid_of)],
        mergeable=mergeable,
        stored=stored,
        final=batch.final,
        created=batch.created,
        changed={it.key for it in mergeable if it.result and it.result.changed},
        new_rows=[
            _new_row(device, uuid_of[rid], batch.final[rid], now, walk_of.get(rid) or _NO_WALK)
            for rid in sorted(batch.created)
        ],
    )


def _lost_on_a_tie(state: ReportState, edit: Edit) -> bool:
    """Tell whether the edit differs from the state only in fields it tied on time."""
    for name, value in edit.values.items():
        current = state[name]
        if canonical(current.value) != canonical(value) and (
            current.edited_at == edit.edited_at and current.revision == edit.revision
        ):
            return True
    return False


def _new_row(
    device: Pusher, rid: uuid.UUID, state: ReportState, now: datetime, walk: dict[str, Any]
) -> dict[str, Any]:
    """Build the row of a new report; its change number is set under the lock."""
    return {
        "id": rid,
        "org_id": device.org_id,
        "device_id": device.id,
        # The state is this request's own, just built: its values need no defensive copy.
        **columns_from_values({name: register.value for name, register in state.items()}),
        "clocks": clocks_to_json(state),
        "status": "ny",
        # The grouping puts it in an incident, with its area and place, once it is stored.
        "incident_id": None,
        "incident_pinned": False,
        "area_id": None,
        "place_id": None,
        "text_purged_at": None,
        **walk,
        "received_at": now,
        "updated_at": now,
        "version": 1,
        "change_seq": None,
    }


def _any_known(ids: list[uuid.UUID]) -> bool:
    """Tell whether any of the ids is stored or tombstoned (one cheap query)."""
    known = (
        select(_REPORTS.c.id)
        .where(_REPORTS.c.id.in_(ids))
        .union_all(select(_TOMBSTONES.c.report_id).where(_TOMBSTONES.c.report_id.in_(ids)))
    )
    return db.session.connection().execute(known.limit(1)).first() is not None


def _load_known(
    ids: list[uuid.UUID],
) -> tuple[dict[uuid.UUID, Report], dict[uuid.UUID, Tombstone]]:
    """Load and lock the stored reports and the tombstones among the ids."""
    rows = db.session.scalars(
        select(Report)
        .where(Report.id.in_(ids))
        .order_by(Report.id)
        .with_for_update()
        # Locked rows must be read afresh, never taken from the session's identity map.
        .execution_options(populate_existing=True)
    )
    tombs = db.session.scalars(select(Tombstone).where(Tombstone.report_id.in_(ids)))
    return {r.id: r for r in rows}, {t.report_id: t for t in tombs}


def _write(device: Pusher, plan: _Plan, seq: int, now: datetime) -> None:
    """Insert new reports, update changed ones and advance the counter."""
    new_rows = plan.new_rows
    for row in new_rows:
        seq += 1
        row["change_seq"] = seq
    if new_rows:
        claimed = insert_new(new_rows)
        for it in plan.mergeable:
            if it.key in claimed:
                it.errors, it.result = {"id": [FOREIGN_ID]}, None
    for rid, state in plan.final.items():
        if rid in plan.created:
            continue
        row = plan.stored[uuid.UUID(rid)]
        if rid in plan.changed:
            seq += 1
            row.version += 1
            row.updated_at = now
            row.change_seq = seq
            for key, value in columns_from_values(values_of(state)).items():
                setattr(row, key, value)
        row.clocks = clocks_to_json(state)
    db.session.flush()
    set_counter(device.org_id, seq)


def _attach_versions_and_missing(device: Pusher, plan: _Plan) -> None:
    """Fill in each result's version and the photos the server still lacks."""
    photos_of: dict[str, list[str]] = {}
    for it in plan.mergeable:
        rid = it.key
        if it.result is None or it.result.outcome == Outcome.GONE:
            continue
        if rid in plan.final:
            photos_of[rid] = list(plan.final[rid]["photos"].value)
        else:
            photos_of[rid] = list(plan.stored[it.report_id].photos or [])
    named = {p for photos in photos_of.values() for p in photos}
    have = photos_present(device.org_id, named)
    for it in plan.mergeable:
        rid = it.key
        if it.result is None or rid not in photos_of:
            continue
        row = plan.stored.get(it.report_id)
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
