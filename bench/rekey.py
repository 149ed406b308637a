"""Time a grouping pass that re-keys a large incident, against an ordinary pass of one size.

The ingest benchmark sends identical reports (same place, same second), so they all fall
into one incident, and a new report whose random id sorts before the seed's makes it the
new seed: the re-key. This script builds that incident in process (SQLite or PostgreSQL),
then at each size times two passes in the same run:

- the baseline: a pass that only adds 50 reports to the incident (ids sorting last);
- the re-key: a pass with one report whose id sorts before the seed's: the seed's twin
  (renamed, `analysis.twins`), with `--other-place` a twin by position under another
  place text (renamed too), or with `--near` ten metres off (every member regrouped).

Times are this process's CPU time (the pass runs in it, single-threaded), so a busy
machine stretches them less than wall time; the database's fsyncs are not in them.

It prints both, their ratio and what the re-key wrote. Run it on two commits to compare.

    .venv/bin/python bench/rekey.py --sizes 5000,20000,40000 [--db postgres]
        [--near | --other-place]
"""

from __future__ import annotations

import argparse
import cProfile
import itertools
import pstats
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.ingestlib.payload import REPORT, STOCKHOLM_WINTER

CHUNK = 500  # reports per push while building (the server's batch limit)
REPEATS = 3  # passes of each kind per size; the median is printed


def _report(created: str, prefix: str, north_m: float = 0.0, place: str = "") -> dict[str, Any]:
    """Return one bench report whose id starts with `prefix` (where it sorts)."""
    rid = str(uuid.uuid4())
    report = {"id": prefix + rid[len(prefix) :], "created_at": created, **REPORT}
    if place:
        report["place"] = place
    if north_m:
        where = REPORT["location"]
        report["location"] = {**where, "lat": where["lat"] + north_m / 111_320}
    return report


@contextmanager
def _database(kind: str, tmp: Path) -> Iterator[str]:
    """Yield a migrated database URL of the kind asked for."""
    if kind == "sqlite":
        yield f"sqlite:///{tmp / 'rekey.sqlite3'}"
        return
    from tests.support.pgserver import PostgresServer, find_pg_bin

    bin_dir = find_pg_bin()
    if bin_dir is None:
        raise SystemExit("no PostgreSQL binaries under /usr/lib/postgresql/*/bin")
    server = PostgresServer(bin_dir).start()
    try:
        server.create_database("rekey")
        yield server.url("rekey")
    finally:
        server.stop()


@contextmanager
def _counting(engine: Any) -> Iterator[Counter[str]]:
    """Count statements and parameter rows sent while the block runs."""
    from sqlalchemy import event

    stats: Counter[str] = Counter()

    def before(_conn, _cursor, _sql, parameters, _context, executemany) -> None:
        stats["statements"] += 1
        stats["rows_sent"] += len(parameters) if executemany else 1

    event.listen(engine, "before_cursor_execute", before)
    try:
        yield stats
    finally:
        event.remove(engine, "before_cursor_execute", before)


def main(argv: list[str] | None = None) -> int:
    """Build the incident size by size and time both passes at each."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="5000,20000,40000")
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument(
        "--near",
        action="store_true",
        help="send each new seed 10 m off the scene: not the old seed's twin"
        " (analysis.twins), so every member is regrouped",
    )
    parser.add_argument(
        "--other-place",
        action="store_true",
        help="give each new seed its own place text at the scene's position: a twin by"
        " position when no report without a position is near (analysis.twins)",
    )
    parser.add_argument(
        "--profile", action="store_true", help="print a cProfile of one more re-key at the end"
    )
    args = parser.parse_args(argv)
    sizes = sorted(int(s) for s in args.sizes.split(","))

    from flask_migrate import upgrade

    from server.app import create_app
    from server.extensions import db
    from server.incidents import queue
    from tests.support import factories

    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="rekey-")))
        url = stack.enter_context(_database(args.db, tmp))
        app = create_app(
            {
                "SQLALCHEMY_DATABASE_URI": url,
                "SECRET_KEY": "bench-secret-key-not-for-production",
                "DATA_DIR": str(tmp / "data"),
                "LAGESBILD_ENV": "production",
                "GROUPING": "queue",  # this script runs every pass itself, timed
            }
        )
        stack.enter_context(app.app_context())
        upgrade()
        dev = factories.make_device(factories.make_org())
        client = app.test_client()
        created = datetime.now(STOCKHOLM_WINTER).replace(microsecond=0).isoformat()

        def push(reports: list[dict[str, Any]]) -> None:
            resp = client.post("/api/v1/sync/push", json={"reports": reports}, headers=dev.headers)
            if resp.status_code != 200:
                raise SystemExit(f"push failed: {resp.status_code} {resp.data[:300]!r}")

        def timed_pass() -> tuple[float, Counter[str]]:
            db.session.expunge_all()  # a worker's pass starts cold
            with _counting(db.engine) as stats:
                t = time.process_time()
                queue.drain()
                elapsed = time.process_time() - t
            return elapsed, stats

        # The first report is the seed; everything after sorts later ("f…"), so building
        # the incident never re-keys it. Each re-key lowers the seed by one prefix step.
        push([_report(created, "8")])
        queue.drain()
        have = 1
        # With --near each new seed stands 10 m from the one before (it alternates between
        # two spots), so none is its predecessor's twin.
        offsets = itertools.cycle([10.0, 0.0] if args.near else [0.0])
        places = (f"Plats {n}" if args.other_place else "" for n in itertools.count())
        prefixes = iter(f"{n:07x}" for n in range(0x7FFFFFF, 0, -0x1000))
        print(f"database: {args.db}; every pass is timed {REPEATS} times, median shown")
        print(
            f"{'size':>7} {'append 50 (CPU ms)':>19} {'re-key (CPU ms)':>16} {'ratio':>6} "
            f"{'re-key rows written':>20} {'statements':>10}"
        )
        for size in sizes:
            while have < size:
                n = min(CHUNK, size - have)
                push([_report(created, "f") for _ in range(n)])
                queue.drain()
                have += n
            appends, rekeys, written, statements = [], [], [], []
            for _ in range(REPEATS):
                push([_report(created, "f") for _ in range(50)])
                appends.append(timed_pass()[0])
                have += 50
                push([_report(created, next(prefixes), next(offsets), next(places))])
                elapsed, stats = timed_pass()
                rekeys.append(elapsed)
                written.append(stats["rows_sent"])
                statements.append(stats["statements"])
                have += 1
            base, rekey = statistics.median(appends) * 1000, statistics.median(rekeys) * 1000
            print(
                f"{size:>7} {base:>19.1f} {rekey:>16.1f} {rekey / base:>6.1f} "
                f"{max(written):>20} {max(statements):>10}"
            )
        if args.profile:
            push([_report(created, next(prefixes), next(offsets), next(places))])
            db.session.expunge_all()
            prof = cProfile.Profile()
            prof.enable()
            queue.drain()
            prof.disable()
            pstats.Stats(prof).sort_stats("tottime").print_stats(25)
        db.session.remove()
        db.engine.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
