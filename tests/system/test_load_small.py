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

import sqlalchemy as sa

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
