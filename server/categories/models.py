"""Report category model."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from server.extensions import db
from server.types import UTCDateTime
from sync.clock import utcnow


class Category(db.Model):
    """A report category with a stable code and labels in both languages."""

    __tablename__ = "categories"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    label_sv: Mapped[str] = mapped_column(String(120))
    label_en: Mapped[str] = mapped_column(String(120))
    urgent: Mapped[bool] = mapped_column(default=False)
    # A safety walk's category: offered only in walk mode, never a night incident.
    walk: Mapped[bool] = mapped_column(default=False)
    sort_order: Mapped[int] = mapped_column(default=0)
    active: Mapped[bool] = mapped_column(default=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
