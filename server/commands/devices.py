"""`lagesbild device …`."""

from __future__ import annotations

import io

import click
import qrcode
from flask import current_app
from flask.cli import with_appcontext

from server.cli_util import emit, fail_on_value_error, json_option
from server.devices import service
from server.devices.models import Device
from server.orgs import service as orgs


def enrol_url(code: str) -> str:
    """Build the link a phone opens to enrol (the code stays in the fragment, out of logs)."""
    return f"{current_app.config['BASE_URL']}/#enrol={service.normalise_code(code)}"


def terminal_qr(text: str) -> str:
    """Render a QR code with block characters for a terminal."""
    qr = qrcode.QRCode(border=1)
    qr.add_data(text)
    out = io.StringIO()
    qr.print_ascii(out=out, invert=True)
    return out.getvalue()


@click.group()
def device() -> None:
    """Manage devices (phones)."""


@device.command("enrol")
@click.option("--org", "org_key", required=True, help="Organisation name or slug.")
@click.option("--name", required=True, help="Display name, e.g. 'Väktarbil 1'.")
@click.option("--kind", default="other", help="vaktare, faltare, nattvandrare or other.")
@click.option("--qr/--no-qr", default=True, help="Print a QR code of the link.")
@json_option
@with_appcontext
@fail_on_value_error
def device_enrol(org_key: str, name: str, kind: str, qr: bool, as_json: bool) -> None:
    """Issue a one-time enrolment code and link for a device."""
    organisation = orgs.find(org_key)
    issued = service.issue_code(
        organisation, name, kind, int(current_app.config["ENROL_CODE_TTL_HOURS"])
    )
    url = enrol_url(issued.code)
    data = {
        "code": issued.code,
        "url": url,
        "device_id": issued.device.id,
        "name": issued.device.display_name,
        "kind": issued.device.kind,
        "org": organisation.slug,
        "expires_at": issued.expires_at.isoformat(),
    }
    text = (
        f"Device {issued.device.display_name} ({issued.device.kind}) in {organisation.name}\n"
        f"Enrolment code: {issued.code}  (valid until {issued.expires_at:%Y-%m-%d %H:%M} UTC)\n"
        f"Open on the phone: {url}"
    )
    if qr and not as_json:
        text += "\n" + terminal_qr(url)
    emit(as_json, data, text)


@device.command("revoke")
@click.argument("device_id", type=int)
@json_option
@with_appcontext
@fail_on_value_error
def device_revoke(device_id: int, as_json: bool) -> None:
    """Revoke a device at once (its next request gets 401)."""
    d = service.revoke(device_id)
    emit(
        as_json,
        {"id": d.id, "name": d.display_name, "revoked_at": d.revoked_at},
        f"Revoked device {d.id} ({d.display_name}).",
    )


@device.command("wipe")
@click.argument("device_id", type=int)
@json_option
@with_appcontext
@fail_on_value_error
def device_wipe(device_id: int, as_json: bool) -> None:
    """Order a phone to delete what the server has (its next pull carries the order)."""
    d = service.request_wipe(device_id)
    emit(
        as_json,
        {
            "id": d.id,
            "name": d.display_name,
            "wipe": service.wipe_state(d),
            "wipe_requested_at": d.wipe_requested_at,
            "wiped_at": d.wiped_at,
        },
        f"Wipe ordered for device {d.id} ({d.display_name}) at "
        f"{d.wipe_requested_at:%Y-%m-%d %H:%M} UTC: on its next sync the phone deletes every "
        "report the server has, with its photos, and keeps the unsent ones. "
        "`lagesbild device list` shows when it is done.",
    )


@device.command("list")
@click.option("--org", "org_key", required=True, help="Organisation name or slug.")
@json_option
@with_appcontext
@fail_on_value_error
def device_list(org_key: str, as_json: bool) -> None:
    """List an organisation's devices."""
    organisation = orgs.find(org_key)
    rows = service.list_devices(organisation.id)
    data = {
        "devices": [
            {
                "id": d.id,
                "name": d.display_name,
                "kind": d.kind,
                "enrolled_at": d.enrolled_at,
                "last_seen_at": d.last_seen_at,
                "revoked_at": d.revoked_at,
                "wipe": service.wipe_state(d),
                "wipe_requested_at": d.wipe_requested_at,
                "wiped_at": d.wiped_at,
            }
            for d in rows
        ]
    }
    lines = [
        f"{d.id:>5}  {d.display_name:<30} {d.kind:<13} "
        f"{'revoked' if d.revoked_at else 'enrolled' if d.enrolled_at else 'pending'}"
        f"{_wipe_text(d)}"
        for d in rows
    ]
    emit(as_json, data, "\n".join(lines) or "No devices.")


def _wipe_text(d: Device) -> str:
    """The wipe state for the text listing ("" when none was ever ordered)."""
    state = service.wipe_state(d)
    if state == "requested":
        return f"  wipe requested {d.wipe_requested_at:%Y-%m-%d %H:%M} UTC"
    if state == "done":
        return f"  wiped {d.wiped_at:%Y-%m-%d %H:%M} UTC"
    return ""
