"""The shift-end load scenario (bench/load.py), scaled down, as part of the suite.

30 phones each sync 5 reports and 1 photo through locust against gunicorn with the deploy
configuration, on each backend. Only correctness is asserted: no failed request, no crash
in the server's log, and exactly the sent rows in the database. Timings are printed by the
benchmark and never asserted here.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from bench.loadlib.photos import PhotoFile
from bench.loadlib.plan import device_plans
from bench.loadlib.rss import RssSeries
from tests.support.gunicorn import REPO_ROOT

DEVICES, REPORTS, PHOTOS = 30, 5, 1
SCALED_DOWN = [
    "--devices", str(DEVICES),
    "--reports", str(REPORTS),
    "--photos", str(PHOTOS),
    "--passes", "3",
    "--think", "0.2", "1.0",
    "--spawn-seconds", "3",
    "--photo-size", "320x240",
    "--time-limit", "60",
]  # fmt: skip


def _rows(database_url: str) -> tuple[int, int, int]:
    """Count reports, photos and report ids stored more than once."""
    engine = sa.create_engine(database_url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            reports = conn.execute(sa.text("SELECT count(*) FROM reports")).scalar_one()
            photos = conn.execute(sa.text("SELECT count(*) FROM photos")).scalar_one()
            twice = conn.execute(
                sa.text(
                    "SELECT count(*) FROM (SELECT id FROM reports GROUP BY id"
                    " HAVING count(*) > 1) d"
                )
            ).scalar_one()
    finally:
        engine.dispose()
    return int(reports), int(photos), int(twice)


def test_shift_end_scaled_down_stores_every_report_and_photo_once(
    database_url: str, tmp_path: Path
) -> None:
    """30 devices x (5 reports + 1 photo) through locust: 0 errors, exact row counts."""
    out = tmp_path / "figures.json"
    proc = subprocess.run(
        [
            sys.executable, "-m", "bench.load", "shift-end",
            "--database-url", database_url, "--json-out", str(out), *SCALED_DOWN,
        ],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=150,
    )  # fmt: skip
    report = f"exit {proc.returncode}\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}"
    assert out.exists(), report
    figures = json.loads(out.read_text())
    assert figures["finished"], report
    assert figures["errors"] == 0, report
    kinds = figures["kinds"]
    assert kinds["push"]["count"] == DEVICES * 3 and kinds["push"]["errors"] == 0, report
    assert kinds["photo upload"]["count"] == DEVICES * PHOTOS, report
    assert kinds["pull"]["count"] >= DEVICES * 3, report
    assert figures["acked_reports"] == DEVICES * REPORTS, report
    # What the database holds, read here rather than trusted from the benchmark.
    assert _rows(database_url) == (DEVICES * REPORTS, DEVICES * PHOTOS, 0), report
    assert proc.returncode == 0, report


def test_device_plans_spread_reports_and_photos_over_passes() -> None:
    """Every photo is named by one report of its own pass; counts per device are exact."""
    photos = [PhotoFile(f"{i:064x}", Path(f"/nonexistent/{i}.jpg"), 1) for i in range(10)]
    plans = device_plans(["t1", "t2"], photos, reports_each=20, photos_each=5, passes=5)
    assert [p.token for p in plans] == ["t1", "t2"]
    for device, plan in enumerate(plans):
        assert plan.reports == 20 and len(plan.passes) == 5
        own = {p.sha256 for p in photos[device * 5 : device * 5 + 5]}
        uploaded = [ph.sha256 for sp in plan.passes for ph in sp.photos]
        assert sorted(uploaded) == sorted(own)
        for sync_pass in plan.passes:
            named = [sha for r in sync_pass.reports for sha in r["photos"]]
            assert sorted(named) == sorted(ph.sha256 for ph in sync_pass.photos)
    ids = [r["id"] for plan in plans for sp in plan.passes for r in sp.reports]
    assert len(set(ids)) == 40


def test_rss_growth_compares_first_and_last_minute_of_workers_that_lived_through() -> None:
    """Growth is last-minute mean over first-minute mean; a replaced worker is left out."""
    series = RssSeries(master=0, interval=10)
    series.samples = {
        1: [(t, 100_000 if t <= 60 else 111_000) for t in range(0, 610, 10)],
        2: [(t, 100_000) for t in range(0, 610, 10)],
        3: [(t, 50_000) for t in range(0, 300, 10)],  # replaced halfway
    }
    growth = series.growth()
    assert set(growth) == {1, 2}
    assert growth[1][2] == pytest.approx(0.11) and growth[2][2] == 0
    assert series.replaced_workers() == [3]
