"""In-process CPU per pull and per photo upload, with the cProfile top of each.

`python -m bench.load cost` measures the whole server (gunicorn and PostgreSQL) over HTTP;
this probe runs the app in this process behind Flask's test client, so a profile shows
where one operation spends its CPU. Figures are this process's CPU-seconds (with SQLite
that includes the database); on PostgreSQL the server's CPU is added from /proc.

    .venv/bin/python -m bench.opcost                      # SQLite, pulls and both photo sizes
    .venv/bin/python -m bench.opcost --db postgres        # the throwaway PostgreSQL server
    .venv/bin/python -m bench.opcost --only imaging --top 0   # process_image alone, no profile
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import hashlib
import pstats
import random
import secrets
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from bench.ingestlib.machine import tree_cpu
from bench.loadlib.photos import make_jpeg

PHOTO_KINDS = (("1024x768", 1024, 768), ("1600x1200", 1600, 1200), ("4000x3000", 4000, 3000))
PARTS = ("pull", "photo", "imaging")


@dataclass
class Cost:
    """CPU of one kind of operation: ms per op in this process and in PostgreSQL."""

    name: str
    ops: int
    app_ms: float
    db_ms: float
    stats: pstats.Stats | None


@contextlib.contextmanager
def _database(kind: str, tmp: Path) -> Iterator[tuple[str, Callable[[], float]]]:
    """Yield a database URL and a function returning the database server's CPU-seconds."""
    if kind == "sqlite":
        yield f"sqlite:///{tmp / 'opcost.sqlite3'}", lambda: 0.0
        return
    from bench.ingestlib.db import start_postgres

    pg = start_postgres()
    try:
        pg.create_database("lb_opcost")
        pid = int((pg.data_dir / "postmaster.pid").read_text().split()[0])
        yield pg.url("lb_opcost"), lambda: tree_cpu(pid)
    finally:
        pg.stop()


def _app(url: str, tmp: Path) -> Flask:
    """Create a migrated app on the database, with no background jobs (not measured)."""
    from flask_migrate import upgrade

    from server.app import create_app

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": secrets.token_hex(32),
            "DATA_DIR": str(tmp / "data"),
            "LAGESBILD_ENV": "production",
            "GROUPING": "queue",
            # No job threads: process_time() counts every thread of the process.
            "DIGEST_SCHEDULER": False,
            "PURGE_SCHEDULER": False,
            "ALERTS_SCHEDULER": False,
        }
    )
    with app.app_context():
        upgrade()
    return app


def _measure(
    name: str,
    work: Callable[[int], None],
    db_cpu: Callable[[], float],
    args: argparse.Namespace,
    ops: int,
    setup: Callable[[int], None] | None = None,
) -> Cost:
    """Time `ops` calls of `work` `args.repeat` times (the cheapest round counts), then profile.

    Call number i of the whole run gets i, so each call can use its own photo; `setup`, when
    given, runs before each call outside the timing and the profile. On a machine others
    share, the cheapest round is the one least slowed by them.
    """
    rounds = []
    for r in range(args.repeat):
        app_s = db_s = 0.0
        for i in range(r * ops, (r + 1) * ops):
            if setup is not None:
                setup(i)
            cpu0, db0 = time.process_time(), db_cpu()
            work(i)
            app_s, db_s = app_s + time.process_time() - cpu0, db_s + db_cpu() - db0
        rounds.append((app_s + db_s, app_s, db_s))
    _, app_s, db_s = min(rounds)
    stats = None
    if args.top > 0:
        prof = cProfile.Profile(time.process_time)  # CPU, not wall time
        for i in range(args.repeat * ops, (args.repeat + 1) * ops):
            if setup is not None:
                setup(i)
            prof.enable()
            work(i)
            prof.disable()
        stats = pstats.Stats(prof)
    return Cost(name, ops, app_s / ops * 1000, db_s / ops * 1000, stats)


def _ok(resp: Any, *codes: int) -> Any:
    """Return the response's JSON, or stop on an unexpected status."""
    if resp.status_code not in codes:
        raise SystemExit(f"unexpected {resp.status_code}: {resp.get_data(as_text=True)[:300]}")
    return resp.get_json()


