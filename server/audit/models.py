"""The audit log's one table."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from server.extensions import db
from server.types import UTCDateTime
from sync.clock import utcnow


class AuditEntry(db.Model):
    """Who viewed, exported or changed what (the brief's privacy rules)."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    # None for the command line (an operator on the server, not a workspace login).
    person_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    action: Mapped[str] = mapped_column(String(40))
    target: Mapped[str] = mapped_column(String(200), default="")
    # Where the request came from (the real client behind a trusted proxy); None for the CLI.
    client_address: Mapped[str | None] = mapped_column(String(45))
