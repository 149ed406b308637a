#!/usr/bin/env python3
"""Morning digest benchmark: build_digest + render for a night of ~500 reports, two stores.

Builds (or reuses, with --reuse) a store of 10,000 reports and one of 1,000,000 reports
(`bench/storegen.py`) that share the same most recent 10,000 reports (the last 84 days)
plus `--night` extra reports in the last night (18:00–06:00 local before NOW), and differ
only in two years of history before them. The digest of that night (content and the
e-mail render, CID images) is timed on both — median of --runs after a warm-up — and
printed with the ratio large/small against the issue's targets: ratio <= 1.5 and the
large store under 1 s. The runs on the two stores are interleaved, so a busy moment of a
shared machine falls on both alike.

    .venv/bin/python bench/digest.py [--large 1000000] [--runs 9] [--reuse]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.storegen import Store, build_store  # noqa: E402

NOW = datetime(2026, 11, 21, 7, 0, tzinfo=UTC)  # 08:00 local: the night ended at 06:00
RECENT = 10_000
RECENT_DAYS = 84
NIGHT = 500
TARGET_RATIO = 1.5
TARGET_SECONDS = 1.0
BASE_URL = "https://lagesbild.example.se"


def _store(path: Path, total: int, night: int, reuse: bool) -> Store:
    """Build the store, or reuse one built earlier with the same parameters."""
    if reuse and path.exists():
        from server.orgs.models import Organisation

        store = Store(path, path.with_suffix(".data"), 0, NOW, total, 0.0)
        with store.app().app_context():
            from server.extensions import db

            store.org_id = db.session.query(Organisation.id).scalar()
        return store
    return build_store(
        path, total=total, recent=RECENT, recent_days=RECENT_DAYS, now=NOW, night_extra=night
    )


class Bench:
    """One store's app and the digest of the night before NOW, ready to time."""

    def __init__(self, store: Store) -> None:
        """Create an app on the store."""
        from analysis.calendar import last_night

        self.store = store
        self.app = store.app()
        self.start, self.end = last_night(NOW)
        self.day = self.end.date()

    def content(self) -> Any:
        """Build the digest (content only)."""
        from server.digest.content import build_digest
        from server.extensions import db

        with self.app.app_context():
            digest = build_digest(self.store.org_id, "night", self.day, now=NOW)
            db.session.rollback()
        return digest

    def both(self) -> Any:
        """Build the digest and render the e-mail (HTML, text, CID images)."""
        from server.digest.render import render

        return render(self.content(), "sv", base_url=BASE_URL, image_mode="cid")

    def describe(self) -> dict[str, float]:
        """Count what the store and the night hold."""
        from sqlalchemy import func, select

        from server.extensions import db
        from server.reports.models import Report

        digest = self.content()
        rendered = self.both()
        with self.app.app_context():
            night = db.session.scalar(
                select(func.count()).where(
                    Report.org_id == self.store.org_id,
                    Report.created_at >= self.start,
                    Report.created_at < self.end,
                )
            )
            total = db.session.scalar(select(func.count()).select_from(Report))
            db.session.rollback()
        return {
            "night": night or 0,
            "total": total or 0,
            "incidents": digest.incidents,
            "action": digest.action_total,
            "places": digest.places_total,
            "followups": digest.followups.total,
            "html_kb": len(rendered.html.encode()) / 1024,
        }


def _time_ms(fn: Callable[[], object]) -> float:
    """Return the wall time of one call in ms."""
    t = time.perf_counter()
    fn()
    return (time.perf_counter() - t) * 1000


def measure(small: Bench, large: Bench, runs: int) -> dict[str, tuple[float, float]]:
    """Median times on both stores, the runs interleaved so machine noise hits both alike."""
    out: dict[str, tuple[float, float]] = {}
    for name in ("content", "content + render"):
        times: dict[str, list[float]] = {"small": [], "large": []}
        for bench in (small, large):  # warm-up
            (bench.content if name == "content" else bench.both)()
        for _ in range(runs):
            for key, bench in (("small", small), ("large", large)):
                times[key].append(_time_ms(bench.content if name == "content" else bench.both))
        out[name] = (statistics.median(times["small"]), statistics.median(times["large"]))
    return out


def main(argv: list[str] | None = None) -> int:
    """Build both stores, measure, print the figures and the verdicts."""
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--large", type=int, default=1_000_000)
    p.add_argument("--night", type=int, default=NIGHT, help="extra reports in the last night")
    p.add_argument("--runs", type=int, default=9)
    p.add_argument("--dir", type=Path, default=Path("/tmp/lagesbild-bench"))
    p.add_argument("--reuse", action="store_true", help="reuse stores built by an earlier run")
    args = p.parse_args(argv)
    args.dir.mkdir(parents=True, exist_ok=True)
    small = _store(args.dir / f"digest-small-n{args.night}.sqlite3", RECENT, args.night, args.reuse)
    large = _store(
        args.dir / f"digest-large-{args.large}-n{args.night}.sqlite3",
        args.large,
        args.night,
        args.reuse,
    )
    small_bench, large_bench = Bench(small), Bench(large)
    a, b = small_bench.describe(), large_bench.describe()

    def built(store: Store) -> str:
        return f"built in {store.seconds_to_build:.0f} s" if store.seconds_to_build else "reused"

    print(
        f"stores: {int(a['total']):,} reports ({built(small)}), "
        f"{int(b['total']):,} reports ({built(large)})"
    )
    print(
        f"the night (18:00–06:00 local, ending {small_bench.end:%Y-%m-%d %H:%M}): "
        f"{int(a['night'])} / {int(b['night'])} reports, "
        f"{int(a['incidents'])} / {int(b['incidents'])} incidents, "
        f"{int(a['action'])} need action, {int(a['places'])} recurring places, "
        f"{int(a['followups'])} / {int(b['followups'])} open follow-ups; "
        f"HTML {a['html_kb']:.0f} KiB"
    )
    figures = measure(small_bench, large_bench, args.runs)
    print(f"median of {args.runs} interleaved runs after a warm-up")
    print(f"{'operation':<20}{'10k ms':>10}{'large ms':>10}{'ratio':>8}  target")
    ok = True
    for name, (small_ms, large_ms) in figures.items():
        ratio = large_ms / small_ms
        line = f"{name:<20}{small_ms:>10.1f}{large_ms:>10.1f}{ratio:>8.2f}"
        if name == "content + render":
            ratio_ok = ratio <= TARGET_RATIO
            fast = large_ms <= TARGET_SECONDS * 1000
            ok = ratio_ok and fast
            line += (
                f"  ratio {'PASS' if ratio_ok else 'MISS'} (<= {TARGET_RATIO}); "
                f"{large_ms / 1000:.3f} s {'PASS' if fast else 'MISS'} (< {TARGET_SECONDS:.0f} s)"
            )
        print(line)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
