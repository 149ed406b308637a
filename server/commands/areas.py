"""`lagesbild areas …`: import the organisation's areas from GeoJSON."""

from __future__ import annotations

import json

import click
from flask.cli import with_appcontext

from analysis.geo import AreaError
from server.cli_util import emit, fail_on_value_error, json_option
from server.geography import service as geography
from server.incidents import areas as service
from server.orgs import service as orgs


@click.group()
def areas() -> None:
    """Manage areas (districts, towns, zones)."""


@areas.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--org", "org_key", required=True, help="Organisation name or slug.")
@click.option("--name-property", default="name", show_default=True)
@click.option("--code-property", default=None, help="Feature property with a stable code.")
@json_option
@with_appcontext
@fail_on_value_error
def areas_import(
    path: str, org_key: str, name_property: str, code_property: str | None, as_json: bool
) -> None:
    """Import areas from a GeoJSON file and give every report its area."""
    organisation = orgs.find(org_key)
    try:
        with open(path, encoding="utf-8") as fh:
            doc = json.load(fh)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise click.ClickException(f"{path} is not a GeoJSON (JSON) file: {exc}") from exc
    try:
        result = service.import_areas(organisation.id, doc, name_property, code_property)
    except AreaError as exc:
        problems = "\n".join(f"  - {p}" for p in exc.problems)
        raise click.ClickException(f"{path} was not imported:\n{problems}") from exc
    emit(
        as_json,
        {"created": result.created, "updated": result.updated, "located": result.located},
        f"Imported {result.created} new and {result.updated} updated areas into "
        f"{organisation.name}; {result.located} reports located.",
    )


@areas.command("list")
@click.option("--org", "org_key", required=True, help="Organisation name or slug.")
@json_option
@with_appcontext
@fail_on_value_error
def areas_list(org_key: str, as_json: bool) -> None:
    """List the organisation's areas."""
    organisation = orgs.find(org_key)
    rows = geography.list_areas(organisation.id)
    emit(
        as_json,
        {"areas": [{"id": a.id, "code": a.code, "name": a.name} for a in rows]},
        "\n".join(f"{a.code}\t{a.name}" for a in rows) or "No areas.",
    )
