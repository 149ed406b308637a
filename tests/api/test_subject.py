"""Subject access requests: `lagesbild subject export|delete --device ID | --person EMAIL`.

The export must hold everything stored about the subject and no secret (token, code and
password hashes, session ids), in a stable JSON shape; the deletion must erase or
anonymise it everywhere and log both; unknown subjects and bad input change nothing.
"""

from __future__ import annotations

import json
import stat
import uuid
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from server.audit.models import AuditEntry
from server.auth.models import LoginFailures, Person, WorkspaceSession
from server.cli import main
from server.devices.models import Device, EnrolmentCode
from server.digest import service as digest_settings
from server.digest.models import DigestRun, DigestSettings
from server.extensions import db
from server.incidents import feedback
from server.orgs.models import Organisation
from server.photos.models import Photo
from server.privacy import subject as subjects
from server.reports.models import Report, ReportComment, Tombstone
from tests.support import factories
from tests.support.photos import STORED, files_mentioning, jpeg, put, sha
from tests.support.workspace import (  # noqa: F401  (cheap_hashing is a fixture)
    cheap_hashing,
    login,
    post,
    push,
)

pytestmark = pytest.mark.usefixtures("cheap_hashing")

MINE = "ENHETSTEXT sprucken lykta vid gången"
THEIRS = "ANNANENHET klotter på elskåpet"
COMMENT = "SAMORDNARKOMMENTAR vi skickar en elektriker"


def cli(app: Flask, *args: str, stdin: str | None = None) -> Any:
    return app.test_cli_runner().invoke(main, list(args), input=stdin)


def audit_targets(org_id: int, action: str) -> list[str]:
    db.session.expire_all()
    rows = db.session.scalars(
        select(AuditEntry.target)
        .where(AuditEntry.org_id == org_id, AuditEntry.action == action)
        .order_by(AuditEntry.id)
    )
    out = list(rows)
    db.session.commit()
    return out


def count(model: Any, *where: Any) -> int:
    db.session.expire_all()
    n = db.session.scalar(select(func.count()).select_from(model).where(*where))
    db.session.commit()
    return int(n or 0)


class DeviceScene:
    """A device with reports, a photo, a comment, a tombstone, an outbox count, audit entries."""

    def __init__(self, app: Flask, client: FlaskClient, org: Organisation) -> None:
        self.org = org
        self.dev = factories.make_device(org, name="Väktarbil Anna")
        self.other = factories.make_device(org, name="Annan telefon")
        photo = jpeg(seed=7)
        assert put(client, self.dev, photo).status_code in STORED
        self.photo = sha(photo)
        self.report = factories.night_report(
            21, description=MINE, place="Gången vid parken", photos=[self.photo]
        )
        self.doomed = factories.night_report(22, description="raderas strax")
        push(client, self.dev, self.report, self.doomed)
        self.theirs = factories.night_report(
            23, description=THEIRS, location={"lat": 56.3, "lon": 14.2, "accuracy_m": 5.0}
        )
        push(client, self.other, self.theirs)
        feedback.add_comment(uuid.UUID(self.report["id"]), COMMENT)
        feedback.delete_report(uuid.UUID(self.doomed["id"]), "erasure")
        resp = client.get(
            "/api/v1/sync/pull", query_string={"pending": "3"}, headers=self.dev.headers
        )
        assert resp.status_code == 200
        viewer = factories.make_person(org, role="viewer")
        browser = app.test_client()
        login(browser, viewer)
        assert browser.get(f"/workspace/photos/{self.photo}?size=thumb").status_code == 200
        db.session.expire_all()
        self.token_hash = db.session.get(Device, self.dev.device.id).token_hash
        db.session.commit()


@pytest.fixture
def scene(app: Flask, client: FlaskClient, org: Organisation) -> DeviceScene:
    return DeviceScene(app, client, org)


# --- device export -------------------------------------------------------------------------------


