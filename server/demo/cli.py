"""`lagesbild demo`: a demo municipality a newcomer can look at."""

from __future__ import annotations

import json
import secrets
from itertools import islice
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from analysis.calendar import STOCKHOLM
from server.auth import service as persons
from server.cli_util import emit, json_option
from server.demo.actions import seed_actions
from server.demo.data import DEVICES, PARTNERS, DemoDevice, generate_reports
from server.demo.rounds import seed_rounds
from server.demo.walk import OBSERVATIONS, add_demo_walk
from server.demo.walk_follow_up import MARKS as FOLLOW_UP_MARKS
from server.demo.walk_follow_up import add_demo_follow_up
from server.devices.models import Device
from server.devices.service import sha256_hex
from server.extensions import db
from server.incidents.areas import import_areas
from server.incidents.queue import drain
from server.orgs import service as orgs
from server.orgs.models import Organisation
from server.protocol.service import receive_push
from server.sharing import service as sharing
from sync.clock import utcnow

DEMO_ORG = "Staffanstorps kommun (demo)"
DEMO_COORDINATOR = "samordnare@demo.lagesbild.invalid"
DEMO_ADMIN = "admin@demo.lagesbild.invalid"
SHARED_BY_HOUSING = ["skadegorelse", "miljo", "brand", "otrygg_plats"]
BATCH = 100


@click.command("demo")
@click.option("--if-new", is_flag=True, help="Do nothing if the demo organisation exists.")
@click.option("--weeks", default=4, show_default=True, type=click.IntRange(1, 104))
@click.option("--seed", default=1, show_default=True, type=int)
@json_option
@with_appcontext
def demo(if_new: bool, weeks: int, seed: int, as_json: bool) -> None:
    """Create a demo municipality, a housing and a guard company, their reports and agreements."""
    try:
        existing = orgs.find(DEMO_ORG)
    except LookupError:
        existing = None
    if existing is not None:
        if if_new:
            emit(as_json, {"org": existing.slug, "created": False}, "Demo data already present.")
            return
        raise click.ClickException(f"{DEMO_ORG!r} exists already (use --if-new to skip).")
    org = orgs.create(DEMO_ORG, "kommun")
    # A coordinator login for the workspace, and an admin who manages the agreements; the
    # password is shown once, here.
    password = current_app.config["DEMO_PASSWORD"] or secrets.token_urlsafe(9)
    persons.create(org, DEMO_COORDINATOR, "coordinator", password)
    persons.create(org, DEMO_ADMIN, "admin", password)
    # The three towns as approximate areas, so reports get an area as they arrive.
    doc = json.loads((Path(__file__).parent / "areas.geojson").read_text(encoding="utf-8"))
    devices, created = _populate(org, DEVICES, doc, weeks, seed)
    # A completed trygghetsvandring with its observations (the protocol in the workspace).
    walk = add_demo_walk(org.id, devices["Nattvandrarna Staffanstorp"])
    created += len(OBSERVATIONS)
    # Its follow-up walk three weeks later: observations marked åtgärdat or kvarstår.
    follow_up = add_demo_follow_up(org.id, devices["Nattvandrarna Staffanstorp"], walk)
    created += len(FOLLOW_UP_MARKS)
    drain()
    partners = {}
    partner_devices: dict[str, Device] = {}
    for n, partner in enumerate(PARTNERS, start=1):
        other = orgs.create(partner.name, partner.kind)
        partners[partner.kind] = other
        partner_devices.update(_populate(other, partner.devices, doc, weeks, seed + n)[0])
    # The shared lägesbild of docs/sharing.md: the guard company works for the
    # municipality; the housing company shares damage and environment without free text;
    # the municipality gives the housing company the numbers for Hjärup.
    sharing.share(partners["vaktbolag"], org, "full")
    sharing.share(partners["bostadsbolag"], org, "reports", categories=SHARED_BY_HOUSING)
    sharing.share(org, partners["bostadsbolag"], "counts", areas=["hjarup"])
    # The åtgärdsplan (docs/actions.md): actions in every status, one overdue.
    action_count = seed_actions(org.id, utcnow().astimezone(STOCKHOLM).date())
    # The guard company's rounds (docs/rounds.md), seen by the municipality through the
    # agreement above.
    guard_rounds = seed_rounds(
        partners["vaktbolag"].id,
        partner_devices["Väktarbil Syd"],
        utcnow().astimezone(STOCKHOLM).date(),
    )
    emit(
        as_json,
        {
            "org": org.slug,
            "created": True,
            "devices": len(devices),
            "reports": created,
            "login": {"email": DEMO_COORDINATOR, "password": password},
            "admin": DEMO_ADMIN,
            "partners": [o.slug for o in partners.values()],
            "walk": walk.id,
            "follow_up_walk": follow_up.id,
            "actions": action_count,
            "rounds": guard_rounds,
        },
        f"Created {DEMO_ORG} (slug {org.slug}) with {len(devices)} devices and "
        f"{created} reports over {weeks} weeks.\n"
        f"Also {', '.join(o.name for o in partners.values())}, sharing by agreement.\n"
        f"A completed safety walk: /workspace/walks/{walk.id}/protocol\n"
        f"Its follow-up walk: /workspace/walks/{follow_up.id}/protocol\n"
        f"Guard rounds of {partners['vaktbolag'].name}: /workspace/rounds/week\n"
        f"Workspace login (shown only now): {DEMO_COORDINATOR} / {password} "
        f"(the admin {DEMO_ADMIN} has the same password)",
    )


def _populate(
    org: Organisation, specs: tuple[DemoDevice, ...], areas_doc: dict, weeks: int, seed: int
) -> tuple[dict[str, Device], int]:
    """Give an organisation its devices, the towns as areas and weeks of their reports."""
    devices: dict[str, Device] = {}
    now = utcnow()
    for spec in specs:
        # Demo devices are enrolled with a token nobody knows: they exist to own reports.
        d = Device(
            org_id=org.id,
            display_name=spec.name,
            kind=spec.kind,
            token_hash=sha256_hex(secrets.token_urlsafe(32)),
            enrolled_at=now,
            last_seen_at=now,
        )
        db.session.add(d)
        devices[spec.name] = d
    db.session.commit()
    import_areas(org.id, areas_doc, name_property="name", code_property="code")
    created = 0
    by_device: dict[str, list[dict]] = {}
    for r in generate_reports(now=now, weeks=weeks, seed=seed, devices=specs):
        by_device.setdefault(r.device_name, []).append(r.payload)
    for name, payloads in by_device.items():
        it = iter(payloads)
        while chunk := list(islice(it, BATCH)):
            results = receive_push(devices[name], chunk)
            created += sum(1 for res in results if res["status"] == "created")
    drain()  # a command runs no grouping job: group what the pushes queued before it ends
    return devices, created
