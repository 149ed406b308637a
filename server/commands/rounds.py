"""`lagesbild checkpoint …` and `lagesbild round …`: guard rounds from the command line."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from server.cli_util import emit, fail_on_value_error, json_option
from server.orgs import service as orgs
from server.rounds import service as rounds


@click.group()
def checkpoint() -> None:
    """Create guard round checkpoints (QR labels with a short code)."""


@checkpoint.command("create")
@click.option("--org", "org_key", required=True, help="Organisation name or slug.")
@click.option("--name", required=True, help="The checkpoint's name on the label.")
@click.option("--lat", type=float, required=True, help="Latitude (WGS 84).")
@click.option("--lon", type=float, required=True, help="Longitude (WGS 84).")
@click.option("--radius", type=int, default=50, show_default=True, help="Metres.")
@click.option("--instructions", default="", help="What the guard checks there.")
@json_option
@with_appcontext
@fail_on_value_error
def checkpoint_create(
    org_key: str, name: str, lat: float, lon: float, radius: int, instructions: str, as_json: bool
) -> None:
    """Create a checkpoint and print its token, short code and QR address."""
    organisation = orgs.find(org_key)
    plan = rounds.CheckpointPlan(
        name=name, lat=lat, lon=lon, radius_m=radius, instructions=instructions
    )
    created = rounds.create_checkpoint(organisation.id, plan)
    url = rounds.qr_url(current_app.config["BASE_URL"], created.token)
    emit(
        as_json,
        {"id": created.id, "token": created.token, "short_code": created.short_code, "url": url},
        f"Created checkpoint {created.id} {created.name!r}: short code {created.short_code}, "
        f"QR {url}",
    )


@click.group("round")
def round_group() -> None:
    """Plan guard rounds over checkpoints."""


@round_group.command("create")
@click.option("--org", "org_key", required=True, help="Organisation name or slug.")
@click.option("--name", required=True, help="The round's name.")
@click.option("--checkpoints", "ids", required=True, help="Checkpoint ids in order: 3,1,2.")
@click.option(
    "--optional",
    "optional_ids",
    default=None,
    help="Checkpoints of --checkpoints that are not required: 2,5 (default: all required).",
)
@click.option("--ordered", is_flag=True, help="The checkpoints must be walked in order.")
@click.option("--window", required=True, help="Local window HH:MM-HH:MM, e.g. 22:00-02:00.")
@click.option("--grace", type=int, default=15, show_default=True, help="Minutes of grace.")
@click.option("--every", "every", type=int, default=None, help="A run every N minutes.")
@json_option
@with_appcontext
@fail_on_value_error
def round_create(
    org_key: str,
    name: str,
    ids: str,
    optional_ids: str | None,
    ordered: bool,
    window: str,
    grace: int,
    every: int | None,
    as_json: bool,
) -> None:
    """Create a round over the organisation's checkpoints (required unless --optional)."""
    organisation = orgs.find(org_key)
    checkpoint_ids = rounds.parse_ids(ids)
    plan = rounds.RoundPlan(
        name=name,
        checkpoint_ids=checkpoint_ids,
        optional_ids=rounds.parse_optional(optional_ids, checkpoint_ids),
        window=window,
        ordered=ordered,
        grace_minutes=grace,
        every_minutes=every,
    )
    created = rounds.create_round(organisation.id, plan)
    emit(
        as_json,
        {"id": created.id},
        f"Created round {created.id} {created.name!r}: {created.window}, "
        f"{'ordered' if created.ordered else 'any order'}.",
    )
