"""Installation facts."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from server.extensions import db
from server.meta.models import MetaValue


def database_epoch() -> str:
    """Return the random id the migrations gave this database (detects resets and restores)."""
    value = db.session.scalar(select(MetaValue.value).where(MetaValue.key == "epoch"))
    if value is None:
        raise RuntimeError("the database has no epoch; run 'lagesbild db upgrade'")
    return value


def rotate_epoch() -> str:
    """Give the database a new epoch, so every device's pull cursor resyncs in full."""
    value = uuid.uuid4().hex
    row = db.session.get(MetaValue, "epoch")
    if row is None:
        db.session.add(MetaValue(key="epoch", value=value))
    else:
        row.value = value
    db.session.commit()
    return value
