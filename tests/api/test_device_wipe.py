"""What the phone keeps and the remote wipe, on the server's side (both database lanes).

The pull answer tells the phone how many days it keeps what the server acknowledged
(`retention.phone_days`, from LAGESBILD_PHONE_KEEP_DAYS) and carries an admin's wipe order
(`wipe`) until the phone confirms it with POST /api/v1/device/wiped.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select

from server.audit.models import AuditEntry
from server.cli import main
from server.devices.models import Device
from server.extensions import db
from tests.support import factories

PULL = "/api/v1/sync/pull"
WIPED = "/api/v1/device/wiped"


def cli(runner, *args: str):
    return runner.invoke(main, list(args))


def ok_json(result) -> dict[str, Any]:
    assert result.exit_code == 0, result.output
    return json.loads(result.output.strip())


def pull(client, dev) -> dict[str, Any]:
    resp = client.get(PULL, headers=dev.headers)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    return resp.get_json()


def fresh(device_id: int) -> Device:
    db.session.expire_all()
    row = db.session.get(Device, device_id)
    assert row is not None
    return row


def actions(org_id: int) -> list[str]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(AuditEntry.action).where(AuditEntry.org_id == org_id).order_by(AuditEntry.id)
        )
    )


def test_the_pull_tells_the_phone_how_many_days_it_keeps_acknowledged_reports(app, client, device):
    assert pull(client, device)["retention"] == {"phone_days": 7}

    app.config["PHONE_KEEP_DAYS"] = 2

    assert pull(client, device)["retention"] == {"phone_days": 2}


def test_a_wipe_ordered_by_an_admin_rides_on_every_pull_until_the_phone_confirms_it(
    runner, client, org, device
):
    other = factories.make_device(org)
    assert pull(client, device)["wipe"] is False

    ordered = ok_json(cli(runner, "device", "wipe", str(device.device.id), "--json"))

    assert ordered["wipe"] == "requested" and ordered["wiped_at"] is None
    assert pull(client, device)["wipe"] is True
    assert pull(client, device)["wipe"] is True  # not consumed by reading it
    assert pull(client, other)["wipe"] is False  # only the phone it was ordered for

    resp = client.post(WIPED, headers=device.headers)

    assert resp.status_code == 200, resp.get_data(as_text=True)
    body = resp.get_json()
    assert body["wipe"] is False and body["wiped_at"] is not None
    assert pull(client, device)["wipe"] is False
    row = fresh(device.device.id)
    assert row.wiped_at is not None and row.wiped_at >= row.wipe_requested_at
    assert actions(org.id) == ["device.wipe", "device.wiped"]


def test_confirming_twice_or_without_an_order_changes_nothing(runner, client, org, device):
    unordered = client.post(WIPED, headers=device.headers)
    assert unordered.status_code == 200
    assert unordered.get_json() == {"wipe": False, "wiped_at": None}
    assert fresh(device.device.id).wiped_at is None
    ok_json(cli(runner, "device", "wipe", str(device.device.id), "--json"))
    first = client.post(WIPED, headers=device.headers).get_json()

    again = client.post(WIPED, headers=device.headers).get_json()

    assert again == first and first["wiped_at"] is not None
    assert actions(org.id) == ["device.wipe", "device.wiped"]  # one entry each


def test_ordering_a_waiting_wipe_again_is_one_order_and_a_new_one_after_it_is_done(
    runner, client, device
):
    first = ok_json(cli(runner, "device", "wipe", str(device.device.id), "--json"))
    same = ok_json(cli(runner, "device", "wipe", str(device.device.id), "--json"))
    assert same["wipe_requested_at"] == first["wipe_requested_at"]
    assert client.post(WIPED, headers=device.headers).status_code == 200

    again = ok_json(cli(runner, "device", "wipe", str(device.device.id), "--json"))

    assert again["wipe"] == "requested"
    assert again["wipe_requested_at"] > first["wipe_requested_at"]
    assert pull(client, device)["wipe"] is True


def test_the_device_list_shows_the_wipe_state(runner, client, org, device):
    waiting = factories.make_device(org, name="Väntar")
    done = factories.make_device(org, name="Rensad")
    for d in (waiting, done):
        assert cli(runner, "device", "wipe", str(d.device.id)).exit_code == 0
    assert client.post(WIPED, headers=done.headers).status_code == 200

    data = ok_json(cli(runner, "device", "list", "--org", org.slug, "--json"))
    text = cli(runner, "device", "list", "--org", org.slug).output

    rows = {d["id"]: d for d in data["devices"]}
    assert rows[device.device.id]["wipe"] is None
    assert rows[waiting.device.id]["wipe"] == "requested"
    assert rows[waiting.device.id]["wipe_requested_at"] is not None
    assert rows[done.device.id]["wipe"] == "done" and rows[done.device.id]["wiped_at"]
    lines = {line.split()[0]: line for line in text.splitlines()}
    assert "wipe requested" in lines[str(waiting.device.id)]
    assert "wiped" in lines[str(done.device.id)]
    assert "wipe" not in lines[str(device.device.id)]


def test_a_wipe_is_refused_for_unknown_revoked_or_never_enrolled_devices(runner, org, device):
    pending = ok_json(cli(runner, "device", "enrol", "--org", org.slug, "--name", "Ny", "--json"))
    assert cli(runner, "device", "revoke", str(device.device.id)).exit_code == 0

    for target, words in (
        ("999999", "999999"),
        (str(device.device.id), "revoked"),
        (str(pending["device_id"]), "not enrolled"),
    ):
        result = cli(runner, "device", "wipe", target)
        assert result.exit_code != 0 and "Traceback" not in result.output
        assert words in result.output, result.output
    assert fresh(device.device.id).wipe_requested_at is None


def test_a_revoked_phone_cannot_confirm_a_wipe(runner, client, device):
    ok_json(cli(runner, "device", "wipe", str(device.device.id), "--json"))
    assert cli(runner, "device", "revoke", str(device.device.id)).exit_code == 0

    resp = client.post(WIPED, headers=device.headers)

    assert resp.status_code == 401
    assert resp.get_json()["error"]["code"] == "device_revoked"
    assert fresh(device.device.id).wiped_at is None


def test_the_openapi_document_describes_the_wipe_and_the_retention(client):
    doc = client.get("/api/openapi.json").get_json()
    schemas = doc["components"]["schemas"]
    pull_out = schemas["PullOut"]["properties"]

    assert pull_out["wipe"]["type"] == "boolean"
    assert "retention" in pull_out
    op = doc["paths"][WIPED]["post"]
    assert op["security"] == [{"deviceToken": []}]
    assert {"200", "401"} <= set(op["responses"])
    assert set(schemas["WipedOut"]["properties"]) == {"wipe", "wiped_at"}
