"""Shift end: every device syncs its shift's reports and photos within the window."""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.loadlib import photos as photo_gen
from bench.loadlib.plan import device_plans
from bench.loadlib.runner import run_users
from bench.loadlib.serve import serving
from bench.loadlib.stats import Recorder
from bench.loadlib.store import Stored, count, variant_bytes
from bench.loadlib.users import Progress, shift_user

# The targets, printed beside the figures; a miss is reported, never loosened.
TARGET_WINDOW_S = 120.0
TARGET_P99_PUSH_MS = 1000.0
TARGET_ERRORS = 0


@dataclass
class ShiftResult:
    """The figures of one shift-end run."""

    devices: int
    reports_each: int
    photos_each: int
    photo_bytes_sent: int
    finished: bool
    recorder: Recorder
    stored: Stored
    server_cpu: dict[str, float]
    stored_photo_files: int = 0
    variant_bytes: dict[str, int] = field(default_factory=dict)
    log_problems: list[str] = field(default_factory=list)
    facts: dict[str, str] = field(default_factory=dict)

    @property
    def expected_reports(self) -> int:
        """Return devices x reports each."""
        return self.devices * self.reports_each

    @property
    def expected_photos(self) -> int:
        """Return devices x photos each."""
        return self.devices * self.photos_each

    @property
    def errors(self) -> int:
        """Return failed requests plus server log lines showing a crash or a 500."""
        return self.recorder.errors + len(self.log_problems)

    @property
    def counts_exact(self) -> bool:
        """Tell whether the database holds exactly the expected rows, none twice."""
        s = self.stored
        return (
            s.reports == self.expected_reports
            and s.photos == self.expected_photos
            and s.duplicate_report_ids == 0
        )

    @property
    def correct(self) -> bool:
        """Tell whether every device finished, with no error and exact counts."""
        return self.finished and self.errors == TARGET_ERRORS and self.counts_exact

    def as_json(self) -> dict[str, Any]:
        """Return the figures as plain JSON data."""
        rec = self.recorder
        return {
            "devices": self.devices,
            "reports_each": self.reports_each,
            "photos_each": self.photos_each,
            "finished": self.finished,
            "elapsed_s": rec.elapsed,
            "acked_reports": rec.acked_reports,
            "stored_photos_acked": rec.stored_photos,
            "errors": self.errors,
            "error_samples": rec.error_samples() + self.log_problems[:5],
            "kinds": {name: k.summary() for name, k in sorted(rec.kinds.items())},
            "db_reports": self.stored.reports,
            "db_photos": self.stored.photos,
            "duplicate_report_ids": self.stored.duplicate_report_ids,
            "expected_reports": self.expected_reports,
            "expected_photos": self.expected_photos,
            "counts_exact": self.counts_exact,
            "table_bytes": self.stored.table_bytes,
            "database_bytes": self.stored.database_bytes,
            "photo_bytes_sent": self.photo_bytes_sent,
            "stored_photo_files": self.stored_photo_files,
            "variant_bytes": self.variant_bytes,
            "server_cpu_s": self.server_cpu,
            "facts": self.facts,
            "correct": self.correct,
        }


def run_shift_end(args: argparse.Namespace, tmp: Path) -> ShiftResult:
    """Make the photos, start the server, run the shift, count what was stored."""
    t = time.monotonic()
    width, height = args.photo_size
    needed = args.devices * args.photos
    photos = photo_gen.generate(tmp / "phone-photos", needed, width, height)
    sent = sum(p.size for p in photos)
    print(
        f"set-up: {needed} distinct {width}x{height} JPEGs "
        f"({sent / max(needed, 1) / 1024:.0f} KiB each on average) in {time.monotonic() - t:.0f} s"
    )
    t = time.monotonic()
    with serving(tmp, args.devices, args.database_url) as srv:
        print(
            f"set-up: database migrated, {args.devices} devices enrolled, gunicorn up "
            f"({srv.facts['gunicorn workers']}) in {time.monotonic() - t:.0f} s"
        )
        plans = device_plans(srv.setup.tokens, photos, args.reports, args.photos, args.passes)
        recorder, progress = Recorder(), Progress()
        user = shift_user(plans, recorder, tuple(args.think), progress)
        cpu_before = srv.server_cpu()
        finished = run_users(
            srv.url,
            {user: args.devices},
            args.devices / args.spawn_seconds,
            recorder,
            done=lambda: progress.finished == args.devices,
            time_limit=args.time_limit,
        )
        cpu_after = srv.server_cpu()
        result = ShiftResult(
            args.devices,
            args.reports,
            args.photos,
            sent,
            finished,
            recorder,
            count(srv.database_url, srv.setup.org_id),
            {k: cpu_after[k] - cpu_before.get(k, 0.0) for k in cpu_after},
            facts=dict(srv.facts),
        )
        result.stored_photo_files, variants = variant_bytes(srv.data_dir)
        result.variant_bytes = dict(variants)
        result.log_problems = srv.log_problems()
    return result
