"""Which of an incident's reports names it: its category, place, position and summary.

A calm round ("lugnt") is proof that a patrol was out, never what an incident is about:
when a coordinator merges or moves real reports and calm rounds together, the real reports
name the result. The rule is pure (any objects with the report's fields), so the merge's
confirmation can show the name before anything is written, and `summary.summarise` writes
the same name afterwards.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, TypeVar

from server.categories import CALM

# The calm-round category (the digest counts these apart as well).
SUMMARY_CHARS = 200


class Member(Protocol):
    """The fields of a report that the title rule reads."""

    @property
    def id(self) -> uuid.UUID: ...
    @property
    def category_code(self) -> str: ...
    @property
    def created_at(self) -> datetime: ...
    @property
    def place(self) -> str | None: ...
    @property
    def description(self) -> str | None: ...


M = TypeVar("M", bound=Member)


@dataclass(frozen=True)
class Headline:
    """What lists and the incident page call an incident."""

    category_code: str
    place: str
    summary: str


def title_order(members: Sequence[M], anchor_id: uuid.UUID | None) -> list[M]:
    """Order reports by how well they name the incident.

    Tie-break order: (1) a real report before a calm round; (2) the anchor (the incident's
    seed report; after a merge the target's) before the others;
    (3) the oldest first; (4) the id, so equal times still give one fixed order.
    """
    return sorted(
        members,
        key=lambda m: (m.category_code == CALM, m.id != anchor_id, m.created_at, str(m.id)),
    )


def headline(members: Sequence[Member], anchor_id: uuid.UUID | None) -> Headline:
    """Name an incident of these reports: the category of the first in title order, and
    the first place text and description found in that order."""
    if not members:
        raise ValueError("an incident without reports has no name")
    ordered = title_order(members, anchor_id)
    place = next((m.place for m in ordered if m.place), "")
    text = next((m.description for m in ordered if m.description), "")
    return Headline(ordered[0].category_code, place or "", (text or "")[:SUMMARY_CHARS])
