#!/usr/bin/env python3
"""Workspace read-side benchmark: night view, recurring places, trends, on two store sizes.

Builds (or reuses, with --reuse) a store of 10,000 reports and one of 1,000,000 reports
that share the same most recent 10,000 (the last 84 days) and differ only in two years of
history before them. Each query is timed (median of --runs after a warm-up) on both, and
the ratio large/small is printed against the issue's targets: ratio <= 2 and the night
view under 200 ms.

    .venv/bin/python bench/workspace.py [--large 1000000] [--runs 7] [--reuse]
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.storegen import Store, build_store  # noqa: E402

NOW = datetime(2026, 11, 21, 7, 0, tzinfo=UTC)
RECENT = 10_000
RECENT_DAYS = 84
TARGET_RATIO = 2.0
TARGET_NIGHT_MS = 200.0


def _store(path: Path, total: int, reuse: bool) -> Store:
    """Build the store, or reuse one built earlier with the same size."""
    if reuse and path.exists():
        from server.orgs.models import Organisation

        store = Store(path, path.with_suffix(".data"), 0, NOW, total, 0.0)
        with store.app().app_context():
            from server.extensions import db

            store.org_id = db.session.query(Organisation.id).scalar()
        return store
    return build_store(path, total=total, recent=RECENT, recent_days=RECENT_DAYS, now=NOW)


def _median_ms(fn: Callable[[], object], runs: int) -> float:
    """Run once to warm up, then return the median wall time of `runs` runs in ms."""
    fn()
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def measure(store: Store, runs: int) -> dict[str, float]:
    """Time the three read-side operations on a store."""
    from analysis.calendar import STOCKHOLM, last_night
    from analysis.trends import baseline_by_key
    from server.extensions import db
    from server.geography.service import recurring_places
    from server.incidents.queries import (
        IncidentFilter,
        daily_counts,
        list_incidents,
    )

    app = store.app()
    out: dict[str, float] = {}
    with app.app_context():
        start, end = last_night(NOW)
        today = NOW.date()

        def night() -> object:
            rows = list_incidents(store.org_id, IncidentFilter(start=start, end=end))
            db.session.rollback()
            return rows

        def recurring() -> object:
            places = recurring_places(store.org_id, now=NOW)
            db.session.rollback()
            return places

        def trends() -> object:
            counts = daily_counts(store.org_id, today - timedelta(weeks=12), today)
            # The trends page's comparison of the last day (same weekday, four weeks before).
            compared = (
                baseline_by_key(counts.by_category, today, weeks=4),
                baseline_by_key(counts.by_area, today, weeks=4),
            )
            db.session.rollback()
            return counts, compared

        # The same work as pages, through the whole Flask stack (session, templates).
        from server.auth import service as persons
        from server.orgs.models import Organisation

        email = "bench@example.invalid"
        if db.session.query(persons.Person).filter_by(email=email).first() is None:
            persons.create(
                db.session.get(Organisation, store.org_id), email, "coordinator", "x" * 12
            )
        db.session.commit()
        client = app.test_client()
        page = client.get("/workspace/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token" value="([^"]+)"', page)
        assert token is not None
        client.post(
            "/workspace/login",
            data={"email": email, "password": "x" * 12, "csrf_token": token.group(1)},
        )
        night_date = end.astimezone(STOCKHOLM).date().isoformat()
        pages = {
            "night view page": f"/workspace/?night={night_date}",
            "trends page": f"/workspace/trends?to={today - timedelta(days=1)}&weeks=8",
            "places page": "/workspace/places",
        }
        for name, url in pages.items():

            def get(url: str = url) -> object:
                resp = client.get(url)
                assert resp.status_code == 200, (url, resp.status_code)
                return resp

            out[name] = _median_ms(get, runs)
        out["night view"] = _median_ms(night, runs)
        out["recurring places"] = _median_ms(recurring, runs)
        out["trends"] = _median_ms(trends, runs)
        out["_night_incidents"] = len(night())  # type: ignore[arg-type]
        out["_places"] = len(recurring())  # type: ignore[arg-type]
        db.engine.dispose()
    return out


def main(argv: list[str] | None = None) -> int:
    """Build both stores, measure, print the table."""
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--large", type=int, default=1_000_000)
    p.add_argument("--runs", type=int, default=7)
    p.add_argument("--dir", type=Path, default=Path("/tmp/lagesbild-bench"))
    p.add_argument("--reuse", action="store_true", help="reuse stores built by an earlier run")
    args = p.parse_args(argv)
    args.dir.mkdir(parents=True, exist_ok=True)
    small = _store(args.dir / "small.sqlite3", RECENT, args.reuse)
    large = _store(args.dir / f"large-{args.large}.sqlite3", args.large, args.reuse)
    print(
        f"stores: {RECENT:,} reports (built in {small.seconds_to_build:.0f} s), "
        f"{args.large:,} reports (built in {large.seconds_to_build:.0f} s); "
        f"both share the last {RECENT:,} reports over {RECENT_DAYS} days"
    )
    a, b = measure(small, args.runs), measure(large, args.runs)
    print(
        f"night view: {int(a['_night_incidents'])} / {int(b['_night_incidents'])} incidents; "
        f"recurring places: {int(a['_places'])} / {int(b['_places'])}"
    )
    print(f"{'operation':<18}{'10k ms':>10}{'large ms':>10}{'ratio':>8}  target")
    ok = True
    for name in (
        "night view",
        "recurring places",
        "trends",
        "night view page",
        "trends page",
        "places page",
    ):
        ratio = b[name] / a[name]
        verdict = "PASS" if ratio <= TARGET_RATIO else "MISS"
        extra = ""
        if name.startswith("night view"):
            fast = b[name] <= TARGET_NIGHT_MS
            extra = f"; {b[name]:.1f} ms {'PASS' if fast else 'MISS'} (<= {TARGET_NIGHT_MS:.0f} ms)"
            ok = ok and fast
        ok = ok and ratio <= TARGET_RATIO
        print(
            f"{name:<18}{a[name]:>10.1f}{b[name]:>10.1f}{ratio:>8.2f}  "
            f"ratio {verdict} (<= {TARGET_RATIO}){extra}"
        )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