def test_a_device_export_holds_everything_about_it_and_no_secret(
    app: Flask, scene: DeviceScene
) -> None:
    result = cli(app, "subject", "export", "--device", str(scene.dev.device.id))

    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert tuple(data) == subjects.DEVICE_KEYS
    assert data["schema"] == "lagesbild.subject/1"
    me = data["subject"]
    assert me["type"] == "device" and me["id"] == scene.dev.device.id and me["kind"] == "vaktare"
    assert me["display_name"] == "Väktarbil Anna" and me["org"]["id"] == scene.org.id
    assert "token_hash" not in me and scene.token_hash not in result.output
    assert data["enrolment_codes"] and all("code_hash" not in c for c in data["enrolment_codes"])
    [report] = data["reports"]
    assert report["id"] == scene.report["id"] and report["description"] == MINE
    assert report["place"] == "Gången vid parken" and report["photos"] == [scene.photo]
    assert {"lat", "lon", "created_at", "status", "incident_id", "clocks"} <= set(report)
    [photo] = data["photos"]
    assert photo["sha256"] == scene.photo and photo["uploaded_by_this_device"] is True
    assert photo["named_by_reports"] == [scene.report["id"]] and "storage_path" not in photo
    assert [c["body"] for c in data["comments"]] == [COMMENT]
    assert [t["report_id"] for t in data["tombstones"]] == [scene.doomed["id"]]
    assert data["outbox"]["pending"] == 3
    actions = {(e["action"], e["target"].split()[0]) for e in data["audit"]}
    assert ("report.delete", scene.doomed["id"]) in actions
    assert ("photo.view", scene.photo) in actions
    # Nothing of another device.
    assert THEIRS not in result.output and scene.theirs["id"] not in result.output
    assert audit_targets(scene.org.id, "subject.export") == [f"device {scene.dev.device.id}"]


def test_a_device_export_goes_to_a_private_file_with_photo_paths(
    app: Flask, scene: DeviceScene, tmp_path: Path
) -> None:
    out = tmp_path / "enhet.json"
    result = cli(
        app, "subject", "export", "--device", str(scene.dev.device.id), "--out", str(out), "--paths"
    )
    assert result.exit_code == 0, result.output
    assert str(out) in result.output and MINE not in result.output
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    data = json.loads(out.read_text(encoding="utf-8"))
    files = data["photos"][0]["files"]
    assert set(files) == {"full", "display", "thumb"}
    assert all(Path(p).is_file() for p in files.values())


# --- person export -------------------------------------------------------------------------------


def test_a_person_export_holds_sessions_decisions_and_comments_and_no_secret(
    app: Flask, client: FlaskClient, scene: DeviceScene
) -> None:
    who = factories.make_person(scene.org, role="coordinator", email="Samordnare.Eva@kommun.test")
    digest_settings.configure(scene.org.id, recipients=["samordnare.eva@kommun.test"])
    assert login(client, who).status_code == 302
    # A failed login afterwards (a success forgets the failures before it).
    assert login(app.test_client(), who, password="fel lösenord igen").status_code == 200
    incident = feedback.get(uuid.UUID(scene.report["id"])).incident_id
    db.session.commit()
    post(client, f"/workspace/incidents/{incident}/status", {"status": "bedomd"})
    post(client, f"/workspace/incidents/{incident}/comment", {"body": "EVAS KOMMENTAR"})
    db.session.expire_all()
    password_hash = db.session.scalar(
        select(Person.password_hash).where(Person.id == who.person.id)
    )
    session_ids = list(db.session.scalars(select(WorkspaceSession.id_hash)))
    db.session.commit()

    result = cli(app, "subject", "export", "--person", "SAMORDNARE.eva@kommun.test")

    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert tuple(data) == subjects.PERSON_KEYS
    me = data["subject"]
    assert me["type"] == "person" and me["email"] == "samordnare.eva@kommun.test"
    assert "password_hash" not in me and password_hash not in result.output
    assert not any(s in result.output for s in session_ids)
    assert len(data["sessions"]) == 1 and "id_hash" not in data["sessions"][0]
    assert data["login_failures"][0]["failures"] == 1
    assert [c["body"] for c in data["comments"]] == ["EVAS KOMMENTAR"]
    assert {e["kind"] for e in data["decisions"]} >= {"status", "comment"}
    actions = {e["action"] for e in data["audit"]}
    assert {"person.create", "login", "incident.view"} & actions
    assert data["digest_recipient"]["organisations"][0]["id"] == scene.org.id
    assert audit_targets(scene.org.id, "subject.export") == [f"person {who.person.id}"]


