"""Erasing a report removes every copy the server keeps: archived digests, summaries, photos.

The erased report carries markers (its text, its place text, its photo) that the test looks
for in every stored digest copy, on disk and in the incident's summary; a second report
that stays carries its own marker, which must survive the rebuild. The digests are sent
through the real scheduler path (`send_now`) with a stand-in for SMTP, so the stored
copies are exactly what production stores.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from server.audit.models import AuditEntry
from server.cli import main
from server.digest import scheduler
from server.digest import service as digest_settings
from server.digest.models import DigestRun
from server.extensions import db
from server.incidents.models import Incident
from server.orgs.models import Organisation
from server.photos.models import Photo
from server.privacy import erasure
from server.reports.models import Report, Tombstone
from server.sharing import service as sharing
from tests.support import factories
from tests.support.digest import due
from tests.support.photos import STORED, files_mentioning, jpeg, put, sha
from tests.support.workspace import (  # noqa: F401  (cheap_hashing is a fixture)
    cheap_hashing,
    login,
    post,
    push,
)

pytestmark = pytest.mark.usefixtures("cheap_hashing")

GONE_TEXT = "RADERAMIG krossad ruta i trapphuset"
GONE_PLACE = "Raderagatan 7 uppgång B"
KEPT_TEXT = "BEHALLMIG klotter på muren"
NOTICE = "återskapad efter att uppgifter raderats"
PUSH = "/api/v1/sync/push"


def send(org_id: int, kind: str = "night") -> int:
    """Send (to a stand-in for SMTP) and archive the `kind` digest holding last night."""
    digest_settings.configure(org_id, recipients=["samordnare@kommun.test"])
    outcome = scheduler.send_now(org_id, kind, due(kind), force=True, send=lambda *_a: {})
    assert outcome.status == "sent", outcome.error
    assert outcome.run_id is not None
    return outcome.run_id


def stored(run_id: int) -> str:
    """The run's stored HTML and text, as another connection sees them."""
    db.session.expire_all()
    run = db.session.get(DigestRun, run_id)
    assert run is not None
    text = f"{run.html or ''}\n{run.text or ''}"
    db.session.commit()
    return text


def audit_rows(org_id: int, action: str) -> list[AuditEntry]:
    db.session.expire_all()
    rows = list(
        db.session.scalars(
            select(AuditEntry)
            .where(AuditEntry.org_id == org_id, AuditEntry.action == action)
            .order_by(AuditEntry.id)
        )
    )
    db.session.commit()
    return rows


@pytest.fixture
def mail(app: Flask) -> None:
    """A mail configuration good enough for the scheduler (the send itself is stubbed)."""
    app.config.update(SMTP_HOST="smtp.invalid", MAIL_FROM="lagesbild@kommun.test")


def night_pair(
    client: FlaskClient, device: factories.EnrolledDevice, seed: int = 1
) -> tuple[dict[str, Any], dict[str, Any], str]:
    """Push the report to erase (text, place, photo) and one that stays, at one spot."""
    photo = jpeg(seed=seed)
    assert put(client, device, photo).status_code in STORED
    gone = factories.night_report(
        21, description=GONE_TEXT, place=GONE_PLACE, photos=[sha(photo)], severity=3
    )
    kept = factories.night_report(21, 20, description=KEPT_TEXT, place="Muren vid skolan")
    push(client, device, gone, kept)
    return gone, kept, sha(photo)


def test_erasure_leaves_no_copy_in_archived_digests_or_on_disk(
    app: Flask, client: FlaskClient, org: Organisation, device, mail
) -> None:
    gone, _kept, photo = night_pair(client, device)
    runs = [send(org.id, kind) for kind in ("night", "week", "month")]
    other_org = factories.make_org()
    other = send(other_org.id)
    untouched = stored(other)
    for run_id in runs:
        copy = stored(run_id)
        # The markers are really there before (the test can fail); the report that stays
        # is not (the incident's summary is the first report's text), but is after.
        assert GONE_TEXT in copy and GONE_PLACE in copy and KEPT_TEXT not in copy, run_id
    assert photo in stored(runs[0])
    assert files_mentioning(app, photo)

    result = app.test_cli_runner().invoke(
        main, ["report", "delete", gone["id"], "--reason", "erasure", "--json"]
    )

    assert result.exit_code == 0, result.output
    for run_id in runs:
        copy = stored(run_id)
        # (The incident keeps its id, the first report's random id, as the tombstone does.)
        for marker in (GONE_TEXT, GONE_PLACE, photo):
            assert marker not in copy, (run_id, marker)
        assert KEPT_TEXT in copy and NOTICE in copy, run_id
    assert stored(other) == untouched  # a copy that never showed it is left as it was
    assert files_mentioning(app, photo) == []
    assert db.session.scalar(select(Photo).where(Photo.sha256 == photo)) is None
    assert db.session.get(Tombstone, uuid.UUID(gone["id"])).reason == "erasure"
    deleted = [e.target for e in audit_rows(org.id, "report.delete")]
    assert deleted == [f"{gone['id']} erasure"]
    rebuilt = {e.target.split()[1] for e in audit_rows(org.id, "digest.rebuild")}
    assert rebuilt == {str(r) for r in runs}
    assert '"digests_rebuilt": [' in result.output


