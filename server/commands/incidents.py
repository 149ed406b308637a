"""`lagesbild incidents …`: the grouping from the command line."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from server.cli_util import emit, fail_on_value_error, json_option
from server.incidents.grouping import group_organisation
from server.orgs import service as orgs


@click.group()
def incidents() -> None:
    """Group reports into incidents."""


@incidents.command("group")
@click.option("--org", "org_key", required=True, help="Organisation name or slug.")
@json_option
@with_appcontext
@fail_on_value_error
def incidents_group(org_key: str, as_json: bool) -> None:
    """Put every report that is not in an incident yet into one."""
    organisation = orgs.find(org_key)
    result = group_organisation(organisation.id)
    emit(
        as_json,
        {"grouped": result.grouped, "moved": result.moved, "created": result.created},
        f"Grouped {result.grouped} reports into {result.created} new incidents.",
    )
