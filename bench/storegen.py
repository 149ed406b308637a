"""Generate large report stores for the read-side benchmarks (workspace, digest).

A store is a SQLite database built from the migrations with one organisation, its areas,
a few devices and `total` reports: the most recent `recent` of them spread over
`recent_days` days before `now` (hotspots, night-weighted, grouped by the real grouping),
and the rest spread over the two years before that, each its own incident. Two stores
with the same `recent` part differ only in history, which is what "cost grows with the
window, not the store" compares.
"""

from __future__ import annotations

import json
import math
import random
import sqlite3
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from flask import Flask
from flask_migrate import upgrade

from server.app import create_app
from server.extensions import db

ROOT = Path(__file__).resolve().parent.parent
CATEGORIES = ("skadegorelse", "brand", "miljo", "samling", "narkotika", "trafik", "brott")
KINDS = ("vaktare", "faltare", "nattvandrare")
# Hotspots around Staffanstorp, Hjärup and Kyrkheddinge (lat, lon).
HOTSPOTS = (
    (55.6398, 13.2083),
    (55.6425, 13.2121),
    (55.6691, 13.1402),
    (55.6447, 13.2850),
    (55.6352, 13.1990),
    (55.6480, 13.2200),
)
HISTORY_DAYS = 730
INSERT_CHUNK = 20_000


@dataclass
class Store:
    """A generated store and how to open it."""

    path: Path
    data_dir: Path
    org_id: int
    now: datetime
    total: int
    seconds_to_build: float

    def app(self) -> Flask:
        """Create an app on this store."""
        return create_app(
            {
                "LAGESBILD_ENV": "testing",
                "SECRET_KEY": "bench",
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{self.path}",
                "DATA_DIR": str(self.data_dir),
            }
        )


def _night_time(rng: random.Random, day_start: datetime) -> datetime:
    """Pick a time in a day, weighted to the night (18:00–06:00 local is most of it)."""
    hour = rng.choice((18, 19, 20, 21, 22, 23, 0, 1, 2, 3, 4, 5, 10, 14))
    return day_start + timedelta(hours=hour, minutes=rng.random() * 60)


def _point(rng: random.Random) -> tuple[float, float]:
    """A position near a hotspot (70 %) or anywhere in the municipality."""
    if rng.random() < 0.7:
        lat, lon = rng.choice(HOTSPOTS)
        d, b = rng.random() * 120, rng.random() * 2 * math.pi
        return lat + d * math.cos(b) / 111_320, lon + d * math.sin(b) / 63_000
    return 55.62 + rng.random() * 0.06, 13.12 + rng.random() * 0.18


