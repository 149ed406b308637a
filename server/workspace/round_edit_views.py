"""Workspace pages to change checkpoints and rounds, and to deactivate or activate them.

Same people as creating them (admins, coordinators; server.workspace.access); another
organisation's checkpoint or round looks missing (404).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Response, abort, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from server.db import phase
from server.domain_errors import DomainError, NotFound
from server.geography.service import list_areas
from server.rounds import edit
from server.rounds import service as rounds
from server.rounds.models import Checkpoint, Round
from server.workspace import bp
from server.workspace.hooks import audit, message
from server.workspace.i18n import t
from server.workspace.round_form import (
    CheckpointForm,
    RoundForm,
    checkpoint_form,
    checkpoint_form_of,
    checkpoint_plan,
    round_form,
    round_form_of,
    round_plan,
)

CP = "/rounds/checkpoints/<int:checkpoint_id>"
RND = "/rounds/rounds/<int:round_id>"


def _own_checkpoint(checkpoint_id: int) -> Checkpoint:
    """Return the organisation's checkpoint, or answer 404."""
    try:
        return rounds.get_checkpoint(current_user.org.id, checkpoint_id)
    except NotFound:
        abort(404)


def _own_round(round_id: int) -> Round:
    """Return the organisation's round, or answer 404."""
    try:
        return rounds.get_round(current_user.org.id, round_id)
    except NotFound:
        abort(404)


def _active_flag() -> bool:
    """Read the wanted state of an (de)activation form, or answer 400."""
    value = request.form.get("active")
    if value not in ("0", "1"):
        abort(400)
    return value == "1"


def _checkpoint_page(checkpoint_id: int, form: CheckpointForm, status: int = 200) -> Response:
    """Render a checkpoint's edit form (a failed form's values and error)."""
    org_id = current_user.org.id
    html = render_template(
        "workspace/round_checkpoint_edit.html",
        cp=_own_checkpoint(checkpoint_id),
        cp_form=form,
        areas=list_areas(org_id),
    )
    return Response(html, status=status, mimetype="text/html")


def _choices(round_id: int) -> list[Checkpoint]:
    """Return the checkpoints a round's form offers: the active ones and those on it."""
    on_round = {st.checkpoint_id for st in rounds.round_stops([round_id])[round_id]}
    return [c for c in rounds.checkpoints(current_user.org.id) if c.active or c.id in on_round]


def _round_page(round_id: int, form: RoundForm, status: int = 200) -> Response:
    """Render a round's edit form (a failed form's values and error)."""
    html = render_template(
        "workspace/round_edit.html",
        rnd=_own_round(round_id),
        r_form=form,
        choices=_choices(round_id),
    )
    return Response(html, status=status, mimetype="text/html")


@bp.get(CP)
@login_required
def checkpoint_edit(checkpoint_id: int) -> Response:
    """Show a checkpoint in the edit form."""
    with phase("read"):
        return _checkpoint_page(checkpoint_id, checkpoint_form_of(_own_checkpoint(checkpoint_id)))


@bp.post(CP)
@login_required
def checkpoint_update(checkpoint_id: int) -> Response:
    """Change a checkpoint; a bad form is shown again with what is wrong."""
    with phase("read"):
        _own_checkpoint(checkpoint_id)
    form = checkpoint_form(request.form)
    return _save(
        "checkpoint",
        checkpoint_id,
        form,
        lambda: edit.update_checkpoint(current_user.org.id, checkpoint_id, checkpoint_plan(form)),
        _checkpoint_page,
    )


@bp.post(f"{CP}/active")
@login_required
def checkpoint_active(checkpoint_id: int) -> Response:
    """Deactivate or activate a checkpoint (active=0 or 1)."""
    with phase("read"):
        _own_checkpoint(checkpoint_id)
    return _switch("checkpoint", checkpoint_id, edit.set_checkpoint_active)


@bp.get(RND)
@login_required
def round_edit(round_id: int) -> Response:
    """Show a round in the edit form."""
    with phase("read"):
        rnd = _own_round(round_id)
        stops = rounds.round_stops([round_id])[round_id]
        return _round_page(round_id, round_form_of(rnd, stops))


@bp.post(RND)
@login_required
def round_update(round_id: int) -> Response:
    """Change a round; a bad form is shown again with what is wrong."""
    with phase("read"):
        _own_round(round_id)
        ids = [c.id for c in _choices(round_id)]
    form = round_form(request.form, ids)
    return _save(
        "round",
        round_id,
        form,
        lambda: edit.update_round(current_user.org.id, round_id, round_plan(form)),
        _round_page,
    )


@bp.post(f"{RND}/active")
@login_required
def round_active(round_id: int) -> Response:
    """Deactivate or activate a round (active=0 or 1)."""
    with phase("read"):
        _own_round(round_id)
    return _switch("round", round_id, edit.set_round_active)


def _save(
    kind: str,
    item_id: int,
    form: Any,
    update: Callable[[], object],
    page: Callable[..., Response],
) -> Response:
    """Apply a checkpoint's or round's edit form; a refused one is shown again, saying why."""
    try:
        # The plan is built inside `update`: a bad form raises DomainError before writing.
        with phase("write"):
            update()
    except DomainError as exc:
        form.error = t("rounds.form.error", reason=exc.message)
        with phase("read"):
            return page(item_id, form, status=400)
    audit(f"{kind}.update", str(item_id))
    message(f"rounds.{kind}.saved")
    return redirect(url_for("workspace.rounds_page"))


def _switch(kind: str, item_id: int, set_active: Callable[[int, int, bool], object]) -> Response:
    """Apply the form's active flag to a checkpoint or round; audit and say so."""
    active = _active_flag()
    with phase("write"):
        set_active(current_user.org.id, item_id, active)
    audit(f"{kind}.activate" if active else f"{kind}.deactivate", str(item_id))
    message(f"rounds.{kind}.activated" if active else f"rounds.{kind}.deactivated")
    return redirect(url_for("workspace.rounds_page"))
