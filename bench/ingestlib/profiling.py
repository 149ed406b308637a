"""Profile mode: the app in this process behind Flask's test client, one batch broken down."""

from __future__ import annotations

import argparse
import cProfile
import functools
import math
import pstats
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bench.ingestlib.common import PUSH_PATH, BenchError, median_ms
from bench.ingestlib.db import Database, pg_table_stats, server_database
from bench.ingestlib.payload import push_body, report_template
from bench.ingestlib.profile_report import print_profile
from bench.ingestlib.timers import Timers, install_timers

WARM_UP = 20  # batches before the first measurement


@dataclass
class Profile:
    """What profile mode measured (times in ms per request unless noted)."""

    kind: str
    batch: int
    n: int  # requests per measurement
    warm_up: int  # batches before the first measurement
    mean: float  # batch of `batch`
    p50: float
    mean1: float  # batch of 1
    mean0: float  # batch of 0
    timers: Timers
    untimed: list[str]  # timer targets absent in this version of the server
    timed_total_s: float  # wall time of the n requests under the timers
    stats: pstats.Stats  # cProfile of another n requests
    rows: int  # rows in reports at the end

    @property
    def per_report(self) -> float:
        """Marginal ms per report, from the batch of 1 vs the full batch."""
        return (self.mean - self.mean1) / (self.batch - 1) if self.batch > 1 else math.nan

    @property
    def expected_rows(self) -> int:
        """Rows the run must have written: warm-up, plain, timers and cProfile batches + 1s."""
        return self.warm_up * self.batch + 3 * self.n * self.batch + self.n


def profile_mode(args: argparse.Namespace, tmp: Path, facts: dict[str, str]) -> int:
    """Break the cost of one batch down in-process (no HTTP server, no concurrency)."""
    with server_database(args.db, tmp, 1, facts) as (db, pg):
        prof = _measure(db, tmp, args.batch, args.profile_batches)
        print_profile(prof, facts, args.profile_top)
        print(f"\nrows written: {prof.rows} (expected {prof.expected_rows})")
        if pg is not None:
            print(f"postgres reports table: {pg_table_stats(pg, db)}")
        return 0 if prof.rows == prof.expected_rows else 1


def _measure(db: Database, tmp: Path, batch: int, n: int) -> Profile:
    """Push plain, timed and profiled batches through the test client."""
    from server.app import create_app
    from server.extensions import db as sa_db

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": db.url,
            "SECRET_KEY": db.env["SECRET_KEY"],
            "DATA_DIR": str(tmp / "data"),
            "LAGESBILD_ENV": "production",
            # The request path only: the grouping runs off it (a worker's job), and a job
            # thread in this process would blur the profile.
            "GROUPING": "queue",
        }
    )
    client = app.test_client()
    resp = client.post("/api/v1/enrol", json={"code": db.devices[0]["code"]})
    assert resp.status_code == 201, resp.data
    headers = {"Authorization": f"Bearer {resp.json['token']}"}
    template = report_template(datetime.now(UTC))

    # A partial adds no Python frame of ours to the profiles.
    post = functools.partial(
        client.post, PUSH_PATH, headers=headers, content_type="application/json"
    )

    def bodies(count: int, size: int) -> list[bytes]:
        return [push_body(template, size) for _ in range(count)]

    def run(count: int, size: int) -> list[float]:
        times = []
        for body in bodies(count, size):
            t = time.perf_counter()
            r = post(data=body)
            times.append(time.perf_counter() - t)
            if r.status_code != 200:
                raise BenchError(f"push failed: {r.status_code} {r.data[:300]!r}")
            if size and any(x["status"] != "created" for x in r.json["results"]):
                raise BenchError(f"unexpected results: {r.data[:300]!r}")
        return times

    def mean_ms(times: list[float]) -> float:
        return sum(times) / len(times) * 1000

    run(WARM_UP, batch)
    plain = run(n, batch)
    one = run(n, 1)
    empty = run(n, 0)

    timers = Timers()
    untimed = install_timers(app, timers)
    try:
        t = time.perf_counter()
        for body in bodies(n, batch):
            with timers.span("test_client.post (whole request)"):
                post(data=body)
        timed_total = time.perf_counter() - t
    finally:
        timers.restore()

    prof = cProfile.Profile()
    profiled = bodies(n, batch)
    prof.enable()
    for body in profiled:
        post(data=body)
    prof.disable()

    with app.app_context():
        rows = sa_db.session.execute(sa_db.text("SELECT count(*) FROM reports")).scalar_one()
        sa_db.session.remove()
        sa_db.engine.dispose()

    return Profile(
        kind=db.kind,
        batch=batch,
        n=n,
        warm_up=WARM_UP,
        mean=mean_ms(plain),
        p50=median_ms(plain),
        mean1=mean_ms(one),
        mean0=mean_ms(empty),
        timers=timers,
        untimed=untimed,
        timed_total_s=timed_total,
        stats=pstats.Stats(prof),
        rows=rows,
    )
