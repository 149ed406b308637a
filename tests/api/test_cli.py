"""The `lagesbild` command line, run through Flask's CLI runner bound to the test app."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from sqlalchemy import func, select

from analysis.calendar import STOCKHOLM
from server.actions.models import Action
from server.actions.queries import overdue
from server.auth.models import Person
from server.auth.service import verify_password
from server.cli import main
from server.devices.models import Device
from server.extensions import db
from server.orgs.models import ChangeCounter, Organisation
from server.reports.models import Report, Tombstone
from server.sharing import service as sharing
from server.walks.models import Walk
from server.walks.protocol import build
from sync.clock import utcnow
from tests.support import factories

PUSH = "/api/v1/sync/push"
PULL = "/api/v1/sync/pull"
PASSWORD = "secret-password-1"


def cli(runner, *args: str, input: str | None = None):
    """Invoke the real `lagesbild` command group against the bound test app."""
    return runner.invoke(main, list(args), input=input)


def ok_json(result) -> dict[str, Any]:
    """Check a --json command succeeded and printed exactly one JSON object."""
    assert result.exit_code == 0, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    data = json.loads(lines[0])
    assert isinstance(data, dict)
    return data


def assert_clear_failure(result, *words: str) -> None:
    """Check a command failed with a message, not a traceback."""
    assert result.exit_code != 0, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    assert "Traceback" not in result.output
    text = result.output.lower()
    for word in words:
        assert word.lower() in text, result.output


def count(model, *where) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def push(client, headers, *reports):
    return client.post(PUSH, json={"reports": list(reports)}, headers=headers)


# --- org -------------------------------------------------------------------------------------


def test_org_create_stores_the_organisation_and_prints_json(runner):
    data = ok_json(cli(runner, "org", "create", "Höörs kommun", "--kind", "kommun", "--json"))
    other = ok_json(cli(runner, "org", "create", "Hyresbolaget AB", "--kind", "bostadsbolag",
                        "--json"))  # fmt: skip

    assert data["name"] == "Höörs kommun"
    assert data["slug"] == "hoors-kommun"
    assert data["kind"] == "kommun"
    assert other["kind"] == "bostadsbolag"
    db.session.expire_all()
    org = db.session.get(Organisation, data["id"])
    assert (org.name, org.slug, org.kind) == ("Höörs kommun", "hoors-kommun", "kommun")
    assert db.session.get(ChangeCounter, org.id) is not None


def test_org_create_without_json_prints_a_sentence(runner):
    result = cli(runner, "org", "create", "Lunds kommun")

    assert result.exit_code == 0, result.output
    assert "Lunds kommun" in result.output and "lunds-kommun" in result.output


def test_org_create_with_a_taken_name_fails_clearly(runner):
    ok_json(cli(runner, "org", "create", "Lunds kommun", "--json"))

    same = cli(runner, "org", "create", "Lunds kommun")
    other_case = cli(runner, "org", "create", "LUNDS KOMMUN")

    assert_clear_failure(same, "exists")
    assert_clear_failure(other_case, "exists")
    assert count(Organisation, func.lower(Organisation.name) == "lunds kommun") == 1


def test_org_create_rejects_an_unknown_kind(runner):
    result = cli(runner, "org", "create", "Märklig förening", "--kind", "sekt")

    assert_clear_failure(result, "kind")
    assert count(Organisation, Organisation.name == "Märklig förening") == 0


# --- user ------------------------------------------------------------------------------------


def test_user_create_reads_the_password_from_stdin_and_stores_argon2id(runner, org):
    result = cli(
        runner,
        "user",
        "create",
        "--org",
        org.slug,
        "--email",
        "Samordnare@Example.se",
        "--role",
        "coordinator",
        "--json",
        input=f"{PASSWORD}\n",
    )

    data = ok_json(result)
    assert data["role"] == "coordinator"
    db.session.expire_all()
    person = db.session.get(Person, data["id"])
    assert person.org_id == org.id
    assert person.email == "samordnare@example.se"
    assert person.password_hash.startswith("$argon2id$")
    assert PASSWORD not in person.password_hash
    assert verify_password(person.password_hash, PASSWORD)
    assert not verify_password(person.password_hash, "wrong-password-1")


def test_user_create_with_a_too_short_password_fails(runner, org):
    result = cli(
        runner,
        "user",
        "create",
        "--org",
        org.slug,
        "--email",
        "kort@example.se",
        "--role",
        "admin",
        input="kort\n",
    )

    assert_clear_failure(result, "password")
    assert count(Person) == 0


def test_user_create_with_an_unknown_role_fails(runner, org):
    result = cli(
        runner,
        "user",
        "create",
        "--org",
        org.slug,
        "--email",
        "x@example.se",
        "--role",
        "kung",
        input=f"{PASSWORD}\n",
    )

    assert_clear_failure(result, "role")
    assert count(Person) == 0


# --- device ----------------------------------------------------------------------------------


def test_device_enrol_prints_a_code_and_link_that_enrol_through_the_api(app, runner, client, org):
    data = ok_json(
        cli(
            runner,
            "device",
            "enrol",
            "--org",
            org.slug,
            "--name",
            "Väktarbil 1",
            "--kind",
            "väktare",
            "--json",
        )
    )

    code, url = data["code"], data["url"]
    assert url.startswith(app.config["BASE_URL"])
    assert code.replace("-", "") in url
    assert data["kind"] == "vaktare"

    resp = client.post("/api/v1/enrol", json={"code": code})
    assert resp.status_code == 201, resp.get_data(as_text=True)
    device = resp.get_json()["device"]
    assert device["name"] == "Väktarbil 1"
    assert device["kind"] == "vaktare"
    assert device["organisation"]["id"] == org.id
    if "device_id" in data:
        assert device["id"] == data["device_id"]
    token = resp.get_json()["token"]
    assert client.get(PULL, headers={"Authorization": f"Bearer {token}"}).status_code == 200


def test_device_enrol_without_json_prints_code_and_link(app, runner, org):
    result = cli(runner, "device", "enrol", "--org", org.slug, "--name", "Fältare 2", "--no-qr")

    assert result.exit_code == 0, result.output
    assert app.config["BASE_URL"] in result.output
    assert "#enrol=" in result.output


def test_device_enrol_rejects_an_unknown_kind(runner, org):
    result = cli(runner, "device", "enrol", "--org", org.slug, "--name", "X", "--kind", "drönare")

    assert_clear_failure(result, "kind")
    assert count(Device) == 0


def test_org_option_accepts_the_name_or_the_slug(runner, org):
    keys = [org.slug, org.name, org.name.upper(), f"  {org.slug} "]
    for i, key in enumerate(keys):
        data = ok_json(cli(runner, "device", "enrol", "--org", key, "--name", f"T{i}", "--json"))
        assert data["org"] == org.slug, key
        listed = ok_json(cli(runner, "device", "list", "--org", key, "--json"))
        assert f"T{i}" in [d["name"] for d in listed["devices"]], key
    result = cli(
        runner,
        "user",
        "create",
        "--org",
        org.name,
        "--email",
        "a@example.se",
        "--role",
        "admin",
        "--json",
        input=f"{PASSWORD}\n",
    )
    assert ok_json(result)["org"] == org.slug


def test_unknown_org_is_a_clear_error_everywhere(runner, org):
    commands = [
        ["device", "enrol", "--org", "Finns inte", "--name", "X", "--json"],
        ["device", "list", "--org", "Finns inte", "--json"],
        ["user", "create", "--org", "Finns inte", "--email", "a@example.se", "--role", "admin"],
    ]
    for args in commands:
        result = cli(runner, *args, input=f"{PASSWORD}\n")
        assert_clear_failure(result, "Finns inte")
    assert count(Device) == 0
    assert count(Person) == 0


def test_device_revoke_cuts_the_device_off_but_keeps_its_reports(runner, client, device):
    report = factories.report()
    assert push(client, device.headers, report).status_code == 200

    result = cli(runner, "device", "revoke", str(device.device.id))

    assert result.exit_code == 0, result.output
    for resp in (
        push(client, device.headers, factories.report()),
        client.get(PULL, headers=device.headers),
    ):
        assert resp.status_code == 401
        assert resp.get_json()["error"]["code"] == "device_revoked"
        assert resp.headers.get("WWW-Authenticate", "").startswith("Bearer")
    db.session.expire_all()
    row = db.session.get(Report, uuid.UUID(report["id"]))
    assert row is not None and row.device_id == device.device.id
    assert count(Report) == 1


def test_device_revoke_of_an_unknown_device_fails_clearly(runner, device):
    result = cli(runner, "device", "revoke", "999999")

    assert_clear_failure(result, "999999")


def test_device_list_shows_the_organisations_devices_and_their_state(runner, org, device):
    factories.make_device(factories.make_org(), name="Annan kommuns telefon")
    pending = ok_json(cli(runner, "device", "enrol", "--org", org.slug, "--name", "Ny", "--json"))
    gone = factories.make_device(org, name="Borttappad")
    assert cli(runner, "device", "revoke", str(gone.device.id)).exit_code == 0

    data = ok_json(cli(runner, "device", "list", "--org", org.slug, "--json"))

    rows = {d["id"]: d for d in data["devices"]}
    assert set(rows) == {device.device.id, pending["device_id"], gone.device.id}
    assert rows[device.device.id]["enrolled_at"] is not None
    assert rows[device.device.id]["revoked_at"] is None
    assert rows[pending["device_id"]]["enrolled_at"] is None
    assert rows[pending["device_id"]]["name"] == "Ny"
    assert rows[gone.device.id]["revoked_at"] is not None


# --- report ------------------------------------------------------------------------------------


def test_report_status_with_comment_reaches_the_device(runner, client, device):
    report = factories.report()
    push(client, device.headers, report)
    cursor = client.get(PULL, headers=device.headers).get_json()["cursor"]

    result = cli(
        runner, "report", "status", report["id"], "bedomd", "--comment", "Vi har sett det", "--json"
    )

    data = ok_json(result)
    assert data == {"id": report["id"], "status": "bedomd", "version": 2}
    body = client.get(PULL, query_string={"cursor": cursor}, headers=device.headers).get_json()
    assert [r["id"] for r in body["reports"]] == [report["id"]]
    assert body["reports"][0]["status"] == "bedomd"
    assert [c["body"] for c in body["reports"][0]["comments"]] == ["Vi har sett det"]


def test_report_status_refuses_unknown_status_or_report(runner, client, device):
    report = factories.report()
    push(client, device.headers, report)

    bad_status = cli(runner, "report", "status", report["id"], "glömd")
    bad_report = cli(runner, "report", "status", str(uuid.uuid4()), "bedomd")

    assert_clear_failure(bad_status)
    assert_clear_failure(bad_report, "no report")
    db.session.expire_all()
    assert db.session.get(Report, uuid.UUID(report["id"])).status == "ny"


def test_report_delete_removes_the_report_for_good(runner, client, device):
    report = factories.report()
    push(client, device.headers, report)
    cursor = client.get(PULL, headers=device.headers).get_json()["cursor"]

    result = cli(runner, "report", "delete", report["id"])

    assert result.exit_code == 0, result.output
    assert count(Report) == 0
    assert count(Tombstone, Tombstone.report_id == uuid.UUID(report["id"])) == 1
    body = client.get(PULL, query_string={"cursor": cursor}, headers=device.headers).get_json()
    assert body["deleted"] == [report["id"]]
    resend = push(client, device.headers, report).get_json()["results"][0]
    assert resend["status"] == "gone"
    assert count(Report) == 0
    assert_clear_failure(cli(runner, "report", "delete", report["id"]))


# --- demo --------------------------------------------------------------------------------------


# A command runs no grouping job: in background mode the demo drains the queue itself.
@pytest.mark.parametrize("grouping", ["inline", "background"])
def test_demo_creates_an_organisation_with_devices_and_hundreds_of_reports(runner, app, grouping):
    app.config["GROUPING"] = grouping
    data = ok_json(cli(runner, "demo", "--json"))

    assert data["created"] is True
    db.session.expire_all()
    org = db.session.scalar(select(Organisation).where(Organisation.slug == data["org"]))
    assert org is not None
    assert count(Device, Device.org_id == org.id) == data["devices"] >= 2
    reports = count(Report, Report.org_id == org.id)
    assert reports == data["reports"] >= 200
    # Every report is in an incident and in one of the three towns' areas or none.
    assert count(Report, Report.org_id == org.id, Report.incident_id.is_(None)) == 0
    assert count(Report, Report.org_id == org.id, Report.area_id.is_not(None)) > reports // 2
    # The coordinator login it printed works.
    person = db.session.scalar(select(Person).where(Person.email == data["login"]["email"]))
    assert person is not None and person.role == "coordinator"
    assert verify_password(person.password_hash, data["login"]["password"])

    # A housing company and a guard company report too, and share by agreement.
    assert len(data["partners"]) == 2
    for slug in data["partners"]:
        partner = db.session.scalar(select(Organisation).where(Organisation.slug == slug))
        assert count(Device, Device.org_id == partner.id) >= 1
        assert count(Report, Report.org_id == partner.id) > 0
    assert {(a.from_org, a.to_org) for a in sharing.granted_to(org.id)} == {
        (o.id, org.id)
        for o in db.session.scalars(select(Organisation).where(Organisation.id != org.id))
    }
    # A handful of actions in every status, one of them overdue (docs/actions.md).
    statuses = db.session.scalars(select(Action.status).where(Action.org_id == org.id)).all()
    assert data["actions"] == len(statuses) >= 5
    assert set(statuses) == {"foreslagen", "beslutad", "pagar", "klar", "avslagen"}
    today = utcnow().astimezone(STOCKHOLM).date()
    assert len(overdue(org.id, today)) == 1
    admin = db.session.scalar(select(Person).where(Person.email == data["admin"]))
    assert admin.role == "admin" and verify_password(admin.password_hash, data["login"]["password"])
    # One completed safety walk, its observations at its stops (and one at none).
    walk = db.session.get(Walk, data["walk"])
    assert (walk.org_id, walk.status, walk.dark, len(walk.stops)) == (org.id, "done", True, 5)
    observed = db.session.scalars(select(Report).where(Report.walk_id == walk.id)).all()
    assert len(observed) == 9 and {r.walk_stop for r in observed} == {1, 2, 3, 4, 5, None}
    assert all(r.category_code.startswith("vandring_") and r.feeling for r in observed)
    # Its follow-up three weeks later: some observations åtgärdat, some kvarstår.
    follow_up = build(org.id, data["follow_up_walk"])
    assert follow_up.walk.follows_walk_id == walk.id and follow_up.walk.status == "done"
    assert follow_up.follow_up is not None
    assert follow_up.follow_up.counts() == {"atgardat": 3, "kvarstar": 2, "unchecked": 2}

    again = ok_json(cli(runner, "demo", "--if-new", "--json"))

    assert again["created"] is False
    assert count(Organisation) == 3
    assert count(Report, Report.org_id == org.id) == reports
    assert count(Device, Device.org_id == org.id) == data["devices"]
    total = count(Report)
    assert_clear_failure(cli(runner, "demo"), "exists")
    assert count(Report) == total


def test_rotate_epoch_turns_every_cursor_into_a_full_resync(runner, client, device):
    client.post("/api/v1/sync/push", json={"reports": [factories.report()]}, headers=device.headers)
    first = client.get("/api/v1/sync/pull", headers=device.headers).get_json()
    result = runner.invoke(main, ["rotate-epoch", "--json"])
    assert result.exit_code == 0, result.output
    again = client.get(
        "/api/v1/sync/pull", query_string={"cursor": first["cursor"]}, headers=device.headers
    ).get_json()
    assert again["reset"] is True
    assert len(again["reports"]) == 1


def test_org_option_finds_names_starting_with_swedish_letters(runner):
    assert runner.invoke(main, ["org", "create", "Åre kommun"]).exit_code == 0
    result = runner.invoke(
        main, ["device", "enrol", "--org", "åRE KOMMUN", "--name", "T", "--json"]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["org"] == "are-kommun"
