"""`lagesbild export est`: the EST-style weekly export of an organisation, to a CSV file."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext

from server.actions import est
from server.cli_util import emit, fail_on_value_error, json_option
from server.db import phase
from server.orgs import service as orgs
from server.workspace.export import csv_body


@click.group("export")
def export() -> None:
    """Exports for the statutory lägesbild."""


@export.command("est")
@click.option("--org", "org_key", required=True, help="Organisation name or slug.")
@click.option("--week", "week_text", required=True, metavar="YYYY-Www", help="ISO week.")
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="The CSV file to write (UTF-8 with BOM, ';', CRLF).",
)
@json_option
@with_appcontext
@fail_on_value_error
def est_command(org_key: str, week_text: str, out: Path, as_json: bool) -> None:
    """Write one row per report and action of the ISO week (Europe/Stockholm)."""
    try:
        year, week = est.parse_week(week_text)
    except est.BadWeek:
        raise click.BadParameter(
            "write the week as YYYY-Www, e.g. 2026-W49", param_hint="--week"
        ) from None
    with phase("read"):
        organisation = orgs.find(org_key)
        rows = est.est_rows(organisation.id, year, week)
    out.write_bytes(csv_body(est.COLUMNS, (r.values() for r in rows)))
    label = f"{year}-W{week:02d}"
    emit(
        as_json,
        {"org": organisation.slug, "week": label, "rows": len(rows), "file": str(out)},
        f"Wrote {len(rows)} rows of {label} for {organisation.name} to {out}.",
    )
