"""Workspace digest pages: the latest night, the archive with failures, a resend with CSRF,
and the printable weekly/monthly lägesbild; only the person's own organisation.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from server.digest import scheduler
from server.digest import service as digest_settings
from server.digest.models import DigestRun
from server.extensions import db
from tests.api.test_workspace_i18n import catalogs
from tests.support import factories
from tests.support.smtp import (  # noqa: F401  (fixtures)
    SmtpServer,
    smtp_cert_fixture,
    smtp_server_fixture,
)
from tests.support.workspace import (  # noqa: F401  (cheap_hashing is a fixture)
    audit_actions,
    cheap_hashing,
    login,
    make_scene,
    post,
)

pytestmark = pytest.mark.usefixtures("cheap_hashing")

STOCKHOLM = ZoneInfo("Europe/Stockholm")
RECIPIENTS = ["samordnare@kommun.test"]


def today() -> date:
    """Today in Stockholm."""
    return datetime.now(UTC).astimezone(STOCKHOLM).date()


def at(day: date, hour: int, minute: int = 0) -> datetime:
    """A Stockholm wall-clock time as aware UTC."""
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=STOCKHOLM).astimezone(UTC)


@pytest.fixture
def mail(app: Flask, smtp_server: SmtpServer) -> SmtpServer:
    """Point the app at the test SMTP server."""
    app.config.update(smtp_server.app_config())
    return smtp_server


def run_of(org_id: int, day: date, kind: str = "night") -> DigestRun:
    """Read one run afresh."""
    run = db.session.scalar(
        select(DigestRun)
        .where(DigestRun.org_id == org_id, DigestRun.day == day, DigestRun.kind == kind)
        .execution_options(populate_existing=True)
    )
    db.session.commit()
    assert run is not None
    return run


def history(org_id: int, mail: SmtpServer) -> tuple[DigestRun, DigestRun]:
    """One late sent night and one failed night (the SMTP server refused it)."""
    sent_day, failed_day = today() - timedelta(days=3), today() - timedelta(days=2)
    digest_settings.configure(
        org_id,
        recipients=RECIPIENTS,
        enabled=True,
        weekly=False,
        monthly=False,
        now=at(sent_day - timedelta(days=1), 12),
    )
    assert [o.status for o in scheduler.tick(at(sent_day, 9, 30))] == ["sent"]
    mail.handler.refuse_next = 1
    assert [o.status for o in scheduler.tick(at(failed_day, 6, 0))] == ["failed"]
    return run_of(org_id, sent_day), run_of(org_id, failed_day)


def test_the_digest_page_needs_a_login(client: FlaskClient) -> None:
    for url in ("/workspace/digest", "/workspace/lagesbild?kind=week", "/workspace/digest/1"):
        resp = client.get(url)
        assert resp.status_code == 302 and "/workspace/login" in resp.headers["Location"]


def test_the_digest_page_shows_last_night_and_the_archive(
    app: Flask, client: FlaskClient, mail: SmtpServer
) -> None:
    scene = make_scene()
    sent, failed = history(scene.org.id, mail)
    login(client, scene.who)
    resp = client.get("/workspace/digest")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    night = today() if datetime.now(UTC).astimezone(STOCKHOLM).hour >= 6 else today() - timedelta(1)
    src = f"/workspace/lagesbild/document?kind=night&amp;date={night.isoformat()}"
    assert f'<iframe class="digest-frame" src="{src}"' in html
    # The archive: the late one marked, the failed one with its error and next attempt.
    assert f'data-run="{sent.id}"' in html and f'data-run="{failed.id}"' in html
    assert "Försenad" in html
    assert "451" in html and "Nytt försök" in html
    assert html.count("Skicka igen nu") == 1  # only the failed run offers a resend
    assert ("digest.view", f"night {night.isoformat()}") in audit_actions(scene.who.person.id)

    # The framed document is the latest finished night's digest, built now, with its own
    # strict policy; ?date= picks another morning (the scene's night ends at 06:00 today).
    doc = client.get(src.replace("&amp;", "&"))
    assert doc.status_code == 200
    assert scene.org.name in doc.get_data(as_text=True)
    chosen = client.get(f"/workspace/digest?date={today().isoformat()}")
    assert f"kind=night&amp;date={today().isoformat()}" in chosen.get_data(as_text=True)
    assert client.get("/workspace/digest?date=igår").status_code == 400
    doc = client.get(f"/workspace/lagesbild/document?kind=night&date={today().isoformat()}")
    body = doc.get_data(as_text=True)
    assert "Krossad ruta i busskuren" in body and scene.org.name in body
    assert "frame-ancestors 'self'" in doc.headers["Content-Security-Policy"]
    assert "script-src" not in doc.headers["Content-Security-Policy"]  # default-src 'none'
    assert doc.headers["X-Frame-Options"] == "SAMEORIGIN"
    assert doc.headers["Cache-Control"] == "no-store"


def test_a_stored_run_and_its_archived_copy(
    app: Flask, client: FlaskClient, mail: SmtpServer
) -> None:
    scene = make_scene()
    sent, _failed = history(scene.org.id, mail)
    login(client, scene.who)
    page = client.get(f"/workspace/digest/{sent.id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert sent.message_id is not None
    assert sent.message_id.replace("<", "&lt;").replace(">", "&gt;") in html
    assert RECIPIENTS[0] in html
    copy = client.get(f"/workspace/digest/{sent.id}/document")
    assert copy.status_code == 200 and copy.get_data(as_text=True) == sent.html
    assert ("digest.run.view", str(sent.id)) in audit_actions(scene.who.person.id)
    assert ("digest.document.view", str(sent.id)) in audit_actions(scene.who.person.id)


def test_runs_of_another_organisation_are_not_found(
    app: Flask, client: FlaskClient, mail: SmtpServer
) -> None:
    scene = make_scene()
    other = factories.make_org()
    sent, failed = history(other.id, mail)
    login(client, scene.who)
    for url in (f"/workspace/digest/{sent.id}", f"/workspace/digest/{sent.id}/document"):
        assert client.get(url).status_code == 404
    resp = post(client, f"/workspace/digest/{failed.id}/send")
    assert resp.status_code == 404
    page = client.get("/workspace/digest").get_data(as_text=True)
    assert f'data-run="{sent.id}"' not in page
    assert len(mail.messages) == 1  # only the first history send
    assert run_of(other.id, failed.day).status == "failed"


def test_send_again_sends_a_failed_run_once(
    app: Flask, client: FlaskClient, mail: SmtpServer
) -> None:
    scene = make_scene()
    _sent, failed = history(scene.org.id, mail)
    login(client, scene.who)
    assert len(mail.messages) == 1

    forged = client.post(f"/workspace/digest/{failed.id}/send", data={"csrf_token": "forged"})
    assert forged.status_code == 400
    assert len(mail.messages) == 1 and run_of(scene.org.id, failed.day).status == "failed"

    resp = post(client, f"/workspace/digest/{failed.id}/send")
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/workspace/digest")
    assert len(mail.messages) == 2
    run = run_of(scene.org.id, failed.day)
    assert run.status == "sent" and run.attempts == 2
    page = client.get("/workspace/digest").get_data(as_text=True)
    assert "Rapporten är skickad." in page

    again = post(client, f"/workspace/digest/{failed.id}/send")
    assert again.status_code == 302
    assert len(mail.messages) == 2  # already sent: nothing goes out twice
    assert "redan skickad" in client.get("/workspace/digest").get_data(as_text=True)


def test_a_partner_may_look_but_not_send(app: Flask, client: FlaskClient, mail: SmtpServer) -> None:
    scene = make_scene(role="viewer")
    _sent, failed = history(scene.org.id, mail)
    login(client, scene.who)
    page = client.get("/workspace/digest")
    assert page.status_code == 200 and "Skicka igen nu" not in page.get_data(as_text=True)
    assert post(client, f"/workspace/digest/{failed.id}/send").status_code == 403
    assert len(mail.messages) == 1


def test_the_printable_weekly_and_monthly_lagesbild(app: Flask, client: FlaskClient) -> None:
    scene = make_scene()
    login(client, scene.who)
    monday = today() - timedelta(days=today().weekday())
    week = client.get(f"/workspace/lagesbild?kind=week&date={today().isoformat()}")
    assert week.status_code == 200
    body = week.get_data(as_text=True)
    # The workspace page links to the printable document, which has the print style.
    document = f"/workspace/lagesbild/document?kind=week&amp;date={monday.isoformat()}"
    assert scene.org.name in body and document in body
    printable = client.get(document.replace("&amp;", "&")).get_data(as_text=True)
    assert scene.org.name in printable and "@media print" in printable
    assert ("lagesbild.view", f"week {monday.isoformat()}") in audit_actions(scene.who.person.id)
    month = client.get(f"/workspace/lagesbild?kind=month&date={today().isoformat()}&lang=en")
    assert month.status_code == 200 and 'lang="en"' in month.get_data(as_text=True)
    latest = client.get("/workspace/lagesbild?kind=month")
    assert latest.status_code == 200
    for bad in ("kind=year", "kind=week&date=2026-13-01", "kind=week&date=igår"):
        assert client.get(f"/workspace/lagesbild?{bad}").status_code == 400
        assert client.get(f"/workspace/lagesbild/document?{bad}").status_code == 400


def test_digest_catalog_keys_exist_in_both_languages(app: Flask) -> None:
    for lang in ("sv", "en"):
        catalog = catalogs()[lang]
        for prefix, codes in (
            ("digest.kind.", ("night", "week", "month")),
            ("digest.status.", ("pending", "sending", "sent", "failed")),
            ("digest.run.title.", ("night", "week", "month")),
        ):
            missing = [prefix + c for c in codes if prefix + c not in catalog]
            assert missing == [], (lang, missing)
