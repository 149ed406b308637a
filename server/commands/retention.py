"""`lagesbild org retention …` (the periods) and `lagesbild purge …` (purge now)."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from server.cli_util import emit, fail_on_value_error, json_option
from server.commands.orgs import org
from server.db import phase
from server.orgs import service as orgs
from server.retention import scheduler
from server.retention import settings as retention

_DAYS = click.IntRange(min=None)  # any integer: the service explains what is allowed


# Registered on the `org` group by being imported (server.app imports this module).
@org.command("retention")
@click.argument("org_key", metavar="ORG")
@click.option("--text-days", type=_DAYS, help="Clear free text and photos after N days.")
@click.option("--report-days", type=_DAYS, help="Delete whole reports after N days.")
@click.option("--audit-days", type=_DAYS, help="Delete audit entries after N days.")
@click.option("--digest-days", type=_DAYS, help="Delete archived digests after N days.")
@json_option
@with_appcontext
@fail_on_value_error
def org_retention(
    org_key: str,
    text_days: int | None,
    report_days: int | None,
    audit_days: int | None,
    digest_days: int | None,
    as_json: bool,
) -> None:
    """Show or change how long the organisation keeps its data (in days)."""
    with phase("read"):
        organisation = orgs.find(org_key)
        periods = retention.periods_of(organisation)
    if any(v is not None for v in (text_days, report_days, audit_days, digest_days)):
        periods = retention.configure(
            organisation.id,
            text_days=text_days,
            report_days=report_days,
            audit_days=audit_days,
            digest_days=digest_days,
        )
    p = periods
    emit(
        as_json,
        {"org": organisation.slug, **p.as_dict()},
        f"Retention for {organisation.name}: free text and photos {p.text_days} days, "
        f"reports {p.report_days} days, audit log {p.audit_days} days, "
        f"digest archive {p.digest_days} days.",
    )


@click.command("purge")
@click.option("--org", "org_key", required=True, help="Organisation name or slug.")
@click.option("--dry-run", is_flag=True, help="Only count what would go; change nothing.")
@json_option
@with_appcontext
@fail_on_value_error
def purge(org_key: str, dry_run: bool, as_json: bool) -> None:
    """Purge what the organisation's retention periods say is due, now (as the 03:30 job)."""
    with phase("read"):
        organisation = orgs.find(org_key)
    outcome = scheduler.purge_now(organisation.id, dry_run=dry_run)
    data = {
        "org": organisation.slug,
        "day": outcome.day.isoformat(),
        "run_id": outcome.run_id,
        "status": outcome.status,
        "dry_run": dry_run,
        "counts": outcome.counts,
        "error": outcome.error,
    }
    counts = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in outcome.counts.items())
    if outcome.status == "dry_run":
        emit(as_json, data, f"Would purge for {organisation.name}: {counts}.")
        return
    if outcome.status == "done":
        emit(as_json, data, f"Purged for {organisation.name}: {counts}.")
        return
    if outcome.status == "busy":
        emit(as_json, data, f"Another process is purging {organisation.name} now; nothing done.")
    else:
        emit(as_json, data, f"The purge of {organisation.name} {outcome.status}: {outcome.error}")
    raise SystemExit(1)