def _seed(client: FlaskClient, tokens: list[str], reports: int, rnd: random.Random) -> None:
    """Push `reports` reports spread over the devices, a third naming a photo, 50 per push."""
    from tests.support import factories

    batch: list[dict[str, Any]] = []
    for i in range(reports):
        photos = [hashlib.sha256(f"p{i}".encode()).hexdigest()] if i % 3 == 0 else []
        lat, lon = 55.60 + rnd.random() * 0.08, 13.15 + rnd.random() * 0.1
        batch.append(factories.report(photos=photos, location={"lat": lat, "lon": lon}))
        if len(batch) == 50 or i == reports - 1:
            token = tokens[(i // 50) % len(tokens)]
            headers = {"Authorization": f"Bearer {token}"}
            _ok(client.post("/api/v1/sync/push", json={"reports": batch}, headers=headers), 200)
            batch = []


def _pull_all(client: FlaskClient, headers: dict[str, str], cursor: str | None) -> str:
    """Pull page after page as pwa/sync-pull.js does; return the last cursor."""
    page = 0
    while True:
        query = "pending=0" if page == 0 else ""
        if cursor:
            query += f"&cursor={cursor}"
        body = _ok(client.get(f"/api/v1/sync/pull?{query}", headers=headers), 200)
        cursor, page = body["cursor"], page + 1
        if not body["more"]:
            return str(cursor)


def seed_org(app: Flask, args: argparse.Namespace) -> list[str]:
    """Make an organisation with its devices and reports, grouped; return the tokens."""
    from server.incidents.grouping import assign_pending
    from tests.support import factories

    with app.app_context():
        org = factories.make_org("Opcostkommun")
        enrolled = [factories.make_device(org) for _ in range(max(2, args.devices))]
        org_id, tokens = org.id, [e.token for e in enrolled]
    _seed(app.test_client(), tokens, args.reports, random.Random(14))
    with app.app_context():
        assign_pending(org_id)  # as the background pass would have, before the pulls
    return tokens


def measure_pulls(
    app: Flask, args: argparse.Namespace, db_cpu: Callable[[], float], token: str
) -> list[Cost]:
    """Time idle pulls and pulls after a push of 4 reports of a device of the organisation."""
    from tests.support import factories

    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    cursor = _pull_all(client, headers, None)
    idle = f"/api/v1/sync/pull?pending=0&cursor={cursor}"
    costs = [
        _measure(
            f"idle pull with cursor ({args.reports} reports in the org)",
            lambda _: _ok(client.get(idle, headers=headers), 200),
            db_cpu,
            args,
            args.pulls,
        )
    ]
    state = {"cursor": cursor}

    def after_push(_: int) -> None:
        body = {"reports": [factories.report() for _ in range(4)]}
        _ok(client.post("/api/v1/sync/push", json=body, headers=headers), 200)

    def pull_after_push(i: int) -> None:
        path = f"/api/v1/sync/pull?pending=0&cursor={state['cursor']}"
        answer = _ok(client.get(path, headers=headers), 200)
        state["cursor"] = answer["cursor"]

    # The pushes are done between the timed pulls, outside the measurement.
    name = "pull after a push of 4 reports"
    costs.append(_measure(name, pull_after_push, db_cpu, args, args.pulls, setup=after_push))
    return costs


def measure_photos(
    app: Flask, args: argparse.Namespace, db_cpu: Callable[[], float], token: str
) -> list[Cost]:
    """Time uploads of new photos of each size, each named by a report pushed before."""
    from tests.support import factories

    client = app.test_client()
    auth = {"Authorization": f"Bearer {token}"}
    costs = []
    for name, width, height in _kinds(args):
        count = (args.repeat + 1) * args.photos
        photos = [make_jpeg(5000 + i, width, height) for i in range(count)]
        hashes = [hashlib.sha256(p).hexdigest() for p in photos]
        for start in range(0, len(hashes), 50):
            batch = [factories.report(photos=[h]) for h in hashes[start : start + 50]]
            _ok(client.post("/api/v1/sync/push", json={"reports": batch}, headers=auth), 200)

        def upload(i: int, photos: list[bytes] = photos, hashes: list[str] = hashes) -> None:
            headers = {**auth, "Content-Type": "image/jpeg"}
            _ok(client.put(f"/api/v1/photos/{hashes[i]}", data=photos[i], headers=headers), 201)

        costs.append(_measure(f"photo upload {name}", upload, db_cpu, args, args.photos))
    return costs


def measure_imaging(args: argparse.Namespace) -> list[Cost]:
    """Time process_image alone (no HTTP, hashing, storage or database)."""
    from server.photos.imaging import process_image

    costs = []
    for name, width, height in _kinds(args):
        count = (args.repeat + 1) * args.photos
        photos = [make_jpeg(7000 + i, width, height) for i in range(count)]
        costs.append(
            _measure(
                f"process_image {name}",
                lambda i, photos=photos: process_image(photos[i]),
                lambda: 0.0,
                args,
                args.photos,
            )
        )
    return costs


def _kinds(args: argparse.Namespace) -> list[tuple[str, int, int]]:
    """Return the photo sizes asked for."""
    return [k for k in PHOTO_KINDS if k[0] in args.sizes.split(",")]


def print_cost(cost: Cost, top: int) -> None:
    """Print one operation's CPU and its profile top."""
    total = cost.app_ms + cost.db_ms
    db = f" + {cost.db_ms:.2f} ms PostgreSQL" if cost.db_ms else ""
    print(f"\n=== {cost.name}: {cost.ops} ops, {cost.app_ms:.2f} ms app CPU{db} = {total:.2f} ms")
    if cost.stats is not None and top > 0:
        cost.stats.sort_stats("cumulative").print_stats(top)
        cost.stats.sort_stats("tottime").print_stats(top)


def main(argv: list[str] | None = None) -> int:
    """Run the probe and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--only", default=",".join(PARTS), help="pull,photo,imaging")
    parser.add_argument("--reports", type=int, default=3000, help="reports in the organisation")
    parser.add_argument("--devices", type=int, default=10, help="devices that pushed them")
    parser.add_argument("--pulls", type=int, default=200, help="pulls per kind")
    parser.add_argument("--photos", type=int, default=20, help="uploads per photo size")
    sizes = ",".join(k[0] for k in PHOTO_KINDS)
    parser.add_argument("--sizes", default="1024x768,1600x1200", help=f"of {sizes}")
    parser.add_argument("--repeat", type=int, default=3, help="rounds; the cheapest counts")
    parser.add_argument("--top", type=int, default=25, help="profile lines (0: no profile)")
    args = parser.parse_args(argv)
    parts = set(args.only.split(","))
    costs: list[Cost] = []
    with tempfile.TemporaryDirectory(prefix="opcost-") as name:
        tmp = Path(name)
        if "imaging" in parts:
            costs += measure_imaging(args)
        if parts & {"pull", "photo"}:
            with _database(args.db, tmp) as (url, db_cpu):
                app = _app(url, tmp)
                tokens = seed_org(app, args)
                if "pull" in parts:
                    costs += measure_pulls(app, args, db_cpu, tokens[0])
                if "photo" in parts:
                    costs += measure_photos(app, args, db_cpu, tokens[1])
                with app.app_context():
                    from server.extensions import db

                    db.engine.dispose()
    for cost in costs:
        print_cost(cost, args.top)
    print(f"\n=== SUMMARY ({args.db}; ms CPU per operation)")
    for cost in costs:
        # Python calls per operation do not depend on what else runs on the machine.
        per_op = cost.stats.total_calls / cost.ops if cost.stats else 0  # type: ignore[attr-defined]
        calls = f", {per_op:.0f} Python calls" if per_op else ""
        print(f"  {cost.name}: {cost.app_ms + cost.db_ms:.2f} ms (app {cost.app_ms:.2f}){calls}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
