"""Helpers for the backup and restore tests: a second, fresh installation on the same backend."""

from __future__ import annotations

import hashlib
import itertools
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from server.app import create_app
from server.extensions import db
from server.ops import tables

_numbers = itertools.count(1)


def _config(like: Flask, url: str, data_dir: Path) -> dict[str, Any]:
    """Return the test configuration of `like` for another database and data directory."""
    keys = ("TESTING", "LAGESBILD_ENV", "SECRET_KEY")
    return {
        **{k: like.config[k] for k in keys},
        "SQLALCHEMY_DATABASE_URI": url,
        "DATA_DIR": str(data_dir),
    }


@contextmanager
def fresh_instance(request: pytest.FixtureRequest, like: Flask, folder: Path) -> Iterator[Flask]:
    """Yield the app of a new installation beside `like`: migrated, empty, its own data."""
    folder.mkdir(parents=True, exist_ok=True)
    if like.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        template: Path = request.getfixturevalue("sqlite_template")
        target = folder / "fresh.sqlite3"
        shutil.copyfile(template, target)
        yield create_app(_config(like, f"sqlite:///{target}", folder / "fresh-data"))
        return
    server = request.getfixturevalue("pg_server")
    name = f"lb_fresh_{os.getpid()}_{next(_numbers)}"
    server.create_database(name, template=request.getfixturevalue("pg_template"))
    app = create_app(_config(like, server.url(name), folder / "fresh-data"))
    try:
        yield app
    finally:
        with app.app_context():
            db.engine.dispose()
        server.drop_database(name)


def counts_of(app: Flask) -> dict[str, int]:
    """Count every table's rows in the app's database, as another connection sees them."""
    with app.app_context(), db.engine.connect() as conn:
        return tables.counts(conn)


def file_hashes(root: Path) -> dict[str, str]:
    """Return the SHA-256 of every file under root, by its path relative to root."""
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def photo_hashes(manifest: dict[str, Any]) -> dict[str, str]:
    """Return the manifest's photo files and hashes, by path under the data directory."""
    return {k: v for k, v in manifest["files"].items() if k.startswith("photos/")}