def build_store(
    path: Path,
    *,
    total: int,
    recent: int,
    recent_days: int,
    now: datetime,
    seed: int = 7,
    night_extra: int = 0,
) -> Store:
    """Build a store at `path` (replacing it); see the module docstring."""
    started = time.perf_counter()
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    data_dir = path.with_suffix(".data")
    data_dir.mkdir(parents=True, exist_ok=True)
    store = Store(path, data_dir, 0, now, total, 0.0)
    app = store.app()
    with app.app_context():
        upgrade()
        from server.incidents.areas import import_areas
        from server.orgs import service as orgs

        org = orgs.create("Benchkommun", "kommun")
        doc = json.loads((ROOT / "server/demo/areas.geojson").read_text(encoding="utf-8"))
        import_areas(org.id, doc, name_property="name", code_property="code")
        store.org_id = org.id
        db.engine.dispose()
    rng = random.Random(seed)
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=OFF")  # a benchmark fixture, rebuilt at will
    device_ids = []
    for i in range(12):
        cur = conn.execute(
            "INSERT INTO devices (org_id, display_name, kind, token_hash, enrolled_at,"
            " last_seen_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                store.org_id,
                f"Telefon {i}",
                KINDS[i % 3],
                uuid.uuid4().hex * 2,
                _sql_time(now),
                _sql_time(now),
                _sql_time(now),
            ),
        )
        device_ids.append(cur.lastrowid)
    area_ids = [r[0] for r in conn.execute("SELECT id FROM areas ORDER BY id")]
    history = total - recent
    history_start = now - timedelta(days=recent_days + HISTORY_DAYS)
    seq = 0
    # History: before the recent window, each report its own incident, already grouped.
    for first in range(0, history, INSERT_CHUNK):
        reports, incidents = [], []
        for _ in range(min(INSERT_CHUNK, history - first)):
            day = history_start + timedelta(days=rng.randrange(HISTORY_DAYS))
            seq += 1
            row = _row(rng, store.org_id, device_ids, area_ids, _night_time(rng, day), seq)
            row["incident_id"] = row["id"]
            reports.append(row)
            incidents.append(_incident(row))
        _insert(conn, "incidents", incidents)
        _insert(conn, "reports", reports)
        conn.commit()
    # Recent: ungrouped, for the real grouping to put into incidents. Its own random stream,
    # so stores of any size share exactly the same recent reports.
    rng = random.Random(seed + 1)
    recent_start = now - timedelta(days=recent_days)
    reports = []
    for _ in range(recent):
        day = recent_start + timedelta(days=rng.randrange(recent_days))
        seq += 1
        reports.append(_row(rng, store.org_id, device_ids, area_ids, _night_time(rng, day), seq))
    last_night_start = now.replace(hour=17, minute=0, second=0, microsecond=0) - timedelta(days=1)
    for _ in range(night_extra):
        seq += 1
        when = last_night_start + timedelta(minutes=rng.random() * 11 * 60)
        reports.append(_row(rng, store.org_id, device_ids, area_ids, when, seq))
    for first in range(0, len(reports), INSERT_CHUNK):
        _insert(conn, "reports", reports[first : first + INSERT_CHUNK])
    conn.execute(
        "INSERT OR REPLACE INTO change_counters (org_id, value) VALUES (?, ?)", (store.org_id, seq)
    )
    conn.commit()
    conn.execute("ANALYZE")
    conn.close()
    with app.app_context():
        from server.incidents.grouping import assign_pending
        from server.orgs.counter import lock_counter

        lock_counter(store.org_id)
        assign_pending(store.org_id)
        db.session.commit()
        db.engine.dispose()
    store.seconds_to_build = time.perf_counter() - started
    return store


def _sql_time(moment: datetime) -> str:
    """Format a time as the UTCDateTime column stores it on SQLite."""
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")


def _row(rng, org_id, device_ids, area_ids, when: datetime, seq: int) -> dict:
    """One report row."""
    lat, lon = _point(rng)
    rid = uuid.UUID(int=rng.getrandbits(128), version=4)
    return {
        "id": rid.hex,
        "org_id": org_id,
        "device_id": rng.choice(device_ids),
        "created_at": _sql_time(when),
        "utc_offset_min": 60,
        "category_code": rng.choice(CATEGORIES),
        "severity": rng.choice((None, 1, 2, 3)),
        "description": "Benchrapport",
        "lat": lat,
        "lon": lon,
        "accuracy_m": 15.0,
        "place": "",
        "people_count": None,
        "photos": "[]",
        "clocks": "{}",
        "status": "ny",
        "incident_id": None,
        "incident_pinned": 0,
        "area_id": rng.choice(area_ids) if rng.random() < 0.8 else None,
        "place_id": None,
        "received_at": _sql_time(when),
        "updated_at": _sql_time(when),
        "version": 1,
        "change_seq": seq,
    }


def _incident(row: dict) -> dict:
    """The one-report incident of a history row."""
    return {
        "id": row["id"],
        "seed_id": row["id"],
        "org_id": row["org_id"],
        "category_code": row["category_code"],
        "status": "avslutad",
        "responsible": None,
        "frozen": 0,
        "first_at": row["created_at"],
        "last_at": row["created_at"],
        "report_count": 1,
        "max_severity": row["severity"],
        "urgent": 0,
        "lat": row["lat"],
        "lon": row["lon"],
        "area_id": row["area_id"],
        "place_id": None,
        "place": "",
        "summary": row["description"],
        "device_kinds": '["vaktare"]',
        "created_at": row["created_at"],
        "updated_at": row["created_at"],
    }


def _insert(conn: sqlite3.Connection, table: str, rows: list[dict]) -> None:
    """Insert rows with one executemany."""
    if not rows:
        return
    names = list(rows[0])
    sql = f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})"  # noqa: S608
    conn.executemany(sql, [tuple(r[n] for n in names) for r in rows])
