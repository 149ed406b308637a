"""The audit log: every recorded action with its client address, and the admins' page."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from server.audit.models import AuditEntry
from server.cli import main
from server.extensions import db
from tests.support import factories
from tests.support.workspace import (  # noqa: F401  (cheap_hashing is a fixture)
    Scene,
    cheap_hashing,
    login,
    make_scene,
    post,
    push,
)

pytestmark = pytest.mark.usefixtures("cheap_hashing")

ADDRESS = "203.0.113.7"
BOM = b"\xef\xbb\xbf"


def entries(org_id: int) -> list[AuditEntry]:
    """Return an organisation's audit entries, oldest first."""
    db.session.expire_all()
    rows = list(
        db.session.scalars(
            select(AuditEntry).where(AuditEntry.org_id == org_id).order_by(AuditEntry.id)
        )
    )
    db.session.commit()
    return rows


def seen(org_id: int, person_id: int | None) -> dict[tuple[str, str], str | None]:
    """Map (action, target) of a person's (or the CLI's) entries to their client address."""
    return {
        (e.action, e.target): e.client_address for e in entries(org_id) if e.person_id == person_id
    }


def add_entry(org_id: int, action: str, at: datetime, **kw: object) -> None:
    """Store an entry at a chosen time."""
    db.session.add(AuditEntry(org_id=org_id, action=action, at=at, **kw))
    db.session.commit()


@pytest.fixture
def scene(app: Flask) -> Scene:
    return make_scene("admin")


@pytest.fixture
def admin(client: FlaskClient, scene: Scene) -> FlaskClient:
    client.environ_base["REMOTE_ADDR"] = ADDRESS
    assert login(client, scene.who).status_code == 302
    return client


# --- what is recorded -----------------------------------------------------------------------


def test_workspace_views_and_exports_record_the_client_address(
    admin: FlaskClient, scene: Scene
) -> None:
    urls = [
        f"/workspace/incidents/{scene.first}",
        "/workspace/export/incidents.csv",
        "/workspace/export/reports.csv",
        "/workspace/export/incidents.geojson",
        "/workspace/lagesbild?kind=week",
    ]
    for url in urls:
        assert admin.get(url).status_code == 200, url
    assert post(admin, "/workspace/logout-everywhere").status_code == 302

    rows = [e for e in entries(scene.org.id) if e.person_id == scene.who.person.id]
    actions = [e.action for e in rows]
    for action in (
        "login",
        "incident.view",
        "export.incidents_csv",
        "export.reports_csv",
        "export.incidents_geojson",
        "lagesbild.view",
        "person.logout_everywhere",
    ):
        assert action in actions
    assert {e.client_address for e in rows} == {ADDRESS}
    assert ("person.logout_everywhere", scene.who.email) in {(e.action, e.target) for e in rows}


def test_a_failed_login_records_the_client_address(client: FlaskClient, scene: Scene) -> None:
    client.environ_base["REMOTE_ADDR"] = "198.51.100.9"
    assert login(client, scene.who, password="fel lösenord här").status_code == 200
    assert seen(scene.org.id, scene.who.person.id) == {("login_failed", ""): "198.51.100.9"}


def test_a_photo_view_is_recorded(
    client: FlaskClient, org, device: factories.EnrolledDevice, uploaded: str
) -> None:
    push(client, device, factories.report(photos=[uploaded]))
    who = factories.make_person(org, role="viewer")
    client.environ_base["REMOTE_ADDR"] = ADDRESS
    login(client, who)
    resp = client.get(f"/workspace/photos/{uploaded}?size=thumb")
    assert resp.status_code == 200
    assert seen(org.id, who.person.id)[("photo.view", f"{uploaded} thumb")] == ADDRESS
    assert client.get(f"/workspace/photos/{'ab' * 32}").status_code == 404
    assert not any(a == "photo.view" and "abab" in t for a, t in seen(org.id, who.person.id))


