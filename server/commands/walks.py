"""`lagesbild walk …`: plan a safety walk and write its protocol."""

from __future__ import annotations

import base64
from pathlib import Path

import click
from flask.cli import with_appcontext

from server.cli_util import emit, fail_on_value_error, json_option
from server.errors import ApiError
from server.orgs import service as orgs
from server.photos import service as photos
from server.photos.storage import StorageUnavailable
from server.walks import service as walks
from server.walks.protocol import build
from server.walks.render import render_protocol


@click.group()
def walk() -> None:
    """Plan safety walks (trygghetsvandringar) and write their protocols."""


@walk.command("create")
@click.option("--org", "org_key", required=True, help="Organisation name or slug.")
@click.option("--area", "area_key", required=True, help="Area code or name.")
@click.option("--date", "day", required=True, help="The walk's date, YYYY-MM-DD.")
@click.option("--dark", is_flag=True, help="A walk after dark (default: daylight).")
@click.option(
    "--follows",
    "follows",
    type=click.IntRange(1, walks.MAX_WALK_ID),
    default=None,
    help="Follow up this earlier walk of the same area (its route and stops are copied).",
)
@json_option
@with_appcontext
@fail_on_value_error
def walk_create(
    org_key: str, area_key: str, day: str, dark: bool, follows: int | None, as_json: bool
) -> None:
    """Plan a walk in an area on a date (route, stops and counts in the workspace)."""
    organisation = orgs.find(org_key)
    area = walks.find_area(organisation.id, area_key)
    plan = walks.WalkPlan(
        area_id=area.id, walk_date=walks.parse_date(day), dark=dark, follows=follows
    )
    if follows is not None:
        plan = walks.follow_up_plan(organisation.id, plan)
    created = walks.create_walk(organisation.id, plan)
    data = {
        "id": created.id,
        "org": organisation.slug,
        "area": area.name,
        "date": created.walk_date.isoformat(),
        "dark": created.dark,
        "status": created.status,
    }
    if follows is not None:
        data["follows"] = follows  # only then: the output of a plain walk stays as it was
    emit(
        as_json,
        data,
        f"Planned walk {created.id}: {area.name} {created.walk_date.isoformat()}"
        f"{' (dark)' if dark else ''}"
        f"{f', following up walk {follows}' if follows is not None else ''}.",
    )


@walk.command("protocol")
@click.argument("walk_id", type=int)
@click.option("--html", "html_path", required=True, type=click.Path(dir_okay=False))
@click.option("--lang", type=click.Choice(["sv", "en"]), default="sv", show_default=True)
@json_option
@with_appcontext
@fail_on_value_error
def walk_protocol(walk_id: int, html_path: str, lang: str, as_json: bool) -> None:
    """Write a walk's protocol as one HTML file (photos embedded as thumbnails)."""
    protocol = build(None, walk_id)
    org_id = protocol.walk.org_id

    def embedded(sha256: str) -> str | None:
        ref = photos.photo_for_org(org_id, sha256, "thumb")
        data = ref.read_bytes() if ref else None
        if data is None:
            return None
        return "data:image/jpeg;base64," + base64.b64encode(data).decode("ascii")

    try:
        html = render_protocol(protocol, lang, embedded)
    except (StorageUnavailable, ApiError) as exc:
        # A photo the bucket cannot give now: no half protocol, a clear line instead.
        raise click.ClickException(f"The photo storage is not reachable: {exc}") from exc
    target = Path(html_path)
    try:
        target.write_text(html, encoding="utf-8")
    except OSError as exc:
        raise click.ClickException(f"Cannot write {html_path}: {exc.strerror}") from exc
    emit(
        as_json,
        {"id": walk_id, "file": str(target), "observations": len(protocol.observations)},
        f"Wrote the protocol of walk {walk_id} ({len(protocol.observations)} observations) "
        f"to {target}.",
    )
