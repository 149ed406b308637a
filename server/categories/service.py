"""The report categories: the list devices show and the codes a push may use."""

from __future__ import annotations

from sqlalchemy import select

from server.categories.models import Category
from server.extensions import db


def list_categories() -> list[Category]:
    """Return every category in display order (retired ones too, marked inactive)."""
    return list(db.session.scalars(select(Category).order_by(Category.sort_order)))


def category_codes() -> tuple[set[str], set[str]]:
    """Return every category code and the active ones (new reports need an active one)."""
    rows = db.session.execute(select(Category.code, Category.active)).all()
    return {code for code, _ in rows}, {code for code, active in rows if active}


def urgent_codes() -> set[str]:
    """Return the codes of the urgent categories (fire, threats: shown first)."""
    return set(db.session.scalars(select(Category.code).where(Category.urgent.is_(True))))
