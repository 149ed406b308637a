"""Pull: the changes to a device's own reports since its cursor."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import Row, bindparam, select

from server.alerts import phone as alerts_phone
from server.categories.models import Category
from server.devices.models import Device
from server.devices.service import wipe_pending
from server.extensions import db
from server.meta.models import MetaValue
from server.orgs.models import ChangeCounter
from server.photos.service import photos_present
from server.reports.models import Report, ReportComment, Tombstone
from server.rounds.schemas import pull_view as rounds_view
from server.walks.service import pull_view
from sync.clock import utcnow
from sync.cursor import Cursor, decode_cursor, encode_cursor

# The walks' calendar: a walk is planned on a local day (the installation is Swedish).
_LOCAL = ZoneInfo("Europe/Stockholm")

# The pull's own statements are built once: every phone pulls after each sync pass, and
# building a statement cost about as much as running it. Plain rows of the columns the
# answer needs, no ORM objects (a resync page has 500 reports).
_EPOCH_AND_COUNTER = select(
    select(MetaValue.value).where(MetaValue.key == "epoch").scalar_subquery(),
    select(ChangeCounter.value)
    .where(ChangeCounter.org_id == bindparam("org_id"))
    .scalar_subquery(),
)
_REPORTS = (
    select(
        Report.id,
        Report.status,
        Report.version,
        Report.updated_at,
        Report.photos,
        Report.incident_id,
        Report.change_seq,
    )
    .where(
        Report.device_id == bindparam("device_id"),
        Report.change_seq > bindparam("since"),
        Report.change_seq <= bindparam("upto"),
    )
    .order_by(Report.change_seq)
    .limit(bindparam("limit"))
)
_DELETED = select(Tombstone.report_id).where(
    Tombstone.device_id == bindparam("device_id"),
    Tombstone.change_seq > bindparam("since"),
    Tombstone.change_seq <= bindparam("upto"),
)
_CATEGORIES = select(
    Category.code,
    Category.label_sv,
    Category.label_en,
    Category.urgent,
    Category.walk,
    Category.sort_order,
    Category.active,
).order_by(Category.sort_order)


def pull(device: Device, cursor_text: str | None, limit: int | None = None) -> dict[str, Any]:
    """Return the device's report changes after the cursor, a new cursor and the categories."""
    page = max(1, min(limit or current_app.config["PULL_PAGE_SIZE"], 1000))
    # Read the counter first: every change with a number at or below it has committed,
    # so bounding the queries by it never skips a change that commits later.
    epoch, current = _epoch_and_counter(device.org_id)
    cursor = decode_cursor(cursor_text, epoch=epoch, org_id=device.org_id, current_seq=current)
    reset = cursor is None
    since = 0 if cursor is None else cursor.seq
    span = {"device_id": device.id, "since": since, "upto": current}
    rows = db.session.execute(_REPORTS, {**span, "limit": page + 1}).all()
    more = len(rows) > page
    rows = rows[:page]
    upto = rows[-1].change_seq if more else current
    deleted = db.session.scalars(_DELETED, {**span, "upto": upto})
    categories = _categories()
    return {
        "cursor": encode_cursor(Cursor(epoch=epoch, org_id=device.org_id, seq=upto)),
        "reset": reset,
        "more": more,
        "reports": _report_states(device, rows),
        "deleted": [str(rid) for rid in deleted],
        "categories": categories,
        "server_time": utcnow(),
        # How long the phone keeps what the server acknowledged (pwa/prune.js).
        "retention": {"phone_days": int(current_app.config["PHONE_KEEP_DAYS"])},
        # An admin's `lagesbild device wipe`: on every page until the phone confirms it.
        "wipe": wipe_pending(device),
        # The organisation's planned safety walks the phone may join (server.walks).
        "walks": pull_view(device.org_id, utcnow().astimezone(_LOCAL).date()),
        # The organisation's guard rounds and their checkpoints (server.rounds).
        **rounds_view(device.org_id),
        # Urgent alerts (server.alerts): the rota's acknowledgements of this phone's urgent
        # reports, and the number its offline fallback calls or texts.
        "acknowledged": alerts_phone.acknowledged(
            device.id, device.org_id, utcnow(), urgent={c.code for c in categories if c.urgent}
        ),
        "on_call": alerts_phone.on_call(device.org_id),
    }


def _epoch_and_counter(org_id: int) -> tuple[str, int]:
    """Return the database's epoch and the organisation's change counter, in one query."""
    epoch, counter = db.session.execute(_EPOCH_AND_COUNTER, {"org_id": org_id}).one()
    if epoch is None:
        raise RuntimeError("the database has no epoch; run 'lagesbild db upgrade'")
    return epoch, counter or 0


def _categories() -> list[Row[Any]]:
    """Return every category in display order (retired ones too), as plain rows."""
    return list(db.session.execute(_CATEGORIES).all())


def _report_states(device: Device, rows: Sequence[Row[Any]]) -> list[dict[str, Any]]:
    """Describe each report's server-side state with its comments."""
    if not rows:
        return []
    # A report's comments are its own and those on its whole incident.
    incidents: dict[uuid.UUID, list[uuid.UUID]] = defaultdict(list)
    for r in rows:
        if r.incident_id is not None:
            incidents[r.incident_id].append(r.id)
    comments: dict[uuid.UUID, list[Row[Any]]] = defaultdict(list)
    comment = ReportComment
    for c in db.session.execute(
        select(comment.id, comment.report_id, comment.incident_id, comment.body, comment.created_at)
        .where(
            ReportComment.report_id.in_([r.id for r in rows])
            | ReportComment.incident_id.in_(list(incidents))
        )
        .order_by(ReportComment.created_at, ReportComment.id)
    ):
        if c.report_id is not None:
            comments[c.report_id].append(c)
        for rid in incidents.get(c.incident_id, ()) if c.incident_id else ():
            comments[rid].append(c)
    have = photos_present(device.org_id, {p for r in rows for p in r.photos or []})
    return [
        {
            "id": str(r.id),
            "status": r.status,
            "version": r.version,
            "updated_at": r.updated_at,
            "missing_photos": [p for p in r.photos or [] if p not in have],
            "comments": comments.get(r.id, []),
        }
        for r in rows
    ]
