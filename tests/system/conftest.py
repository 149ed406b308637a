"""Fixtures for system tests: real gunicorn servers, the `lagesbild` CLI and direct DB checks.

Every test here gets `database_url` from tests/conftest.py, so it runs once on SQLite and
once on PostgreSQL, each time on a fresh migrated database.
"""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import requests
import sqlalchemy as sa

from tests.support.gunicorn import REPO_ROOT, GunicornServer, server_env

HTTP_TIMEOUT = 10  # seconds, on every HTTP call a test makes
_SCRIPT = Path(sys.executable).parent / "lagesbild"
# The console script of this venv, or the same entry point through the interpreter.
LAGESBILD = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "server.cli"]
PUSH_PATH = "/api/v1/sync/push"
STOCKHOLM_WINTER = timezone(timedelta(hours=1))


@dataclass
class Device:
    """An enrolled device: its ids and bearer token."""

    id: int
    org: str
    org_id: int
    name: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        """Return the Authorization header."""
        return {"Authorization": f"Bearer {self.token}"}

    def push(
        self, session: requests.Session, base_url: str, batch: list[dict[str, Any]]
    ) -> requests.Response:
        """POST one batch to /api/v1/sync/push (with the HTTP timeout)."""
        return session.post(
            base_url + PUSH_PATH,
            json={"reports": batch},
            headers=self.headers,
            timeout=HTTP_TIMEOUT,
        )


@dataclass
class StoredReports:
    """What the reports table holds, read directly from the database."""

    by_id: dict[str, dict[str, Any]]
    duplicates: list[tuple[str, int]]  # (id, number of rows) for ids stored more than once
    total_rows: int


@dataclass
class SystemEnv:
    """One database plus the data dir and log folder that every server on it shares."""

    database_url: str
    data_dir: Path
    log_dir: Path
    servers: list[GunicornServer] = field(default_factory=list)

    @property
    def backend(self) -> str:
        """Return "sqlite" or "postgresql"."""
        return sa.engine.make_url(self.database_url).get_backend_name()

    def cli(self, *args: str) -> Any:
        """Run `lagesbild ARGS --json` on this database and return the parsed JSON."""
        env = server_env(self.database_url, self.data_dir)
        proc = subprocess.run(
            [*LAGESBILD, *args, "--json"],
            cwd=REPO_ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        if proc.returncode != 0:
            pytest.fail(f"lagesbild {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}")
        return json.loads(proc.stdout.strip().splitlines()[-1])

    def gunicorn(self, workers: int) -> GunicornServer:
        """Create (not start) a gunicorn server on this database; it is stopped at teardown."""
        log = self.log_dir / f"gunicorn-{len(self.servers) + 1}.log"
        server = GunicornServer(self.database_url, self.data_dir, log, workers=workers)
        self.servers.append(server)
        return server

    def create_org(self, name: str) -> dict[str, Any]:
        """Create an organisation through the CLI."""
        return self.cli("org", "create", name)

    def enrol(self, server: GunicornServer, org: dict[str, Any], name: str) -> Device:
        """Issue a code through the CLI and enrol it over HTTP, as a phone does."""
        issued = self.cli("device", "enrol", "--org", org["slug"], "--name", name)
        resp = requests.post(
            server.url + "/api/v1/enrol", json={"code": issued["code"]}, timeout=HTTP_TIMEOUT
        )
        assert resp.status_code == 201, f"enrol failed: {resp.status_code} {resp.text[:500]}"
        return Device(issued["device_id"], org["slug"], org["id"], name, resp.json()["token"])

    def engine(self) -> sa.Engine:
        """Return a plain SQLAlchemy engine on the database (dispose it after use)."""
        return sa.create_engine(self.database_url, poolclass=sa.pool.NullPool)

    def stored_reports(self) -> StoredReports:
        """Read every stored report by id, the ids stored more than once, and the row count."""
        engine = self.engine()
        try:
            with engine.connect() as conn:
                rows = conn.execute(
                    sa.text(
                        "SELECT id, org_id, device_id, description, severity, people_count,"
                        " version FROM reports"
                    )
                ).mappings()
                by_id: dict[str, dict[str, Any]] = {}
                for row in rows:
                    by_id.setdefault(normalise_id(row["id"]), dict(row))
                dupes = [
                    (normalise_id(rid), n)
                    for rid, n in conn.execute(
                        sa.text("SELECT id, COUNT(*) FROM reports GROUP BY id HAVING COUNT(*) > 1")
                    )
                ]
                total = int(conn.execute(sa.text("SELECT COUNT(*) FROM reports")).scalar_one())
        finally:
            engine.dispose()
        return StoredReports(by_id, dupes, total)

    def sqlite_integrity(self) -> list[str]:
        """Run PRAGMA integrity_check (SQLite only)."""
        engine = self.engine()
        try:
            with engine.connect() as conn:
                return [r[0] for r in conn.exec_driver_sql("PRAGMA integrity_check")]
        finally:
            engine.dispose()


@pytest.fixture
def system(database_url: str, tmp_path: Path) -> Iterator[SystemEnv]:
    """Yield a SystemEnv on a fresh database; kill every server it started afterwards."""
    env = SystemEnv(database_url, tmp_path / "data", tmp_path / "logs")
    env.data_dir.mkdir()
    env.log_dir.mkdir()
    try:
        yield env
    finally:
        errors = []
        for server in env.servers:
            try:
                server.stop(timeout=10)
            except Exception as exc:  # noqa: BLE001 - stop the others first, then report
                errors.append(f"{server.log_path}: {exc}")
        if errors:
            pytest.fail("could not stop gunicorn: " + "; ".join(errors))


def normalise_id(raw: Any) -> str:
    """Return a stored id (UUID object, 32-hex text or dashed text) as dashed text."""
    return str(raw if isinstance(raw, uuid.UUID) else uuid.UUID(str(raw)))


def report_payload(
    report_id: str, label: str, created_at: datetime, edit: int = 0
) -> dict[str, Any]:
    """Build one valid push item; edit k > 0 is a later edit (updated_at, revision, values)."""
    body: dict[str, Any] = {
        "id": report_id,
        "created_at": created_at.isoformat(timespec="seconds"),
        "revision": edit,
        "category": "skadegorelse",
        "severity": 1 + edit % 3,
        "description": f"{label} v{edit}",
        "location": {"lat": 55.6398, "lon": 13.2083, "accuracy_m": 12.0},
        "place": f"Plats {label}",
        "people_count": edit,
        "photos": [],
    }
    if edit:
        body["updated_at"] = (created_at + timedelta(minutes=edit)).isoformat(timespec="seconds")
    return body


@pytest.fixture
def make_report() -> Callable[..., dict[str, Any]]:
    """Return report_payload(report_id, label, created_at, edit=0)."""
    return report_payload


@pytest.fixture
def device_time() -> datetime:
    """Return a device time in the recent past (Swedish winter time, whole seconds)."""
    return datetime.now(STOCKHOLM_WINTER).replace(microsecond=0) - timedelta(minutes=30)
