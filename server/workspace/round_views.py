"""Workspace pages for guard rounds: checkpoints, rounds, QR labels and the week view.

``/workspace/rounds`` lists checkpoints and rounds with their forms (editors);
``/workspace/rounds/labels`` is a printable A4 sheet of QR labels; ``/workspace/rounds/week``
shows rounds by nights per area, the organisation's own and those shared with it.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Response, abort, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from server.db import phase
from server.domain_errors import DomainError
from server.geography.service import list_areas
from server.orgs.service import organisations_by_id
from server.rounds import service as rounds
from server.rounds.status import DEFAULT_CUTOFF
from server.rounds.week import parse_week, visible_owners, week
from server.workspace import bp
from server.workspace.auth import user
from server.workspace.hooks import audit, message, render_error
from server.workspace.i18n import t
from server.workspace.labels import request_cache
from server.workspace.round_form import (
    CheckpointForm,
    RoundForm,
    checkpoint_form,
    checkpoint_plan,
    round_form,
    round_plan,
)
from server.workspace.round_labels import label_url, qr_svg
from server.workspace.scoping import current_scope, scope_area_names
from sync.clock import utcnow
from sync.rounds import STOCKHOLM


@bp.app_context_processor
def _rounds_context() -> dict[str, Any]:
    """Let the menu ask whether the organisation uses rounds (one query, when asked)."""
    return {"uses_rounds": _uses_rounds}


def _uses_rounds() -> bool:
    """Tell whether the logged-in organisation has checkpoints or is shared another's rounds."""
    cache = request_cache()
    if "uses-rounds" not in cache:
        me = user()
        owners = set(visible_owners(current_scope())) if me is not None else set()
        cache["uses-rounds"] = any(rounds.has_checkpoints(o) for o in sorted(owners))
    return bool(cache["uses-rounds"])


def _page(
    cp_form: CheckpointForm | None = None, r_form: RoundForm | None = None, status: int = 200
) -> Response:
    """Render the checkpoints and rounds with their forms (a failed form's values and error)."""
    org_id = current_user.org.id
    cps = rounds.checkpoints(org_id)
    rnds = rounds.rounds(org_id)
    html = render_template(
        "workspace/rounds.html",
        checkpoints=cps,
        active_checkpoints=[c for c in cps if c.active],
        names={c.id: c.name for c in cps},
        rounds=rnds,
        stops=rounds.round_stops([r.id for r in rnds]),
        areas=list_areas(org_id),
        area_names={a.id: a.name for a in list_areas(org_id)},
        cp_form=cp_form or CheckpointForm(),
        r_form=r_form or RoundForm(),
    )
    return Response(html, status=status, mimetype="text/html")


@bp.get("/rounds")
@login_required
def rounds_page() -> Response:
    """List the organisation's checkpoints and rounds, with the forms to create them."""
    with phase("read"):
        return _page()


@bp.post("/rounds/checkpoints")
@login_required
def checkpoint_create() -> Response:
    """Create a checkpoint; a bad form is shown again with what is wrong."""
    form = checkpoint_form(request.form)
    try:
        plan = checkpoint_plan(form)
        with phase("write"):
            created = rounds.create_checkpoint(current_user.org.id, plan)
    except DomainError as exc:
        form.error = t("rounds.form.error", reason=exc.message)
        with phase("read"):
            return _page(cp_form=form, status=400)
    audit("checkpoint.create", str(created.id))
    message("rounds.checkpoint.saved")
    return redirect(url_for("workspace.rounds_page"))


@bp.post("/rounds/rounds")
@login_required
def round_create() -> Response:
    """Create a round; a bad form is shown again with what is wrong."""
    with phase("read"):
        ids = [c.id for c in rounds.checkpoints(current_user.org.id, active_only=True)]
    form = round_form(request.form, ids)
    try:
        plan = round_plan(form)
        with phase("write"):
            created = rounds.create_round(current_user.org.id, plan)
    except DomainError as exc:
        form.error = t("rounds.form.error", reason=exc.message)
        with phase("read"):
            return _page(r_form=form, status=400)
    audit("round.create", str(created.id))
    message("rounds.round.saved")
    return redirect(url_for("workspace.rounds_page"))


@bp.get("/rounds/labels")
@login_required
def round_labels() -> Response:
    """Show the printable sheet of QR labels (all checkpoints, or ?checkpoint=ID)."""
    wanted = request.args.get("checkpoint", type=int)
    with phase("read"):
        cps = rounds.checkpoints(current_user.org.id, active_only=True)
        if wanted is not None:
            cps = [c for c in cps if c.id == wanted]
            if not cps:
                abort(404)
        labels = [
            {"cp": c, "url": label_url(c.token), "svg": qr_svg(label_url(c.token), c.name)}
            for c in cps
        ]
        html = render_template("workspace/round_labels.html", labels=labels)
    audit("checkpoint.labels", str(wanted or ""))
    return Response(html, mimetype="text/html")


@bp.get("/rounds/week")
@login_required
def rounds_week() -> Response:
    """Show rounds by nights over a week, per area (?week=2026-W18, ?area=ID)."""
    today = utcnow().astimezone(STOCKHOLM).date()
    try:
        monday = parse_week(request.args.get("week"), today)
    except ValueError:
        return render_error(400, "action.error.bad_week")
    area = request.args.get("area", type=int)
    with phase("read"):
        scope = current_scope()
        groups = week(scope, monday, utcnow(), DEFAULT_CUTOFF)
        areas = scope_area_names(scope, "reports", labelled=False)
        if area is not None:
            if area not in areas:
                abort(404)  # another organisation's area without an agreement looks missing
            groups = [g for g in groups if g.area_id == area]
        owners = organisations_by_id(set(visible_owners(scope)))
        html = render_template(
            "workspace/round_week.html",
            groups=groups,
            nights=[date.fromordinal(monday.toordinal() + i) for i in range(7)],
            monday=monday,
            area=area,
            areas=areas,
            owners=owners,
            week_of=lambda d: f"{d.isocalendar().year}-W{d.isocalendar().week:02}",
        )
    return Response(html, mimetype="text/html")
