"""Helpers for workspace tests: log in through the form, post with the CSRF token."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest
from argon2 import PasswordHasher
from flask import current_app, g, session
from flask.testing import FlaskClient
from flask_wtf.csrf import generate_csrf
from sqlalchemy import select
from werkzeug.test import TestResponse

from server.extensions import db
from server.incidents.models import AuditEntry, Incident
from server.orgs.models import Organisation
from server.reports.models import Report, ReportComment
from sync.clock import utcnow
from tests.support import factories
from tests.support.factories import EnrolledDevice, Login

PUSH = "/api/v1/sync/push"
# Still argon2id, with the cheapest parameters: tests create and check hundreds of passwords.
CHEAP_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
PULL = "/api/v1/sync/pull"
LOGIN = "/workspace/login"
_CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def cheap_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Hash passwords quickly in tests (import this fixture into a test module to use it)."""
    from server.auth import service as auth

    monkeypatch.setattr(auth, "_hasher", CHEAP_HASHER)


@dataclass
class Clock:
    """The time the workspace's session and login rules see, moved by the test."""

    at: datetime

    def __call__(self) -> datetime:
        """Return the current test time."""
        return self.at

    def advance(self, by: timedelta) -> None:
        """Move the clock forward."""
        self.at += by


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """Give the workspace's login and session rules a clock the test moves."""
    from server.workspace import auth as ws_auth

    fake = Clock(utcnow())
    monkeypatch.setattr(ws_auth, "now", fake)
    return fake


def csrf_from(html: str) -> str:
    """Read the CSRF token out of a page's form."""
    found = _CSRF_RE.search(html)
    assert found, "no CSRF token in the page"
    return found.group(1)


def session_token(client: FlaskClient) -> str:
    """Return a CSRF token of the client's current session, as its pages carry it."""
    with client.session_transaction() as sess:
        secret = sess["csrf_token"]
    # Flask-WTF keeps a secret in the session and signs it into the tokens pages carry.
    with current_app.test_request_context():
        session["csrf_token"] = secret
        # The test's app context (and its `g`) outlives requests: drop another client's token.
        g.pop("csrf_token", None)
        token = generate_csrf()
        g.pop("csrf_token", None)
    return token


def login(client: FlaskClient, who: Login, password: str | None = None) -> TestResponse:
    """Log in through the form (GET for the token, then POST)."""
    page = client.get(LOGIN)
    assert page.status_code == 200
    return client.post(
        LOGIN,
        data={
            "email": who.email,
            "password": who.password if password is None else password,
            "csrf_token": csrf_from(page.get_data(as_text=True)),
        },
    )


def post(client: FlaskClient, url: str, data: dict[str, Any] | None = None) -> TestResponse:
    """POST a workspace form with the session's CSRF token."""
    return client.post(url, data={**(data or {}), "csrf_token": session_token(client)})


def push(client: FlaskClient, dev: EnrolledDevice, *reports: dict[str, Any]) -> list[str]:
    """Push reports as a device (the grouping runs) and return their ids."""
    resp = client.post(PUSH, json={"reports": list(reports)}, headers=dev.headers)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    results = resp.get_json()["results"]
    assert all(r["status"] == "created" for r in results), results
    return [r["id"] for r in reports]


@dataclass
class Scene:
    """An organisation with a person, a device and two incidents of last night."""

    org: Organisation
    who: factories.Login
    device: factories.EnrolledDevice
    first: uuid.UUID  # two reports: a bus shelter smashed twice
    second: uuid.UUID  # one report elsewhere
    first_reports: list[str]
    second_report: str


def make_scene(role: str = "coordinator") -> Scene:
    """Build the scene (the pushes run the real grouping)."""
    org = factories.make_org()
    who = factories.make_person(org, role=role)
    dev = factories.make_device(org)
    client = current_app.test_client()
    a = factories.night_report(20, 0, description="Krossad ruta i busskuren.")
    b = factories.night_report(20, 30, description="Busskuren igen, mer glas.")
    c = factories.night_report(
        22,
        0,
        category="miljo",
        description="Släckt belysning på gångvägen.",
        location={"lat": 55.6500, "lon": 13.2300, "accuracy_m": 8.0},
        place="Gångvägen vid skolan",
    )
    push(client, dev, a, b, c)
    db.session.expire_all()
    first = db.session.get(Report, uuid.UUID(a["id"])).incident_id
    second = db.session.get(Report, uuid.UUID(c["id"])).incident_id
    assert first is not None and second is not None and first != second
    db.session.commit()
    return Scene(org, who, dev, first, second, [a["id"], b["id"]], c["id"])


def snapshot(s: Scene) -> dict[str, object]:
    """What a forged or forbidden request must leave untouched."""
    db.session.expire_all()
    incidents = {
        i.id: (i.status, i.responsible, i.report_count)
        for i in db.session.scalars(select(Incident).where(Incident.org_id == s.org.id))
    }
    reports = {
        r.id: (r.incident_id, r.status)
        for r in db.session.scalars(select(Report).where(Report.org_id == s.org.id))
    }
    comments = len(db.session.scalars(select(ReportComment)).all())
    db.session.commit()
    return {"incidents": incidents, "reports": reports, "comments": comments}


def audit_actions(person_id: int) -> list[tuple[str, str]]:
    """Return the audit log of a person, oldest first."""
    db.session.expire_all()
    rows = db.session.scalars(
        select(AuditEntry).where(AuditEntry.person_id == person_id).order_by(AuditEntry.id)
    ).all()
    db.session.commit()
    return [(r.action, r.target) for r in rows]
