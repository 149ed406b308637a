"""Print the figures of a run with the issue's targets beside them."""

from __future__ import annotations

import math

from bench.loadlib.phone import PUSH
from bench.loadlib.shift import TARGET_ERRORS, TARGET_P99_PUSH_MS, TARGET_WINDOW_S, ShiftResult
from bench.loadlib.stats import Recorder


def verdict(ok: bool) -> str:
    """Return PASS or MISS."""
    return "PASS" if ok else "MISS"


def print_kinds(recorder: Recorder) -> None:
    """Print count, errors and p50/p95/p99/max per request kind."""
    print(
        f"  {'request kind':<16} {'count':>7} {'errors':>6}"
        f" {'p50':>8} {'p95':>8} {'p99':>8} {'max':>8}"
    )
    for name, stats in sorted(recorder.kinds.items()):
        s = stats.summary()
        print(
            f"  {name:<16} {s['count']:>7} {s['errors']:>6} {_ms(s['p50_ms'])} {_ms(s['p95_ms'])}"
            f" {_ms(s['p99_ms'])} {_ms(s['max_ms'])}"
        )


def print_errors(recorder: Recorder, log_problems: list[str]) -> None:
    """Print the most frequent failures and the server log's problem lines."""
    for line in recorder.error_samples():
        print(f"  error: {line}")
    for line in log_problems[:10]:
        print(f"  server log: {line}")


def print_shift(r: ShiftResult) -> None:
    """Print a shift-end run: throughput, latencies, errors, counts, storage, verdicts."""
    rec = r.recorder
    elapsed = rec.elapsed or math.nan
    print(
        f"\n=== SHIFT END: {r.devices} devices x {r.reports_each} reports + {r.photos_each} photos"
    )
    for key, value in r.facts.items():
        print(f"  {key}: {value}")
    print(
        f"  all devices done: {'yes' if r.finished else 'NO (time limit)'};"
        f" run took {elapsed:.1f} s"
    )
    print(
        f"  throughput: {rec.acked_reports / elapsed:.1f} reports/s, "
        f"{rec.stored_photos / elapsed:.1f} photos/s "
        f"({rec.acked_reports} reports acknowledged, {rec.stored_photos} photos stored)"
    )
    cpu = ", ".join(f"{k} {v:.1f} s ({v / elapsed:.2f} cores)" for k, v in r.server_cpu.items())
    print(f"  server CPU during the run: {cpu}")
    print_kinds(rec)
    print_errors(rec, r.log_problems)
    s = r.stored
    print(
        f"  database: {s.reports} reports (expected {r.expected_reports}), {s.photos} photos "
        f"(expected {r.expected_photos}), {s.duplicate_report_ids} ids stored twice"
    )
    if s.table_bytes:
        sizes = ", ".join(f"{t} {b / 1024 / 1024:.1f} MiB" for t, b in s.table_bytes.items())
        print(f"  table sizes (with indexes and TOAST): {sizes}; database {_mib(s.database_bytes)}")
    if r.stored_photo_files:
        n = r.stored_photo_files
        per = ", ".join(f"{v} {b / n / 1024:.1f} KiB" for v, b in sorted(r.variant_bytes.items()))
        print(
            f"  photo files: {n} photos, per photo: sent "
            f"{r.photo_bytes_sent / r.expected_photos / 1024:.1f} KiB, "
            f"stored {per} (total {sum(r.variant_bytes.values()) / n / 1024:.1f} KiB)"
        )
    p99 = rec.kinds[PUSH].summary()["p99_ms"] if PUSH in rec.kinds else math.nan
    print("\n  targets:")
    print(f"    errors {r.errors} (target {TARGET_ERRORS}): {verdict(r.errors == TARGET_ERRORS)}")
    print(
        f"    p99 push {p99:.0f} ms (target < {TARGET_P99_PUSH_MS:.0f} ms): "
        f"{verdict(p99 < TARGET_P99_PUSH_MS)}"
    )
    print(
        f"    every device done in {elapsed:.0f} s (target within {TARGET_WINDOW_S:.0f} s): "
        f"{verdict(r.finished and elapsed <= TARGET_WINDOW_S)}"
    )
    print(f"    exact row counts: {verdict(r.counts_exact)}")


def _ms(value: float) -> str:
    """Format milliseconds in a column of 8."""
    return f"{value:>6.0f}ms" if not math.isnan(value) else f"{'-':>8}"


def _mib(value: int) -> str:
    """Format bytes as MiB."""
    return f"{value / 1024 / 1024:.1f} MiB"
