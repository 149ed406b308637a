"""What the urgent alerts hold about a workspace person, for the data-subject export."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select

from server.alerts.models import OnCallLevel, OnCallMember, PushSubscription
from server.extensions import db


def push_subscriptions(person_id: int) -> list[dict[str, Any]]:
    """Return the person's push subscriptions: the push service's host and the times.

    Never the endpoint's path (a capability: whoever has it may push) nor the keys.
    """
    rows = db.session.scalars(
        select(PushSubscription)
        .where(PushSubscription.person_id == person_id)
        .order_by(PushSubscription.created_at, PushSubscription.id)
    )
    return [
        {
            "id": s.id,
            "endpoint_host": urlsplit(s.endpoint).hostname,
            "created_at": s.created_at.isoformat(),
            "retired_at": s.retired_at.isoformat() if s.retired_at else None,
        }
        for s in rows
    ]


def rota_places(person_id: int) -> list[dict[str, Any]]:
    """Return the person's places on on-call rotas: organisation, level and its minutes."""
    rows = db.session.execute(
        select(OnCallLevel.org_id, OnCallLevel.position, OnCallLevel.minutes)
        .join(OnCallMember, OnCallMember.level_id == OnCallLevel.id)
        .where(OnCallMember.person_id == person_id)
        .order_by(OnCallLevel.org_id, OnCallLevel.position)
    )
    return [{"org_id": o, "level": p, "minutes": m} for o, p, m in rows]
