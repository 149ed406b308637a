"""Freed C heap goes back to the system after every request and every job tick."""

from __future__ import annotations

import ctypes.util
import logging
import runpy
from pathlib import Path

import pytest
from flask import Flask

from bench import memlib
from server import jobs, memory

GUNICORN_CONF = Path(__file__).resolve().parents[2] / "deploy" / "gunicorn.conf.py"


class Calls:
    """Counts calls of a stand-in for malloc_trim or trim."""

    def __init__(self) -> None:
        self.args: list[tuple[object, ...]] = []

    def __call__(self, *args: object) -> int:
        self.args.append(args)
        return 1


@pytest.fixture
def trimmer(monkeypatch: pytest.MonkeyPatch) -> Calls:
    """Replace glibc's malloc_trim with a counter."""
    calls = Calls()
    monkeypatch.setattr(memory, "_trim", calls)
    return calls


def test_a_trim_trims_every_arena_with_no_pad(trimmer: Calls) -> None:
    assert memory.trim() is True
    assert trimmer.args == [(0,)]  # malloc_trim(0): every arena, no pad kept


def test_without_malloc_trim_nothing_happens(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(memory, "_trim", None)
    assert memory.trim() is False


@pytest.mark.skipif(ctypes.util.find_library("c") != "libc.so.6", reason="glibc only")
def test_glibc_s_malloc_trim_is_found() -> None:
    assert memory._load_trim() is not None


def test_gunicorn_trims_after_each_request(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = Calls()
    monkeypatch.setattr(memory, "trim", calls)
    hooks = runpy.run_path(str(GUNICORN_CONF))
    hooks["post_request"](None, None, {}, None)
    assert calls.args == [()]


def test_a_job_tick_trims_after_its_work(monkeypatch: pytest.MonkeyPatch) -> None:
    order: list[str] = []
    monkeypatch.setattr(jobs, "trim", lambda: order.append("trim"))
    job = jobs.PeriodicJob(
        key="probe_scheduler",
        flag="PROBE_JOB",
        seconds=60,
        tick=lambda stopping: order.append("tick"),
        owner=lambda: "here",
        log=logging.getLogger("test"),
    )
    job._run_tick(Flask(__name__))
    assert order == ["tick", "trim"]


def test_a_caller_does_not_wait_for_another_thread_s_trim(trimmer: Calls) -> None:
    memory._lock.acquire()  # another thread is trimming
    try:
        assert memory.trim() is False
    finally:
        memory._lock.release()
    assert trimmer.args == []


@pytest.mark.skipif(ctypes.util.find_library("c") != "libc.so.6", reason="glibc only")
def test_the_probe_splits_memory_by_allocator() -> None:
    row = memlib.breakdown()
    assert row["rss"] > 0 and row["arenas"] >= 1
    assert row["py_arenas"] >= row["py_used"] > 0  # pymalloc holds at least what lives
    assert row["main_sys"] >= row["main_free"] >= 0
