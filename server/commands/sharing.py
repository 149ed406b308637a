"""`lagesbild share …`: sharing agreements between organisations."""

from __future__ import annotations

from datetime import date

import click
from flask.cli import with_appcontext

from server.cli_util import emit, fail_on_value_error, json_option
from server.orgs import service as orgs
from server.sharing import service
from server.sharing.rules import DETAILS
from sync.clock import utcnow


def _codes(text: str | None) -> list[str] | None:
    """Split a comma-separated list of codes (None when the option was not given)."""
    return None if text is None else [c for c in text.split(",") if c.strip()]


def _describe(view: service.AgreementView) -> str:
    """Describe one agreement on a line for people."""
    r = view.row
    limits = []
    if r.categories is not None:
        limits.append(f"categories {','.join(r.categories)}")
    if r.areas is not None:
        limits.append(f"areas {','.join(r.areas)}")
    state = (
        "revoked"
        if r.revoked_at
        else "in force"
        if service.to_rule(r).in_force(utcnow())
        else "ended"
    )
    until = f" through {service.last_day(r)}" if r.ends_at else ""
    return (
        f"{r.id:>4}  {view.from_org.slug} → {view.to_org.slug}  {r.detail}"
        f"{' (' + '; '.join(limits) + ')' if limits else ''}{until}  [{state}]"
    )


@click.group(invoke_without_command=True)
@click.option("--from", "from_key", help="The sharing organisation (name or slug).")
@click.option("--to", "to_key", help="The organisation that may see (name or slug).")
@click.option("--categories", help="Only these category codes, comma-separated.")
@click.option("--areas", help="Only these area codes of the sharing organisation.")
@click.option("--detail", type=click.Choice(DETAILS), help="counts, reports or full.")
@click.option("--until", type=click.DateTime(formats=["%Y-%m-%d"]), help="Last day (YYYY-MM-DD).")
@json_option
@with_appcontext
@fail_on_value_error
def share(
    from_key: str | None,
    to_key: str | None,
    categories: str | None,
    areas: str | None,
    detail: str | None,
    until: object,
    as_json: bool,
) -> None:
    """Share an organisation's reports with another, or list and revoke agreements."""
    if click.get_current_context().invoked_subcommand is not None:
        return
    if not (from_key and to_key and detail):
        raise click.UsageError("give --from, --to and --detail (or a subcommand: list, revoke)")
    last_day: date | None = until.date() if until is not None else None  # type: ignore[attr-defined]
    giver, taker = orgs.find(from_key), orgs.find(to_key)
    row = service.share(
        giver,
        taker,
        detail,
        categories=_codes(categories),
        areas=_codes(areas),
        until=last_day,
    )
    view = service.AgreementView(row, giver, taker)
    emit(as_json, view.as_dict(utcnow()), f"Shared: {_describe(view)}")


@share.command("list")
@click.option("--org", "org_key", help="Only agreements of this organisation (either side).")
@json_option
@with_appcontext
@fail_on_value_error
def share_list(org_key: str | None, as_json: bool) -> None:
    """List sharing agreements, newest first."""
    views = service.agreements(orgs.find(org_key) if org_key else None)
    now = utcnow()
    emit(
        as_json,
        {"agreements": [v.as_dict(now) for v in views]},
        "\n".join(_describe(v) for v in views) or "No agreements.",
    )


@share.command("revoke")
@click.argument("agreement_id", type=int)
@json_option
@with_appcontext
@fail_on_value_error
def share_revoke(agreement_id: int, as_json: bool) -> None:
    """Revoke an agreement; it stops applying on the next request."""
    view = service.revoke(agreement_id)
    emit(as_json, view.as_dict(utcnow()), f"Revoked: {_describe(view)}")
