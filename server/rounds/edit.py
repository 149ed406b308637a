"""Change and (de)activate checkpoints and rounds; their past scans and runs are kept.

An inactive checkpoint or round leaves the pull and the schedule from then on
(`server.rounds.schemas`, `server.rounds.status`): no run of it is missed any more, and
the runs already stored still show in the week view and the digest.
"""

from __future__ import annotations

from sqlalchemy import delete

from server.extensions import db
from server.rounds.models import Checkpoint, Round, RoundCheckpoint
from server.rounds.service import (
    CheckpointPlan,
    RoundPlan,
    add_stops,
    checked_checkpoint,
    checked_round,
    get_checkpoint,
    get_round,
)
from sync.clock import utcnow


def update_checkpoint(org_id: int, checkpoint_id: int, plan: CheckpointPlan) -> Checkpoint:
    """Change a checkpoint's name, position, radius, area and instructions, and commit.

    The token and short code stay: the printed label keeps working.
    """
    found = get_checkpoint(org_id, checkpoint_id)
    for key, value in checked_checkpoint(org_id, plan).items():
        setattr(found, key, value)
    db.session.commit()
    return found


def update_round(org_id: int, round_id: int, plan: RoundPlan) -> Round:
    """Change a round's name, checkpoints, required flags and schedule, and commit."""
    found = get_round(org_id, round_id)
    values = checked_round(org_id, plan)
    for key, value in values.items():
        setattr(found, key, value)
    db.session.execute(delete(RoundCheckpoint).where(RoundCheckpoint.round_id == found.id))
    add_stops(found.id, plan)
    db.session.commit()
    return found


def set_checkpoint_active(org_id: int, checkpoint_id: int, active: bool) -> Checkpoint:
    """Activate or deactivate a checkpoint, and commit."""
    found = get_checkpoint(org_id, checkpoint_id)
    found.active = active
    db.session.commit()
    return found


def set_round_active(org_id: int, round_id: int, active: bool) -> Round:
    """Activate or deactivate a round, and commit."""
    found = get_round(org_id, round_id)
    if active and not found.active:
        # Planned again from now on: the nights it was inactive are not missed. The runs
        # walked before still show (the status keeps every stored run).
        found.created_at = utcnow()
    found.active = active
    db.session.commit()
    return found
