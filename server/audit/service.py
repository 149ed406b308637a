"""Writing the audit log: one way for the workspace and the command line alike.

A change records its entry in its own transaction, so the entry commits with the change
or not at all; a view or an export records its entry in a short write of its own.
"""

from __future__ import annotations

from dataclasses import dataclass

from server.audit.models import AuditEntry
from server.db import phase
from server.extensions import db
from sync.clock import utcnow

ACTION_MAX = 40
TARGET_MAX = 200
ADDRESS_MAX = 45


@dataclass(frozen=True)
class Actor:
    """Who acts: a workspace person from a client address, or the command line (neither)."""

    person_id: int | None = None
    client_address: str | None = None


# Commands run on the server by an operator: no person, no address.
CLI = Actor()


def add(org_id: int, action: str, target: str = "", actor: Actor = CLI) -> AuditEntry:
    """Add an entry to the open transaction (the caller's commit writes it)."""
    entry = AuditEntry(
        org_id=org_id,
        person_id=actor.person_id,
        action=action[:ACTION_MAX],
        target=target[:TARGET_MAX],
        client_address=actor.client_address[:ADDRESS_MAX] if actor.client_address else None,
        at=utcnow(),
    )
    db.session.add(entry)
    return entry


def record(org_id: int, action: str, target: str = "", actor: Actor = CLI) -> None:
    """Write an entry in its own short write transaction (views, exports, logins)."""
    with phase("write"):
        add(org_id, action, target, actor)
