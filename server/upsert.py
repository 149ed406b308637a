"""Dialect-aware INSERT … ON CONFLICT DO NOTHING."""

from __future__ import annotations

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.dml import Insert

from server.extensions import db


def insert_ignore(table: Table, conflict_columns: list[str]) -> Insert:
    """Build an insert that silently skips rows whose key already exists."""
    module = postgresql if db.engine.dialect.name == "postgresql" else sqlite
    return module.insert(table).on_conflict_do_nothing(index_elements=conflict_columns)
