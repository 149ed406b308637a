"""`lagesbild org …`."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from server.cli_util import emit, fail_on_value_error, json_option
from server.orgs import service
from server.orgs.models import ORG_KINDS


@click.group()
def org() -> None:
    """Manage organisations."""


@org.command("create")
@click.argument("name")
@click.option("--kind", type=click.Choice(ORG_KINDS), default="kommun", show_default=True)
@json_option
@with_appcontext
@fail_on_value_error
def org_create(name: str, kind: str, as_json: bool) -> None:
    """Create an organisation."""
    o = service.create(name, kind)
    emit(
        as_json,
        {"id": o.id, "name": o.name, "slug": o.slug, "kind": o.kind},
        f"Created organisation {o.name} (slug {o.slug}, id {o.id}).",
    )