def test_cli_changes_record_no_person_and_no_address(
    app: Flask, client: FlaskClient, scene: Scene
) -> None:
    runner = app.test_cli_runner()
    email = "ny.person@example.se"
    steps = [
        (
            ["user", "create", "--org", scene.org.slug, "--email", email, "--role", "analyst"],
            "rätt-häst-batteri\n",
        ),
        (["user", "set-role", "--email", email, "--role", "viewer"], None),
        (["user", "logout-everywhere", "--email", email], None),
        (["user", "deactivate", "--email", email], None),
        (["report", "delete", scene.second_report], None),
        (["device", "revoke", str(scene.device.device.id)], None),
    ]
    before = seen(scene.org.id, None)  # the scene's own person was made by the service
    for args, stdin in steps:
        result = runner.invoke(main, args, input=stdin)
        assert result.exit_code == 0, (args, result.output)

    cli = {k: v for k, v in seen(scene.org.id, None).items() if k not in before}
    assert cli == {
        ("person.create", f"{email} analyst"): None,
        ("person.set_role", f"{email} analyst→viewer"): None,
        ("person.logout_everywhere", email): None,
        ("person.deactivate", email): None,
        ("report.delete", f"{scene.second_report} erasure"): None,
        (
            "device.revoke",
            f"device {scene.device.device.id} {scene.device.device.display_name}",
        ): None,
    }
    # Revoking again changes nothing, so it records nothing.
    assert runner.invoke(main, ["device", "revoke", str(scene.device.device.id)]).exit_code == 0
    assert len(seen(scene.org.id, None)) == len(cli) + len(before)


# --- the admins' page -------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["coordinator", "analyst", "viewer"])
def test_only_admins_read_the_audit_log(client: FlaskClient, scene: Scene, role: str) -> None:
    other = factories.make_person(scene.org, role=role)
    login(client, other)
    assert client.get("/workspace/audit").status_code == 403
    assert client.get("/workspace/audit.csv").status_code == 403
    assert 'href="/workspace/audit"' not in client.get("/workspace/").get_data(as_text=True)


def test_the_audit_log_needs_a_login(client: FlaskClient, scene: Scene) -> None:
    assert client.get("/workspace/audit").status_code == 302


def test_the_page_lists_newest_first_and_is_itself_audited(
    admin: FlaskClient, scene: Scene
) -> None:
    now = datetime.now(UTC)
    add_entry(scene.org.id, "older.thing", now - timedelta(days=3), target="först")
    add_entry(scene.org.id, "newer.thing", now - timedelta(hours=1), target="sist")
    page = admin.get("/workspace/audit")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'href="/workspace/audit"' in html  # the admin's nav link
    assert html.index("newer.thing") < html.index("older.thing")
    assert ADDRESS in html
    assert ("audit.view", "page 1") in seen(scene.org.id, scene.who.person.id)


def test_filters_by_day_action_person_and_address(admin: FlaskClient, scene: Scene) -> None:
    colleague = factories.make_person(scene.org, email="kollega@example.se")
    day = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)
    add_entry(scene.org.id, "x.early", day - timedelta(days=2), target="tidig")
    add_entry(
        scene.org.id,
        "x.inside",
        day,
        target="mitt",
        client_address="10.1.2.3",
        person_id=colleague.person.id,
    )
    add_entry(scene.org.id, "x.late", day + timedelta(days=2), target="sen")

    def shown(query: str) -> str:
        resp = admin.get(f"/workspace/audit?{query}")
        assert resp.status_code == 200, query
        return resp.get_data(as_text=True)

    html = shown("from=2025-03-09&to=2025-03-10")
    assert "x.inside" in html and "x.early</td>" not in html and "x.late</td>" not in html
    html = shown("action=x.late")
    assert "sen" in html and "mitt</td>" not in html
    html = shown("person=KOLLEGA")
    assert "x.inside</td>" in html and "x.late</td>" not in html
    html = shown("address=10.1.")
    assert "x.inside</td>" in html and "x.early</td>" not in html
    html = shown("person=-")  # the command line: entries without a person
    assert "x.early</td>" in html and "x.inside</td>" not in html and "login</td>" not in html
    assert admin.get("/workspace/audit?from=igår").status_code == 400
    assert admin.get("/workspace/audit?page=0").status_code == 400
    # The calendar's ends (once a 500: the day after 9999-12-31 does not exist).
    for query in ("to=9999-12-31", "from=0001-01-01", "to=2101-01-01"):
        assert admin.get(f"/workspace/audit?{query}").status_code == 400
        assert admin.get(f"/workspace/audit.csv?{query}").status_code == 400
    # % and _ are matched literally, not as wildcards.
    assert "x.inside</td>" not in shown("person=%25")


