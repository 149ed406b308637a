"""What the run left in the database and the photo directory: counts and sizes."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa

from bench.loadlib.photos import PhotoFile

# Tables whose size the capacity plan needs (each with its indexes and TOAST).
SIZED_TABLES = ("reports", "photos", "incidents", "incident_events", "audit_log")


@dataclass
class Stored:
    """Rows of the organisation and, on PostgreSQL, table sizes in bytes."""

    reports: int
    photos: int
    duplicate_report_ids: int
    table_bytes: dict[str, int] = field(default_factory=dict)
    database_bytes: int = 0


def count(url: str, org_id: int) -> Stored:
    """Count the organisation's reports and photos; size the tables on PostgreSQL."""
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            one = conn.execute
            reports = one(
                sa.text("SELECT count(*) FROM reports WHERE org_id = :o"), {"o": org_id}
            ).scalar_one()
            photos = one(
                sa.text("SELECT count(*) FROM photos WHERE org_id = :o"), {"o": org_id}
            ).scalar_one()
            dupes = one(
                sa.text(
                    "SELECT count(*) FROM (SELECT id FROM reports WHERE org_id = :o"
                    " GROUP BY id HAVING count(*) > 1) d"
                ),
                {"o": org_id},
            ).scalar_one()
            stored = Stored(int(reports), int(photos), int(dupes))
            if engine.dialect.name == "postgresql":
                for table in SIZED_TABLES:
                    stored.table_bytes[table] = int(
                        one(sa.text(f"SELECT pg_total_relation_size('{table}')")).scalar_one()
                    )
                stored.database_bytes = int(
                    one(sa.text("SELECT pg_database_size(current_database())")).scalar_one()
                )
    finally:
        engine.dispose()
    return stored


def variant_bytes(data_dir: Path) -> tuple[int, Counter[str]]:
    """Return the number of stored photos and the bytes per variant under the data dir."""
    sizes: Counter[str] = Counter()
    shas: set[str] = set()
    for path in (data_dir / "photos").rglob("*.jpg"):
        sha, _, variant = path.stem.rpartition("-")
        shas.add(sha)
        sizes[variant] += path.stat().st_size
    return len(shas), sizes


def upload_bytes(photos: list[PhotoFile]) -> int:
    """Return the bytes the phones sent for these photos."""
    return sum(p.size for p in photos)
