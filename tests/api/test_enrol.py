"""POST /api/v1/enrol: one-time, expiring codes exchanged for a hashed device token."""

from __future__ import annotations

import base64
import hashlib
import re
from datetime import timedelta

from sqlalchemy import select, update

from server.devices import service as devices
from server.devices.models import Device, EnrolmentCode
from server.extensions import db
from sync.clock import utcnow
from tests.support.envelope import assert_error

ENROL = "/api/v1/enrol"


def issue(org, name: str = "Väktarbil 1", kind: str = "vaktare", ttl: int = 24):
    """Issue a fresh one-time enrolment code."""
    return devices.issue_code(org, name, kind, ttl)


def test_enrol_with_a_valid_code_returns_201_with_token_device_and_organisation(client, org):
    issued = issue(org, name="Väktarbil 7", kind="faltare")

    resp = client.post(ENROL, json={"code": issued.code})

    assert resp.status_code == 201, resp.get_data(as_text=True)
    body = resp.get_json()
    assert isinstance(body["token"], str) and body["token"]
    dev = body["device"]
    assert dev["id"] == issued.device.id
    assert dev["name"] == "Väktarbil 7"
    assert dev["kind"] == "faltare"
    assert dev["organisation"] == {"id": org.id, "name": org.name, "slug": org.slug}


def test_enrol_token_carries_at_least_256_random_bits_and_differs_per_device(client, org):
    tokens = []
    for i in range(3):
        resp = client.post(ENROL, json={"code": issue(org, name=f"Telefon {i}").code})
        assert resp.status_code == 201
        tokens.append(resp.get_json()["token"])

    assert len(set(tokens)) == 3
    for token in tokens:
        random_part = token.removeprefix("lbd_")
        assert re.fullmatch(r"[A-Za-z0-9_-]+", random_part), token
        raw = base64.urlsafe_b64decode(random_part + "=" * (-len(random_part) % 4))
        assert len(raw) * 8 >= 256, token


def test_database_holds_only_a_sha256_hash_of_token_and_code(client, org):
    issued = issue(org)
    resp = client.post(ENROL, json={"code": issued.code})
    assert resp.status_code == 201
    token = resp.get_json()["token"]
    plain_code = devices.normalise_code(issued.code)

    db.session.expire_all()
    stored = db.session.get(Device, issued.device.id)
    assert stored.token_hash == hashlib.sha256(token.encode()).hexdigest()
    # No column of any table holds the token (or the code) in plain text.
    secrets_seen = []
    for table in db.metadata.sorted_tables:
        for row in db.session.execute(select(table)).all():
            for value in row:
                cell = str(value)
                if token in cell or token.removeprefix("lbd_") in cell:
                    secrets_seen.append((table.name, "token"))
                if plain_code in cell or issued.code in cell:
                    secrets_seen.append((table.name, "code"))
    assert secrets_seen == []


def test_enrolled_token_authenticates_device_requests(client, org):
    resp = client.post(ENROL, json={"code": issue(org).code})
    token = resp.get_json()["token"]

    pull = client.get("/api/v1/sync/pull", headers={"Authorization": f"Bearer {token}"})

    assert pull.status_code == 200
    assert pull.get_json()["reports"] == []


def test_enrol_code_works_only_once(client, org):
    issued = issue(org)
    first = client.post(ENROL, json={"code": issued.code})
    assert first.status_code == 201

    second = client.post(ENROL, json={"code": issued.code})

    assert_error(second, 400, "invalid_code")
    # The first token stays valid; the failed reuse changed nothing.
    token = first.get_json()["token"]
    pull = client.get("/api/v1/sync/pull", headers={"Authorization": f"Bearer {token}"})
    assert pull.status_code == 200


def test_enrolling_kills_the_other_codes_of_the_same_device(client, org):
    first = issue(org, name="Delad telefon")
    second = issue(org, name="Delad telefon")  # same not-yet-enrolled device, a new code
    assert first.device.id == second.device.id
    enrolled = client.post(ENROL, json={"code": first.code})
    assert enrolled.status_code == 201

    takeover = client.post(ENROL, json={"code": second.code})

    assert_error(takeover, 400, "invalid_code")
    token = enrolled.get_json()["token"]
    pull = client.get("/api/v1/sync/pull", headers={"Authorization": f"Bearer {token}"})
    assert pull.status_code == 200