# --- errors --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["export", "--device", "999999"], "no device with id 999999"),
        (["export", "--person", "ingen@kommun.test"], "no person with e-mail ingen@kommun.test"),
        (["delete", "--device", "999999", "--yes"], "no device with id 999999"),
        (["delete", "--person", "ingen@kommun.test", "--yes"], "no person with e-mail"),
        (["export"], "exactly one of --device ID or --person EMAIL"),
        (["export", "--device", "1", "--person", "a@b.se"], "exactly one of"),
        (["delete", "--device", "nio", "--yes"], "is not a valid integer"),
    ],
)
def test_bad_requests_are_refused_and_change_nothing(
    app: Flask, scene: DeviceScene, args: list[str], said: str
) -> None:
    before = count(AuditEntry), count(Report), count(Person, Person.active.is_(True))
    result = cli(app, "subject", *args)
    assert result.exit_code != 0
    assert said in result.output and "Traceback" not in result.output
    assert (count(AuditEntry), count(Report), count(Person, Person.active.is_(True))) == before


def test_a_deletion_wants_yes(app: Flask, scene: DeviceScene) -> None:
    result = cli(app, "subject", "delete", "--device", str(scene.dev.device.id))
    assert result.exit_code != 0 and "--yes" in result.output
    assert count(Report, Report.device_id == scene.dev.device.id) == 1
    assert audit_targets(scene.org.id, "subject.delete") == []


# --- device deletion -----------------------------------------------------------------------------


def test_deleting_a_device_erases_its_reports_and_anonymises_it(
    app: Flask, client: FlaskClient, scene: DeviceScene
) -> None:
    device_id = scene.dev.device.id
    revoked_before = cli(app, "device", "revoke", str(device_id))  # a lost phone, first
    assert revoked_before.exit_code == 0
    assert audit_targets(scene.org.id, "device.revoke") == [f"device {device_id} Väktarbil Anna"]

    result = cli(app, "subject", "delete", "--device", str(device_id), "--yes", "--json")

    assert result.exit_code == 0, result.output
    done = json.loads(result.output)
    assert done["reports_erased"] == [scene.report["id"]]
    assert done["photos_deleted"] == [scene.photo]
    assert count(Report, Report.device_id == device_id) == 0
    assert count(Tombstone, Tombstone.device_id == device_id) == 2
    assert count(ReportComment) == 0
    assert count(Photo, Photo.sha256 == scene.photo) == 0
    assert files_mentioning(app, scene.photo) == []
    assert count(EnrolmentCode, EnrolmentCode.device_id == device_id) == 0
    db.session.expire_all()
    device = db.session.get(Device, device_id)
    assert device.display_name == f"Raderad enhet {device_id}"
    assert device.token_hash is None and device.revoked_at is not None
    assert device.last_seen_at is None and device.outbox_pending is None
    db.session.commit()
    # No trace of the old name in the audit log; the deletion itself is logged.
    assert audit_targets(scene.org.id, "device.revoke") == [
        f"device {device_id} Raderad enhet {device_id}"
    ]
    assert count(AuditEntry, AuditEntry.target.contains("Väktarbil Anna")) == 0
    assert audit_targets(scene.org.id, "subject.delete") == [
        f"device {device_id} reports=1 photos=1"
    ]
    # The other device is untouched; the deleted one is out.
    assert count(Report, Report.device_id == scene.other.device.id) == 1
    resp = client.post(
        "/api/v1/sync/push", json={"reports": [scene.report]}, headers=scene.dev.headers
    )
    assert resp.status_code == 401
    export = json.loads(cli(app, "subject", "export", "--device", str(device_id)).output)
    assert export["reports"] == [] and MINE not in json.dumps(export, ensure_ascii=False)


