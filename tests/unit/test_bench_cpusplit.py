"""bench/ingest.py's --cpu-split and --lock-stats hooks: merged figures and chained hooks."""

from __future__ import annotations

import gc
import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from bench.ingestlib import cpusplit, lockstats


def _worker_file(folder: Path, pid: int, **figures: object) -> None:
    (folder / f"cpusplit-{pid}.json").write_text(json.dumps(figures))


def test_the_cpu_split_is_merged_over_workers_per_request(tmp_path: Path):
    _worker_file(
        tmp_path,
        1,
        requests=100,
        app_cpu_s=0.5,
        request_cpu_s=0.55,
        gc_runs=[10, 1, 0],
        gc_cpu_s=[0.01, 0.002, 0.0],
        threads={"MainThread": 0.6, "grouping-tick-wake": 0.4},
    )
    _worker_file(
        tmp_path,
        2,
        requests=300,
        app_cpu_s=1.5,
        request_cpu_s=1.65,
        gc_runs=[30, 3, 1],
        gc_cpu_s=[0.03, 0.006, 0.1],
        threads={"MainThread": 1.8, "grouping-tick-wake": 1.2},
    )

    split = cpusplit.cpu_split_summary(tmp_path)

    assert split is not None
    assert split["requests"] == 400 and split["workers"] == 2
    assert split["app_ms"] == pytest.approx(5.0)  # 2.0 s over 400 requests
    assert split["gunicorn_around_app_ms"] == pytest.approx(0.5)
    assert split["main_outside_requests_ms"] == pytest.approx(0.5)
    assert split["threads_ms"] == pytest.approx({"MainThread": 6.0, "grouping-tick-wake": 4.0})
    assert split["total_ms"] == pytest.approx(10.0)
    assert split["gc_runs"] == [40, 4, 1]
    assert split["gc_ms"] == pytest.approx([0.1, 0.02, 0.25])


def test_no_worker_figures_give_no_split(tmp_path: Path):
    assert cpusplit.cpu_split_summary(tmp_path) is None


def test_the_cpu_split_hooks_run_the_configs_own_hooks(tmp_path: Path):
    calls: list[str] = []
    post_worker_init, _, _, worker_exit = cpusplit.worker_hooks(
        str(tmp_path),
        lambda worker: calls.append("init"),
        lambda server, worker: calls.append("exit"),
    )
    callbacks = list(gc.callbacks)
    try:
        post_worker_init(SimpleNamespace(wsgi=None))
        worker_exit(None, SimpleNamespace(wsgi=None))
    finally:
        gc.callbacks[:] = callbacks  # the hook's collector callback stays out of this run
    assert calls == ["init", "exit"]


def test_the_lock_stats_exit_hook_runs_the_configs_own(tmp_path: Path):
    calls: list[str] = []
    _, worker_exit = lockstats.worker_hooks(
        str(tmp_path), lambda worker: None, lambda server, worker: calls.append("exit")
    )
    worker_exit(None, SimpleNamespace())
    assert calls == ["exit"]
