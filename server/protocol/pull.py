"""Pull: the changes to a device's own reports since its cursor."""

from __future__ import annotations

import uuid
from collections import defaultdict
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import select

from server.alerts import phone as alerts_phone
from server.categories.service import list_categories
from server.devices.models import Device
from server.devices.service import wipe_pending
from server.extensions import db
from server.meta.service import database_epoch
from server.orgs.models import ChangeCounter
from server.photos.service import photos_present
from server.reports.models import Report, ReportComment, Tombstone
from server.rounds.schemas import pull_view as rounds_view
from server.walks.service import pull_view
from sync.clock import utcnow
from sync.cursor import Cursor, decode_cursor, encode_cursor

# The walks' calendar: a walk is planned on a local day (the installation is Swedish).
_LOCAL = ZoneInfo("Europe/Stockholm")


def pull(device: Device, cursor_text: str | None, limit: int | None = None) -> dict[str, Any]:
    """Return the device's report changes after the cursor, a new cursor and the categories."""
    page = max(1, min(limit or current_app.config["PULL_PAGE_SIZE"], 1000))
    epoch = database_epoch()
    # Read the counter first: every change with a number at or below it has committed,
    # so bounding the queries by it never skips a change that commits later.
    current = (
        db.session.scalar(select(ChangeCounter.value).where(ChangeCounter.org_id == device.org_id))
        or 0
    )
    cursor = decode_cursor(cursor_text, epoch=epoch, org_id=device.org_id, current_seq=current)
    reset = cursor is None
    since = 0 if cursor is None else cursor.seq
    rows = list(
        db.session.scalars(
            select(Report)
            .where(
                Report.device_id == device.id,
                Report.change_seq > since,
                Report.change_seq <= current,
            )
            .order_by(Report.change_seq)
            .limit(page + 1)
        )
    )
    more = len(rows) > page
    rows = rows[:page]
    upto = rows[-1].change_seq if more else current
    deleted = db.session.scalars(
        select(Tombstone.report_id).where(
            Tombstone.device_id == device.id,
            Tombstone.change_seq > since,
            Tombstone.change_seq <= upto,
        )
    )
    return {
        "cursor": encode_cursor(Cursor(epoch=epoch, org_id=device.org_id, seq=upto)),
        "reset": reset,
        "more": more,
        "reports": _report_states(device, rows),
        "deleted": [str(rid) for rid in deleted],
        "categories": list_categories(),
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
        "acknowledged": alerts_phone.acknowledged(device.id, device.org_id, utcnow()),
        "on_call": alerts_phone.on_call(device.org_id),
    }


def _report_states(device: Device, rows: list[Report]) -> list[dict[str, Any]]:
    """Describe each report's server-side state with its comments."""
    if not rows:
        return []
    # A report's comments are its own and those on its whole incident.
    incidents: dict[uuid.UUID, list[uuid.UUID]] = defaultdict(list)
    for r in rows:
        if r.incident_id is not None:
            incidents[r.incident_id].append(r.id)
    comments: dict[uuid.UUID, list[ReportComment]] = defaultdict(list)
    for c in db.session.scalars(
        select(ReportComment)
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