def test_deleting_a_device_twice_is_harmless(app: Flask, scene: DeviceScene) -> None:
    device_id = str(scene.dev.device.id)
    assert cli(app, "subject", "delete", "--device", device_id, "--yes").exit_code == 0
    again = cli(app, "subject", "delete", "--device", device_id, "--yes", "--json")
    assert again.exit_code == 0, again.output
    assert json.loads(again.output)["reports_erased"] == []


# --- person deletion -----------------------------------------------------------------------------


def test_deleting_a_person_anonymises_the_account_everywhere(
    app: Flask, client: FlaskClient, scene: DeviceScene
) -> None:
    email = "samordnare.eva@kommun.test"
    who = factories.make_person(scene.org, role="coordinator", email=email)
    digest_settings.configure(scene.org.id, recipients=[email, "kvar@kommun.test"])
    assert login(client, who).status_code == 302
    assert login(app.test_client(), who, password="fel lösenord igen").status_code == 200
    assert count(LoginFailures, LoginFailures.key.contains(email)) == 1
    incident = feedback.get(uuid.UUID(scene.report["id"])).incident_id
    db.session.commit()
    post(client, f"/workspace/incidents/{incident}/comment", {"body": "EVAS KOMMENTAR"})
    assert cli(app, "user", "set-role", "--email", email, "--role", "viewer").exit_code == 0
    run = DigestRun(
        org_id=scene.org.id,
        kind="night",
        day=date(2026, 11, 24),
        period_start=datetime(2026, 11, 23, 17, tzinfo=UTC),
        period_end=datetime(2026, 11, 24, 5, tzinfo=UTC),
        status="sent",
        scheduled_for=datetime(2026, 11, 24, 5, tzinfo=UTC),
        recipients=[email.upper(), "kvar@kommun.test"],
        last_error=f"refused by the server: {email}",
    )
    db.session.add(run)
    db.session.commit()
    run_id = run.id
    before = json.loads(cli(app, "subject", "export", "--person", email).output)
    assert [r["id"] for r in before["digest_recipient"]["runs"]] == [run_id]

    result = cli(app, "subject", "delete", "--person", email, "--yes", "--json")

    assert result.exit_code == 0, result.output
    placeholder = f"raderad-{who.person.id}@raderad.invalid"
    assert json.loads(result.output)["email"] == placeholder
    db.session.expire_all()
    person = db.session.get(Person, who.person.id)
    assert person.email == placeholder and person.active is False
    settings = db.session.get(DigestSettings, scene.org.id)
    assert settings.recipients == ["kvar@kommun.test"]
    run = db.session.get(DigestRun, run_id)
    assert run.recipients == [placeholder, "kvar@kommun.test"]
    assert run.last_error == f"refused by the server: {placeholder}"
    db.session.commit()
    assert count(WorkspaceSession, WorkspaceSession.person_id == who.person.id) == 0
    assert count(LoginFailures, LoginFailures.key.contains(email)) == 0
    assert count(AuditEntry, AuditEntry.target.contains(email)) == 0
    assert f"{placeholder} coordinator→viewer" in audit_targets(scene.org.id, "person.set_role")
    assert audit_targets(scene.org.id, "subject.delete") == [f"person {who.person.id}"]
    # The comment stays, attributed to the anonymised account; the old session is out.
    bodies = {c.body: c.author_id for c in db.session.scalars(select(ReportComment))}
    assert bodies["EVAS KOMMENTAR"] == who.person.id
    assert client.get("/workspace/").status_code == 302
    assert login(client, who).status_code == 200  # the old password no longer works
    page = client.get(f"/workspace/incidents/{incident}")
    assert page.status_code == 302  # not logged in
    # The address is free again and nobody can be found by it.
    assert cli(app, "subject", "export", "--person", email).exit_code != 0