def test_pages_of_a_hundred(admin: FlaskClient, scene: Scene) -> None:
    start = datetime(2025, 1, 1, tzinfo=UTC)
    # Targets no other text on the page contains (an e-mail like person1292@… held "n129").
    db.session.add_all(
        AuditEntry(
            org_id=scene.org.id, action="bulk", target=f"bt-{i:03}", at=start + timedelta(minutes=i)
        )
        for i in range(230)
    )
    db.session.commit()
    first = admin.get("/workspace/audit?action=bulk").get_data(as_text=True)
    assert first.count("<td>bulk</td>") == 100 and "bt-229" in first and "bt-129" not in first
    assert "page=2" in first and 'rel="prev"' not in first
    third = admin.get("/workspace/audit?action=bulk&page=3").get_data(as_text=True)
    assert third.count("<td>bulk</td>") == 30 and "bt-000" in third and 'rel="next"' not in third
    # A page past the end shows the last one.
    assert (
        admin.get("/workspace/audit?action=bulk&page=9")
        .get_data(as_text=True)
        .count("<td>bulk</td>")
        == 30
    )


def test_the_csv_export_follows_the_filter_and_is_audited(admin: FlaskClient, scene: Scene) -> None:
    add_entry(scene.org.id, "x.one", datetime.now(UTC), target="=HYPERLINK(1)")
    resp = admin.get("/workspace/audit.csv?action=x.one")
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    assert resp.headers["Content-Disposition"].startswith('attachment; filename="audit-')
    body = resp.get_data()
    assert body.startswith(BOM)
    text = body[len(BOM) :].decode("utf-8")
    assert "\r\n" in text
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))
    assert len(rows) == 2
    assert rows[1][1:] == ["kommandorad", "x.one", "'=HYPERLINK(1)", ""]
    everything = admin.get("/workspace/audit.csv").get_data()[len(BOM) :].decode("utf-8")
    assert f"{scene.who.email};login;;{ADDRESS}" in everything
    assert ("export.audit_csv", "action=x.one") in seen(scene.org.id, scene.who.person.id)


def test_another_organisations_entries_never_appear(admin: FlaskClient, scene: Scene) -> None:
    other = factories.make_org()
    stranger = factories.make_person(other, email="främling@example.se")
    add_entry(
        other.id,
        "secret.thing",
        datetime.now(UTC),
        target="hemligt",
        person_id=stranger.person.id,
        client_address="192.0.2.99",
    )
    for url in (
        "/workspace/audit",
        "/workspace/audit?action=secret.thing",
        "/workspace/audit?person=främling",
        "/workspace/audit.csv",
    ):
        body = admin.get(url).get_data(as_text=True)
        assert "hemligt" not in body and "192.0.2.99" not in body and "främling@" not in body
        assert "<td>secret.thing</td>" not in body and "secret.thing;" not in body


def test_an_erased_report_is_recorded_with_its_actor(app: Flask, scene: Scene) -> None:
    from server.audit.service import Actor
    from server.incidents.feedback import delete_report

    delete_report(uuid.UUID(scene.second_report), "retention", Actor(scene.who.person.id, ADDRESS))
    assert seen(scene.org.id, scene.who.person.id) == {
        ("report.delete", f"{scene.second_report} retention"): ADDRESS
    }