def test_the_workspace_serves_the_rebuilt_copy(
    app: Flask, client: FlaskClient, org: Organisation, device, mail
) -> None:
    gone, _kept, _photo = night_pair(client, device)
    run_id = send(org.id)
    erasure.erase_report(uuid.UUID(gone["id"]), "erasure")
    admin = factories.make_person(org, role="admin")
    assert login(client, admin).status_code == 302
    page = client.get(f"/workspace/digest/{run_id}/document").get_data(as_text=True)
    assert KEPT_TEXT in page and NOTICE in page
    assert GONE_TEXT not in page and GONE_PLACE not in page


def test_a_partners_archived_copy_is_rebuilt_too(
    app: Flask, client: FlaskClient, org: Organisation, device, mail
) -> None:
    partner = factories.make_org(kind="polis")
    agreement = sharing.share(org, partner, "full").id
    gone, _kept, _photo = night_pair(client, device)
    theirs = send(partner.id)
    assert GONE_TEXT in stored(theirs)
    # Revoked since: the copy was stored while it was in force, so it is searched still.
    sharing.revoke(agreement)

    erasure.erase_report(uuid.UUID(gone["id"]), "erasure")

    assert GONE_TEXT not in stored(theirs) and GONE_PLACE not in stored(theirs)
    assert [e.target.split()[1] for e in audit_rows(partner.id, "digest.rebuild")] == [str(theirs)]


def test_a_copy_that_cannot_be_rebuilt_is_removed(
    app: Flask, client: FlaskClient, org: Organisation, device, mail, monkeypatch
) -> None:
    gone, _kept, _photo = night_pair(client, device)
    run_id = send(org.id)
    from server.digest import scrub

    def broken(*_a: Any, **_k: Any) -> None:
        raise RuntimeError("the renderer broke")

    monkeypatch.setattr(scrub, "build_digest", broken)
    done = erasure.erase_report(uuid.UUID(gone["id"]), "erasure")
    assert [(d.run_id, d.outcome) for d in done.digests] == [(run_id, "removed")]
    assert stored(run_id).strip() == ""


def test_the_incident_summary_forgets_the_erased_report(
    client: FlaskClient, org: Organisation, device
) -> None:
    gone, kept, _photo = night_pair(client, device)
    db.session.expire_all()
    incident_id = db.session.get(Report, uuid.UUID(gone["id"])).incident_id
    assert incident_id == db.session.get(Report, uuid.UUID(kept["id"])).incident_id
    incident = db.session.get(Incident, incident_id)
    assert GONE_TEXT in incident.summary and incident.place == GONE_PLACE
    db.session.commit()

    erasure.erase_report(uuid.UUID(gone["id"]), "mistake")

    db.session.expire_all()
    incident = db.session.get(Incident, incident_id)
    assert incident is not None and incident.report_count == 1
    assert GONE_TEXT not in incident.summary and KEPT_TEXT in incident.summary
    assert incident.place != GONE_PLACE and incident.max_severity != 3


def test_a_resend_never_brings_an_erased_report_back(
    client: FlaskClient, org: Organisation, device
) -> None:
    gone, _kept, _photo = night_pair(client, device)
    erasure.erase_report(uuid.UUID(gone["id"]), "erasure")
    resp = client.post(PUSH, json={"reports": [gone]}, headers=device.headers)
    assert resp.get_json()["results"][0]["status"] == "gone"
    db.session.expire_all()
    assert db.session.get(Report, uuid.UUID(gone["id"])) is None


# --- the command line's errors ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["--reason", ""], "reason"),
        (["--reason", "x" * 41], "reason"),
    ],
)
def test_a_bad_reason_deletes_nothing(
    app: Flask, client: FlaskClient, device, args: list[str], said: str
) -> None:
    report = factories.report()
    push(client, device, report)
    result = app.test_cli_runner().invoke(main, ["report", "delete", report["id"], *args])
    assert result.exit_code != 0 and said in result.output
    assert "Traceback" not in result.output
    db.session.expire_all()
    assert db.session.get(Report, uuid.UUID(report["id"])) is not None


def test_an_unknown_report_is_named_and_nothing_changes(app: Flask, org: Organisation) -> None:
    missing = str(uuid.uuid4())
    result = app.test_cli_runner().invoke(main, ["report", "delete", missing])
    assert result.exit_code != 0
    assert f"no report with id {missing}" in result.output
    assert audit_rows(org.id, "report.delete") == []


# --- the workspace action -----------------------------------------------------------------------


def _erase_url(incident_id: uuid.UUID, report_id: str) -> str:
    return f"/workspace/incidents/{incident_id}/reports/{report_id}/erase"


