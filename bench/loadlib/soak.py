"""Soak: minutes of mixed traffic while every gunicorn worker's memory is sampled."""

from __future__ import annotations

import argparse
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.loadlib import photos as photo_gen
from bench.loadlib.report import print_errors, print_kinds, verdict
from bench.loadlib.rss import RssSeries
from bench.loadlib.runner import run_users
from bench.loadlib.serve import serving
from bench.loadlib.stats import Recorder
from bench.loadlib.store import Stored, count
from bench.loadlib.users import coordinator_user, soak_phone_user

TARGET_GROWTH = 0.10  # worker RSS, last minute's mean against the first minute's
TARGET_ERRORS = 0
PHOTO_SHARE = 0.5  # passes that upload a new photo
PHOTO_POOL_MARGIN = 1.2  # photos made beyond the expected need; then the pool repeats


@dataclass
class SoakResult:
    """The figures of one soak run."""

    minutes: float
    recycle: bool
    recorder: Recorder
    rss: RssSeries
    stored: Stored
    server_cpu: dict[str, float]
    log_problems: list[str] = field(default_factory=list)
    facts: dict[str, str] = field(default_factory=dict)

    @property
    def errors(self) -> int:
        """Return failed requests plus server log lines showing a crash or a 500."""
        return self.recorder.errors + len(self.log_problems)

    @property
    def max_growth(self) -> float:
        """Return the largest growth of a worker that lived through the run (NaN if none)."""
        growth = [g for _, _, g in self.rss.growth().values()]
        return max(growth) if growth else math.nan

    @property
    def counts_exact(self) -> bool:
        """Tell whether the database holds exactly the acknowledged reports."""
        return (
            self.stored.reports == self.recorder.acked_reports
            and self.stored.duplicate_report_ids == 0
        )

    @property
    def correct(self) -> bool:
        """Tell whether there were no errors, memory stayed flat and counts are exact."""
        return (
            self.errors == TARGET_ERRORS and self.max_growth <= TARGET_GROWTH and self.counts_exact
        )

    def as_json(self) -> dict[str, Any]:
        """Return the figures as plain JSON data."""
        rec = self.recorder
        return {
            "minutes": self.minutes,
            "recycle": self.recycle,
            "elapsed_s": rec.elapsed,
            "errors": self.errors,
            "error_samples": rec.error_samples() + self.log_problems[:5],
            "kinds": {name: k.summary() for name, k in sorted(rec.kinds.items())},
            "acked_reports": rec.acked_reports,
            "stored_photos_acked": rec.stored_photos,
            "db_reports": self.stored.reports,
            "db_photos": self.stored.photos,
            "counts_exact": self.counts_exact,
            "rss_kib": {str(pid): series for pid, series in self.rss.samples.items()},
            "growth": {str(pid): g for pid, g in self.rss.growth().items()},
            "replaced_workers": self.rss.replaced_workers(),
            "server_cpu_s": self.server_cpu,
            "facts": self.facts,
            "correct": self.correct,
        }


def run_soak(args: argparse.Namespace, tmp: Path) -> SoakResult:
    """Make the photos, start the server, run the traffic while sampling RSS, count."""
    seconds = args.minutes * 60
    mean_think = sum(args.think) / 2
    expected = args.devices * seconds / mean_think * PHOTO_SHARE
    pool = max(args.devices, math.ceil(expected * PHOTO_POOL_MARGIN))
    t = time.monotonic()
    photos = photo_gen.generate(tmp / "phone-photos", pool, *args.photo_size)
    print(f"set-up: {pool} distinct JPEGs {args.photo_size} in {time.monotonic() - t:.0f} s")
    # Recycling after max_requests would hide a leak behind a fresh worker.
    extra = {} if args.recycle else {"LAGESBILD_MAX_REQUESTS": "0"}
    with serving(tmp, args.devices, args.database_url, extra) as srv:
        print(f"set-up: gunicorn up ({srv.facts['gunicorn workers']}), {args.devices} devices")
        recorder = Recorder()
        phones = soak_phone_user(srv.setup.tokens, photos, recorder, tuple(args.think), PHOTO_SHARE)
        users = {phones: args.devices}
        if args.coordinators:
            reader = coordinator_user(srv.setup.email, srv.setup.password, tuple(args.page_think))
            users[reader] = args.coordinators
        rss = RssSeries(srv.gunicorn.pid, args.sample_seconds)
        rss.maybe_sample()
        cpu_before = srv.server_cpu()
        run_users(
            srv.url,
            users,
            max(1.0, sum(users.values()) / 10),  # everyone within the first ten seconds
            recorder,
            done=lambda: False,
            time_limit=seconds,
            tick=rss.maybe_sample,
        )
        cpu_after = srv.server_cpu()
        rss.maybe_sample()
        return SoakResult(
            args.minutes,
            args.recycle,
            recorder,
            rss,
            count(srv.database_url, srv.setup.org_id),
            {k: cpu_after[k] - cpu_before.get(k, 0.0) for k in cpu_after},
            srv.log_problems(),
            dict(srv.facts),
        )


def print_soak(r: SoakResult) -> None:
    """Print the RSS series per worker, the growth, the latencies and errors with targets."""
    rec = r.recorder
    elapsed = rec.elapsed or math.nan
    print(f"\n=== SOAK: {r.minutes:g} minutes of mixed traffic")
    for key, value in r.facts.items():
        print(f"  {key}: {value}")
    print(f"  worker recycling (max_requests): {'as deployed' if r.recycle else 'off'}")
    total = sum(len(k.times_ms) for k in rec.kinds.values())
    cpu = ", ".join(f"{k} {v / elapsed:.2f} cores" for k, v in r.server_cpu.items())
    print(f"  {total} requests in {elapsed:.0f} s ({total / elapsed:.1f}/s); server CPU: {cpu}")
    print_kinds(rec)
    print_errors(rec, r.log_problems)
    print(
        f"  database: {r.stored.reports} reports ({rec.acked_reports} acknowledged), "
        f"{r.stored.photos} photos ({rec.stored_photos} stored by this run)"
    )
    print("  worker RSS (MiB) every sample:")
    for pid, series in sorted(r.rss.samples.items()):
        values = " ".join(f"{kib / 1024:.0f}" for _, kib in series)
        print(f"    pid {pid}: {values}")
    for pid, (first, last, growth) in sorted(r.rss.growth().items()):
        print(
            f"  pid {pid}: first minute {first / 1024:.1f} MiB, last minute {last / 1024:.1f} MiB,"
            f" growth {growth * 100:+.1f} %"
        )
    if r.rss.replaced_workers():
        print(f"  workers that did not live through the run: {r.rss.replaced_workers()}")
    print("\n  targets:")
    print(
        f"    worker memory growth {r.max_growth * 100:+.1f} % (target within "
        f"{TARGET_GROWTH * 100:.0f} %): {verdict(r.max_growth <= TARGET_GROWTH)}"
    )
    print(f"    errors {r.errors} (target {TARGET_ERRORS}): {verdict(r.errors == TARGET_ERRORS)}")
    print(f"    acknowledged reports all stored once: {verdict(r.counts_exact)}")
