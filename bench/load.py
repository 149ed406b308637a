"""Load benchmarks of issue 14 (docs/benchmarks.md, "Load: shift end and soak").

shift-end
    300 simulated phones (locust users) each sync 20 reports and 5 photos within two minutes
    against gunicorn (deploy/gunicorn.conf.py) on a throwaway PostgreSQL; prints throughput,
    p50/p95/p99 per request kind and errors beside the targets, then checks that the database
    holds exactly devices x reports and devices x photos.
soak
    `--minutes` of mixed traffic (push, pull, photo upload and download, a logged-in
    coordinator's workspace pages) while every gunicorn worker's RSS is sampled every 10 s;
    prints the series, the growth from the first minute to the last, and the errors.
photo-sizes
    what the server stores for a bench JPEG, a phone photo and a 12-megapixel camera photo.
cost
    server CPU (gunicorn + PostgreSQL) per push, pull and photo upload, one request at a
    time: the per-core figures of the capacity plan (docs/capacity.md).

Run with the project's venv: ``.venv/bin/python -m bench.load shift-end``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path

# locust patches the standard library for gevent when it is imported: before the rest is.
import locust  # noqa: F401

from bench.ingestlib.common import BenchError
from bench.ingestlib.machine import wait_for_quiet


def _size(text: str) -> tuple[int, int]:
    """Parse WIDTHxHEIGHT."""
    try:
        w, h = (int(x) for x in text.lower().split("x"))
    except ValueError as exc:
        raise argparse.ArgumentTypeError("use WIDTHxHEIGHT, e.g. 1024x768") from exc
    if not (16 <= w <= 8000 and 16 <= h <= 8000):
        raise argparse.ArgumentTypeError("each side must be 16-8000 pixels")
    return w, h


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse the command line."""
    p = argparse.ArgumentParser(
        prog="python -m bench.load",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = p.add_subparsers(dest="command", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--database-url",
        help="use this migrated-or-empty database instead of a throwaway PostgreSQL",
    )
    common.add_argument("--json-out", help="also write the figures to this file as JSON")
    common.add_argument("--keep", action="store_true", help="keep the temp dir (logs, photos)")
    common.add_argument(
        "--wait-quiet",
        type=float,
        default=0.0,
        help="first wait up to this many seconds for an idle machine (< 10 %% busy)",
    )

    shift = sub.add_parser("shift-end", parents=[common], help="300 devices at shift end")
    shift.add_argument("--devices", type=int, default=300)
    shift.add_argument("--reports", type=int, default=20, help="reports per device")
    shift.add_argument("--photos", type=int, default=5, help="photos per device")
    shift.add_argument("--passes", type=int, default=5, help="sync passes per device")
    shift.add_argument(
        "--think",
        type=float,
        nargs=2,
        default=(4.0, 16.0),
        metavar=("MIN", "MAX"),
        help="seconds between a device's passes (default 4 16)",
    )
    shift.add_argument(
        "--spawn-seconds",
        type=float,
        default=30.0,
        help="every device has started after this many seconds (default 30)",
    )
    shift.add_argument(
        "--time-limit", type=float, default=600.0, help="stop the run after this many seconds"
    )
    shift.add_argument(
        "--photo-size", type=_size, default=(1024, 768), help="WIDTHxHEIGHT (default 1024x768)"
    )

    soak = sub.add_parser("soak", parents=[common], help="mixed traffic, worker memory")
    soak.add_argument("--minutes", type=float, default=10.0)
    soak.add_argument("--devices", type=int, default=30)
    soak.add_argument("--coordinators", type=int, default=2)
    soak.add_argument(
        "--think",
        type=float,
        nargs=2,
        default=(5.0, 15.0),
        metavar=("MIN", "MAX"),
        help="seconds before each phone's sync pass (default 5 15)",
    )
    soak.add_argument(
        "--page-think",
        type=float,
        nargs=2,
        default=(3.0, 9.0),
        metavar=("MIN", "MAX"),
        help="seconds before each workspace page (default 3 9)",
    )
    soak.add_argument("--sample-seconds", type=float, default=10.0)
    soak.add_argument(
        "--recycle",
        action="store_true",
        help="keep the deploy default of recycling workers (max_requests); off by default so "
        "a leak cannot hide behind a restart",
    )
    soak.add_argument("--photo-size", type=_size, default=(640, 480))

    sub.add_parser("photo-sizes", parents=[common], help="stored bytes per photo")
    cost = sub.add_parser("cost", parents=[common], help="server CPU per push, pull, photo")
    cost.add_argument("--pushes", type=int, default=100, help="pushes and pulls (default 100)")
    cost.add_argument("--photos", type=int, default=40, help="uploads per photo kind (40)")
    args = p.parse_args(argv)
    if getattr(args, "devices", 1) < 1:
        p.error("--devices must be at least 1")
    if args.command == "shift-end" and not 0 <= args.photos <= args.reports:
        p.error("--photos must be between 0 and --reports (each photo belongs to a report)")
    return args


def main(argv: list[str] | None = None) -> int:
    """Run one command; return 0 when its correctness checks hold, 1 when not, 2 on set-up."""
    args = parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="lagesbild-load-"))
    try:
        busy = wait_for_quiet(args.wait_quiet)
        print(f"machine before the start: {busy * 100:.0f} % of all cores busy (over 2 s)")
        if args.command == "shift-end":
            from bench.loadlib.report import print_shift
            from bench.loadlib.shift import run_shift_end

            result = run_shift_end(args, tmp)
            print_shift(result)
            data, ok = result.as_json(), result.correct
        elif args.command == "soak":
            from bench.loadlib.soak import print_soak, run_soak

            soak_result = run_soak(args, tmp)
            print_soak(soak_result)
            data, ok = soak_result.as_json(), soak_result.correct
        elif args.command == "cost":
            from bench.loadlib.cost import measure_costs, print_costs

            data = measure_costs(args, tmp)
            print_costs(data)
            ok = True
        else:
            from bench.loadlib.sizes import photo_sizes, print_sizes

            sizes = photo_sizes(tmp)
            print_sizes(sizes)
            data, ok = sizes, True
        if args.json_out:
            Path(args.json_out).write_text(json.dumps(data, indent=2, default=str))
        return 0 if ok else 1
    except BenchError as exc:
        print(f"set-up failed: {exc}", file=sys.stderr)
        return 2
    finally:
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