def _incident_of(report_id: str) -> uuid.UUID:
    db.session.expire_all()
    incident_id = db.session.get(Report, uuid.UUID(report_id)).incident_id
    db.session.commit()
    assert incident_id is not None
    return incident_id


def test_an_admin_erases_a_report_with_a_reason_and_a_confirmation(
    client: FlaskClient, org: Organisation, device
) -> None:
    gone, _kept, photo = night_pair(client, device)
    incident_id = _incident_of(gone["id"])
    admin = factories.make_person(org, role="admin")
    client.environ_base["REMOTE_ADDR"] = "192.0.2.44"
    assert login(client, admin).status_code == 302
    page = client.get(f"/workspace/incidents/{incident_id}").get_data(as_text=True)
    assert _erase_url(incident_id, gone["id"]) in page
    assert "Jag förstår att rapporten raderas för gott" in page

    resp = post(
        client, _erase_url(incident_id, gone["id"]), {"reason": "erasure", "confirm": "yes"}
    )

    assert resp.status_code == 302 and resp.location.endswith(f"/incidents/{incident_id}")
    after = client.get(resp.location).get_data(as_text=True)
    assert "Rapporten är raderad" in after
    assert GONE_TEXT not in after and photo not in after and KEPT_TEXT in after
    db.session.expire_all()
    assert db.session.get(Report, uuid.UUID(gone["id"])) is None
    entry = audit_rows(org.id, "report.delete")[-1]
    assert entry.target == f"{gone['id']} erasure"
    assert entry.person_id == admin.person.id and entry.client_address == "192.0.2.44"


@pytest.mark.parametrize(
    ("form", "said"),
    [
        ({"reason": "erasure"}, "Bekräfta att rapporten ska raderas"),
        ({"reason": "", "confirm": "yes"}, "Välj ett skäl"),
        ({"reason": "tycker inte om den", "confirm": "yes"}, "Välj ett skäl"),
    ],
)
def test_without_reason_or_confirmation_nothing_is_erased(
    client: FlaskClient, org: Organisation, device, form: dict[str, str], said: str
) -> None:
    gone, _kept, _photo = night_pair(client, device)
    incident_id = _incident_of(gone["id"])
    assert login(client, factories.make_person(org, role="admin")).status_code == 302
    resp = post(client, _erase_url(incident_id, gone["id"]), form)
    assert resp.status_code == 302
    assert said in client.get(resp.location).get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Report, uuid.UUID(gone["id"])) is not None
    assert audit_rows(org.id, "report.delete") == []


def test_a_report_of_another_incident_is_refused(
    client: FlaskClient, org: Organisation, device
) -> None:
    gone, _kept, _photo = night_pair(client, device)
    far = factories.night_report(22, location={"lat": 56.2, "lon": 14.1, "accuracy_m": 5.0})
    push(client, device, far)
    assert login(client, factories.make_person(org, role="admin")).status_code == 302
    resp = post(
        client,
        _erase_url(_incident_of(far["id"]), gone["id"]),
        {"reason": "erasure", "confirm": "yes"},
    )
    assert resp.status_code == 302
    assert "hör inte längre till den här händelsen" in client.get(resp.location).get_data(
        as_text=True
    )
    db.session.expire_all()
    assert db.session.get(Report, uuid.UUID(gone["id"])) is not None


@pytest.mark.parametrize("role", ["coordinator", "analyst", "viewer"])
def test_only_admins_may_erase_and_see_the_form(
    client: FlaskClient, org: Organisation, device, role: str
) -> None:
    gone, _kept, _photo = night_pair(client, device)
    incident_id = _incident_of(gone["id"])
    assert login(client, factories.make_person(org, role=role)).status_code == 302
    page = client.get(f"/workspace/incidents/{incident_id}").get_data(as_text=True)
    assert _erase_url(incident_id, gone["id"]) not in page
    resp = post(
        client, _erase_url(incident_id, gone["id"]), {"reason": "erasure", "confirm": "yes"}
    )
    assert resp.status_code == 403
    db.session.expire_all()
    assert db.session.get(Report, uuid.UUID(gone["id"])) is not None


def test_an_admin_cannot_erase_a_shared_report(client: FlaskClient, org: Organisation) -> None:
    owner = factories.make_org(kind="vaktbolag")
    owner_device = factories.make_device(owner)
    sharing.share(owner, org, "full")
    gone, _kept, _photo = night_pair(client, owner_device)
    incident_id = _incident_of(gone["id"])
    assert login(client, factories.make_person(org, role="admin")).status_code == 302
    page = client.get(f"/workspace/incidents/{incident_id}")
    assert page.status_code == 200 and GONE_TEXT in page.get_data(as_text=True)
    assert _erase_url(incident_id, gone["id"]) not in page.get_data(as_text=True)
    resp = post(
        client, _erase_url(incident_id, gone["id"]), {"reason": "erasure", "confirm": "yes"}
    )
    assert resp.status_code == 403
    db.session.expire_all()
    assert db.session.get(Report, uuid.UUID(gone["id"])) is not None