def test_expired_enrol_code_is_refused(client, org):
    issued = issue(org)
    db.session.execute(
        update(EnrolmentCode)
        .where(EnrolmentCode.device_id == issued.device.id)
        .values(expires_at=utcnow() - timedelta(minutes=1))
    )
    db.session.commit()

    resp = client.post(ENROL, json={"code": issued.code})

    assert_error(resp, 400, "invalid_code")
    db.session.expire_all()
    assert db.session.get(Device, issued.device.id).token_hash is None


def test_enrol_code_from_cli_expires_after_24_hours_by_default(app, org):
    runner = app.test_cli_runner()
    from server.cli import main

    before = utcnow()
    result = runner.invoke(main, ["device", "enrol", "--org", org.slug, "--name", "X", "--json"])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    row = db.session.scalar(select(EnrolmentCode).order_by(EnrolmentCode.id.desc()))
    ttl = row.expires_at - before
    assert timedelta(hours=23, minutes=59) <= ttl <= timedelta(hours=24, minutes=1)


def test_enrol_code_still_valid_just_before_expiry(client, org):
    issued = issue(org)
    db.session.execute(
        update(EnrolmentCode)
        .where(EnrolmentCode.device_id == issued.device.id)
        .values(expires_at=utcnow() + timedelta(minutes=1))
    )
    db.session.commit()

    assert client.post(ENROL, json={"code": issued.code}).status_code == 201


CODE_SPELLINGS = {
    "lowercase": str.lower,
    "no dashes": lambda c: c.replace("-", ""),
    "spaces, lowercase": lambda c: c.replace("-", " ").lower(),
    "surrounding whitespace": lambda c: f"  {c}\n",
    "odd grouping": lambda c: c.replace("-", "").lower()[:6] + "-" + c.replace("-", "")[6:],
}


def test_enrol_code_is_case_and_dash_insensitive(client, org):
    for name, spell in CODE_SPELLINGS.items():
        issued = issue(org, name=f"Telefon {name}")

        resp = client.post(ENROL, json={"code": spell(issued.code)})

        assert resp.status_code == 201, (name, resp.get_data(as_text=True))
        assert resp.get_json()["device"]["id"] == issued.device.id, name


def test_enrol_without_a_usable_code_is_400_in_the_envelope(client, org):
    issued = issue(org)
    bodies = [
        {},
        {"kod": issued.code},
        {"code": None},
        {"code": ""},
        {"code": 123456789012},
        {"code": [issued.code]},
        {"code": {"code": issued.code}},
        {"code": "A" * 500},
    ]
    for body in bodies:
        resp = client.post(ENROL, json=body)
        assert resp.status_code == 400, body
        assert_error(resp, 400)

    # None of the failed attempts used up the real code.
    assert client.post(ENROL, json={"code": issued.code}).status_code == 201


def test_enrol_with_a_non_json_body_is_400_invalid_json(client, org):
    issued = issue(org)
    for data in [f"code={issued.code}", "{not json", "", b"\xff\xfe\x00", '{"code": "A']:
        resp = client.post(ENROL, data=data, content_type="application/json")
        assert resp.status_code == 400, data
        assert_error(resp, 400, "invalid_json")
    assert client.post(ENROL, json={"code": issued.code}).status_code == 201


def test_enrol_with_non_object_json_is_400(client, org):
    issued = issue(org)
    for raw in [f'["{issued.code}"]', f'"{issued.code}"', "5", "true", "null", "[]"]:
        resp = client.post(ENROL, data=raw, content_type="application/json")
        assert resp.status_code == 400, raw
        assert_error(resp, 400)
    assert client.post(ENROL, json={"code": issued.code}).status_code == 201


def test_code_of_a_revoked_device_is_refused(client, org):
    issued = issue(org)
    devices.revoke(issued.device.id)

    resp = client.post(ENROL, json={"code": issued.code})

    assert_error(resp, 400)
    db.session.expire_all()
    assert db.session.get(Device, issued.device.id).token_hash is None


def test_enrol_rejects_get_with_405_in_the_envelope(client):
    assert_error(client.get(ENROL), 405)
