"""`lagesbild report …`: coordinator feedback from the command line."""

from __future__ import annotations

import uuid

import click
from flask.cli import with_appcontext

from server.cli_util import emit, fail_on_value_error, json_option
from server.incidents import feedback
from server.privacy import erasure
from server.reports.models import REPORT_STATUSES


@click.group()
def report() -> None:
    """Inspect and act on reports."""


@report.command("status")
@click.argument("report_id", type=click.UUID)
@click.argument("status", type=click.Choice(REPORT_STATUSES))
@click.option("--comment", help="A comment the reporting device will see.")
@json_option
@with_appcontext
@fail_on_value_error
def report_status(report_id: uuid.UUID, status: str, comment: str | None, as_json: bool) -> None:
    """Set a report's status (and optionally comment on it)."""
    r = feedback.set_status(report_id, status, comment)
    emit(
        as_json,
        {"id": str(r.id), "status": r.status, "version": r.version},
        f"Report {r.id} is now {r.status}.",
    )


@report.command("delete")
@click.argument("report_id", type=click.UUID)
@click.option(
    "--reason", default="erasure", show_default=True, help="Recorded in the audit log (≤ 40)."
)
@json_option
@with_appcontext
@fail_on_value_error
def report_delete(report_id: uuid.UUID, reason: str, as_json: bool) -> None:
    """Delete a report for good, with its photos and its copies in archived digests.

    Devices are told, resends are refused, and the audit log records the reason.
    """
    done = erasure.erase_report(report_id, reason)
    rebuilt = len(done.digests)
    emit(
        as_json,
        {"id": str(report_id), "deleted": True, **done.as_dict()},
        f"Deleted report {report_id} ({done.reason}); {rebuilt} archived digest(s) rebuilt.",
    )
