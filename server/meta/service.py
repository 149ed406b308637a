"""Installation facts."""

from __future__ import annotations

from sqlalchemy import select

from server.extensions import db
from server.meta.models import MetaValue


def database_epoch() -> str:
    """Return the random id the migrations gave this database (detects resets and restores)."""
    value = db.session.scalar(select(MetaValue.value).where(MetaValue.key == "epoch"))
    if value is None:
        raise RuntimeError("the database has no epoch; run 'lagesbild db upgrade'")
    return value
