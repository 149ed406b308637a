"""`lagesbild digest …` (preview or send one digest) and `lagesbild digest-settings …`."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from analysis.calendar import due_day, parse_timezone
from server.cli_util import emit, fail_on_value_error, json_option
from server.db import phase
from server.digest import scheduler
from server.digest import service as settings_service
from server.digest.models import DIGEST_KINDS, DIGEST_LANGUAGES
from server.orgs import service as orgs
from sync.clock import utcnow


def _parse_day(value: str | None, tz_name: str) -> date:
    if value is None:
        return utcnow().astimezone(parse_timezone(tz_name)).date()
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise ValueError(f"--date must be YYYY-MM-DD, got {value!r}") from exc


@click.command("digest")
@click.option("--org", "org_key", required=True, help="Organisation name or slug.")
@click.option(
    "--date",
    "day_text",
    metavar="YYYY-MM-DD",
    help="The morning of the night digest (default today); for week/month any day of the "
    "week or month the digest is sent in (it goes out on the Monday / the 1st).",
)
@click.option("--kind", type=click.Choice(DIGEST_KINDS), default="night", show_default=True)
@click.option("--lang", type=click.Choice(DIGEST_LANGUAGES), help="Default: the settings'.")
@click.option("--send", "do_send", is_flag=True, help="Send it now (once; see --force).")
@click.option(
    "--html",
    "html_file",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Write a preview to this HTML file instead of sending.",
)
@click.option("--force", is_flag=True, help="Send again even if it was sent, or early.")
@json_option
@with_appcontext
@fail_on_value_error
def digest(
    org_key: str,
    day_text: str | None,
    kind: str,
    lang: str | None,
    do_send: bool,
    html_file: Path | None,
    force: bool,
    as_json: bool,
) -> None:
    """Preview a digest as an HTML file, or send it now through the scheduler's claim."""
    if do_send == (html_file is not None):
        raise click.UsageError("give exactly one of --send or --html FILE")
    with phase("read"):
        organisation = orgs.find(org_key)
        row = settings_service.get(organisation.id) or settings_service.defaults(organisation.id)
        tz_name, default_lang = row.timezone, row.lang
    day = due_day(kind, _parse_day(day_text, tz_name))
    if html_file is not None:
        _preview(organisation.id, kind, day, lang or default_lang, html_file, as_json)
        return
    outcome = scheduler.send_now(organisation.id, kind, day, force=force, lang=lang)
    data = {
        "org": organisation.slug,
        "kind": kind,
        "day": day.isoformat(),
        "run_id": outcome.run_id,
        "status": outcome.status,
        "error": outcome.error,
        "sent_at": outcome.sent_at.isoformat() if outcome.sent_at else None,
    }
    what = f"the {kind} digest of {day} for {organisation.name} (run {outcome.run_id})"
    if outcome.status == "sent":
        emit(as_json, data, f"Sent {what}.")
        return
    if outcome.status == "already_sent":
        when = _local(outcome.sent_at, tz_name)
        emit(as_json, data, f"Already sent {what} at {when}; use --force to send it again.")
    elif outcome.status == "busy":
        emit(as_json, data, f"Another process is sending {what} right now; nothing done.")
    else:
        emit(as_json, data, f"Sending {what} failed: {outcome.error}")
    raise SystemExit(1)


def _preview(org_id: int, kind: str, day: date, lang: str, path: Path, as_json: bool) -> None:
    """Build and render the digest and write it to a file; nothing is recorded or sent."""
    from server.digest import content, render

    with phase("read"):
        built = content.build_digest(org_id, kind, day, now=utcnow())
    rendered = render.render(
        built, lang, base_url=current_app.config["BASE_URL"], image_mode=PREVIEW_IMAGES
    )
    path.write_text(rendered.html, encoding="utf-8")
    emit(
        as_json,
        {"kind": kind, "day": day.isoformat(), "file": str(path), "subject": rendered.subject},
        f"Wrote {rendered.subject!r} to {path}.",
    )


# A preview file is opened from disk: "url" carries the chart inside it (a data: URI);
# photo thumbnails link to the workspace (shown when logged in there).
PREVIEW_IMAGES = "url"


def _local(moment: datetime | None, tz_name: str) -> str:
    if moment is None:
        return "?"
    return moment.astimezone(parse_timezone(tz_name)).strftime("%Y-%m-%d %H:%M")


@click.command("digest-settings")
@click.option("--org", "org_key", required=True, help="Organisation name or slug.")
@click.option("--recipients", help="Comma-separated e-mail addresses (replaces the list).")
@click.option("--time", "send_time", metavar="HH:MM", help="Local send time (default 06:00).")
@click.option("--timezone", help="IANA time zone (default Europe/Stockholm).")
@click.option("--lang", type=click.Choice(DIGEST_LANGUAGES))
@click.option("--enable/--disable", "enabled", default=None, help="Switch the digest on or off.")
@click.option("--weekly/--no-weekly", "weekly", default=None, help="Weekly lägesbild on Mondays.")
@click.option("--monthly/--no-monthly", "monthly", default=None, help="Monthly one on the 1st.")
@json_option
@with_appcontext
@fail_on_value_error
def digest_settings(
    org_key: str,
    recipients: str | None,
    send_time: str | None,
    timezone: str | None,
    lang: str | None,
    enabled: bool | None,
    weekly: bool | None,
    monthly: bool | None,
    as_json: bool,
) -> None:
    """Show or change who gets the organisation's digests, when and in which language."""
    with phase("read"):
        organisation = orgs.find(org_key)
    changes = (recipients, send_time, timezone, lang, enabled, weekly, monthly)
    if all(value is None for value in changes):
        with phase("read"):
            row = settings_service.get(organisation.id) or settings_service.defaults(
                organisation.id
            )
    else:
        row = settings_service.configure(
            organisation.id,
            recipients=[recipients] if recipients is not None else None,
            send_time=send_time,
            timezone=timezone,
            lang=lang,
            enabled=enabled,
            weekly=weekly,
            monthly=monthly,
        )
    data = {"org": organisation.slug, **settings_service.as_dict(row)}
    kinds = ", ".join(scheduler.kinds_of(row))
    state = "on" if row.enabled else "off"
    emit(
        as_json,
        data,
        f"Digest for {organisation.name}: {state}, {row.send_time} {row.timezone}, "
        f"{row.lang}, {kinds}; recipients: {', '.join(row.recipients or []) or '(none)'}.",
    )
