"""Workspace pages of the digest: the latest night, the archive of sent digests, resends,
and the printable weekly/monthly lägesbild document (its workspace page: `lagesbild_views`).

A digest document (built on the fly, or a stored run's archive copy) is served on its own
address as a standalone page — printable, and shown inside the workspace pages in an
iframe from the same origin. It carries a stricter policy than the workspace's: no
scripts at all, framed only by the workspace itself.

Documents read with the person's scope (`current_scope`): what is shared with the
organisation, as the agreements in force at this page load allow and the person's role may
read. A stored copy built under other agreements is rebuilt (`server.digest.archive`).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Response, abort, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response as BaseResponse

from analysis.calendar import due_day, latest_due_day, parse_timezone, supported
from server.db import phase
from server.digest import archive, scheduler
from server.digest import service as digest_settings
from server.digest.models import DIGEST_KINDS, DigestRun
from server.workspace import bp, service
from server.workspace.hooks import audit, message
from server.workspace.i18n import current_lang
from server.workspace.scoping import current_scope
from sync.clock import utcnow

ARCHIVE_LIMIT = 100
# Row ids are INTEGER columns (32-bit on PostgreSQL): a larger one in a URL names nothing
# and would overflow the database, so the route does not match it.
MAX_ROW_ID = 2**31 - 1
# A digest document: its own styles and images (thumbnails from /workspace/photos, the
# chart as a data: URI), no scripts, framed by the workspace only.
DOCUMENT_CSP = (
    "default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'self'; "
    "sandbox allow-same-origin allow-popups allow-popups-to-escape-sandbox "
    "allow-top-navigation-by-user-activation allow-modals"
)


def _zone_and_settings() -> tuple[Any, Any]:
    org_id = current_user.org.id
    with phase("read"):
        row = digest_settings.get(org_id) or digest_settings.defaults(org_id)
    return parse_timezone(row.timezone), row


def org_zone() -> Any:
    """Return the time zone of the person's organisation's digest settings."""
    return _zone_and_settings()[0]


def _document(html: str) -> Response:
    """Return a digest document with its own security headers."""
    resp = Response(html, mimetype="text/html")
    resp.headers["Content-Security-Policy"] = DOCUMENT_CSP
    resp.headers["X-Frame-Options"] = "SAMEORIGIN"
    return resp


def _run_or_404(run_id: int) -> DigestRun:
    """Return a run of the person's own organisation; another organisation's is a 404."""
    run = service.digest_run(current_user.org.id, run_id)
    if run is None:
        abort(404)
    return run


@bp.get("/digest", endpoint="digest")
@login_required
def digest_home() -> str:
    """The latest night digest (built now) above the archive of scheduled and sent digests.

    ?date=YYYY-MM-DD shows the digest of another morning instead of the latest.
    """
    tz, row = _zone_and_settings()
    now = utcnow()
    night = latest_due_day("night", now, tz)
    raw = request.args.get("date", "")
    if raw:
        try:
            night = date.fromisoformat(raw)
        except ValueError:
            abort(400)
    html = render_template(
        "workspace/digest.html",
        night=night,
        night_src=url_for("workspace.lagesbild_document", kind="night", date=night.isoformat()),
        week=latest_due_day("week", now, tz),
        month=latest_due_day("month", now, tz),
        runs=service.digest_archive(current_user.org.id, ARCHIVE_LIMIT),
        settings=row,
        kinds=scheduler.kinds_of(row),
        tz=tz,
    )
    audit("digest.view", f"night {night.isoformat()}")
    return html


@bp.get(f"/digest/<int(max={MAX_ROW_ID}):run_id>", endpoint="digest_run")
@login_required
def digest_run(run_id: int) -> str:
    """One stored digest run: its delivery facts and the copy that was archived."""
    run = _run_or_404(run_id)
    tz, _row = _zone_and_settings()
    # A rebuilt copy's stored subject counted what was shared then: it is not shown.
    rebuilt = archive.needs_rebuild(run, current_scope())
    html = render_template("workspace/digest_run.html", run=run, tz=tz, rebuilt=rebuilt)
    audit("digest.run.view", str(run.id))
    return html


@bp.get(f"/digest/<int(max={MAX_ROW_ID}):run_id>/document", endpoint="digest_run_document")
@login_required
def digest_run_document(run_id: int) -> Response:
    """The archived copy of a run: as stored, or rebuilt if its sharing changed since."""
    run = _run_or_404(run_id)
    html = archive.archived_document(run, current_scope(), request.host_url.rstrip("/"))
    if html is None:
        abort(404)
    audit("digest.document.view", str(run_id))
    return _document(html)


@bp.post(f"/digest/<int(max={MAX_ROW_ID}):run_id>/send", endpoint="digest_send")
@login_required
def digest_send(run_id: int) -> BaseResponse:
    """Send a failed (or still pending) run again now, through the scheduler's claim."""
    run = _run_or_404(run_id)
    target = request.form.get("back") == "run"
    back = url_for("workspace.digest_run", run_id=run.id) if target else url_for("workspace.digest")
    if run.status == "sent":
        message("digest.send.already", "error")
        return redirect(back)
    try:
        outcome = scheduler.send_now(run.org_id, run.kind, run.day, lang=run.lang)
    except ValueError as exc:
        message("digest.send.refused", "error", reason=str(exc))
        return redirect(back)
    audit("digest.send", str(run.id))
    if outcome.status == "sent":
        message("digest.send.sent")
    elif outcome.status == "busy":
        message("digest.send.busy", "error")
    elif outcome.status == "already_sent":
        message("digest.send.already", "error")
    else:
        message("digest.send.failed", "error", error=outcome.error or "")
    return redirect(back)


def period_asked() -> tuple[str, date]:
    """Read ?kind=week|month|night&date=YYYY-MM-DD (400 when bad); no date: the latest ended.

    A date names the digest due on that date's Monday (week), 1st (month) or morning (night).
    """
    kind = request.args.get("kind", "week")
    if kind not in DIGEST_KINDS:
        abort(400)
    tz, _row = _zone_and_settings()
    raw = request.args.get("date", "")
    if not raw:
        return kind, latest_due_day(kind, utcnow(), tz)
    try:
        asked = date.fromisoformat(raw)
    except ValueError:
        abort(400)
    if not supported(asked):
        abort(400)
    return kind, due_day(kind, asked)


@bp.get("/lagesbild/document", endpoint="lagesbild_document")
@login_required
def lagesbild_document() -> Response:
    """The printable lägesbild of a week, a month or a night (the digest document), built now.

    The workspace page (`lagesbild_views`) summarises it and links here for printing; the
    digest page frames the night's.
    """
    from server.digest import content, render

    kind, day = period_asked()
    lang = current_lang()
    with phase("read"):
        built = content.build_digest(
            current_user.org.id, kind, day, now=utcnow(), scope=current_scope()
        )
    base_url = request.host_url.rstrip("/")
    rendered = render.render(built, lang, base_url=base_url, image_mode="url")
    audit("lagesbild.view", f"{kind} {day.isoformat()}")
    return _document(rendered.html)
