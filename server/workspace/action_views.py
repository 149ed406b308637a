"""Workspace pages of the åtgärdsplan: the plan, a new action, one action and its status.

Views parse, call `server.actions` and render. A refused new action shows its form again
with the reason (400, the input kept); a refused change of status is flashed on the
action's page. The exports are in `action_export`.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from flask import Flask, abort, current_app, redirect, render_template, request, url_for
from flask.blueprints import BlueprintSetupState
from flask_login import login_required
from werkzeug.wrappers import Response as BaseResponse

from analysis.calendar import STOCKHOLM
from server.actions import queries
from server.actions import service as actions
from server.actions.models import (
    ACTION_STATUSES,
    MAX_OWNER_NAME,
    MAX_REASON,
    MAX_TEXT,
    OWNER_KINDS,
    PRIORITIES,
)
from server.actions.schemas import ActionError, action_in, status_in
from server.audit.service import Actor
from server.domain_errors import DomainError, StorageFull
from server.errors import ApiError
from server.workspace import bp
from server.workspace import labels as lb
from server.workspace.action_filters import SOURCE_KINDS, PlanFilter, parse_plan_filter, plan_order
from server.workspace.auth import clean_text, client_address, user
from server.workspace.hooks import audit, message, render_error
from server.workspace.i18n import t
from server.workspace.list_views import BadPage, Paging, parse_page
from server.workspace.scoping import current_scope, owner_label, scope_area_names
from server.workspace.service import emails
from sync.clock import utcnow

PAGE_SIZE = 50
# The largest id an integer column holds: a larger one in an address is a plain 404.
MAX_ROW_ID = 2**31 - 1


def today() -> date:
    """Return today's date in Stockholm (due dates are local calendar days)."""
    return utcnow().astimezone(STOCKHOLM).date()


def status_label(status: str) -> str:
    """Return an action status's Swedish (or English) word: föreslagen, beslutad …"""
    return t(f"action.status.{status}")


def _actor() -> Actor:
    """Return who acts: the logged-in person, from their address."""
    me = user()
    if me is None:  # pragma: no cover - the access table requires a login
        raise LookupError("nobody is logged in")
    return Actor(me.person.id, client_address())


def filtered_rows() -> tuple[list[queries.ActionRow], PlanFilter]:
    """Return the visible actions the request's filter keeps, and the filter."""
    f = parse_plan_filter(request.args)
    day = today()
    kept = [r for r in queries.visible_actions(current_scope()) if f.keeps(r, day)]
    return sorted(kept, key=plan_order), f


def row_view(row: queries.ActionRow, areas: dict[int, str], day: date) -> dict[str, Any]:
    """Describe an action for the plan's table; a shared one names its owner."""
    a = row.action
    return {
        "id": a.id,
        "text": a.text if row.free_text else "",
        "owner_kind": t(f"action.owner.{a.owner_kind}"),
        # Free text that may name someone: shown only where the action text is.
        "owner_name": a.owner_name if row.free_text else "",
        "priority": t(f"action.priority.{a.priority}"),
        "due_date": a.due_date,
        "status": a.status,
        "status_label": status_label(a.status),
        "overdue": row.overdue(day),
        "areas": ", ".join(sorted(areas.get(i, "?") for i in row.area_ids)),
        "source": t(f"action.source.{row.source_kind}"),
        "owner": "" if row.own else owner_label(a.org_id),
    }


@bp.get("/atgardsplan")
@login_required
def atgardsplan() -> BaseResponse | str:
    """The åtgärdsplan: every visible action, filtered, overdue ones counted and marked."""
    try:
        number = parse_page(request.args.get("page"))
    except BadPage:
        return render_error(400, "list.bad_page")
    rows, f = filtered_rows()
    day = today()
    scope = current_scope()
    areas = scope_area_names(scope, labelled=False)
    paging = Paging(number, PAGE_SIZE, len(rows))
    shown = rows[paging.offset : paging.offset + PAGE_SIZE] if not paging.beyond else []
    base = url_for("workspace.atgardsplan")
    sep = f"{base}?{f.query}&" if f.query else f"{base}?"
    html = render_template(
        "workspace/atgardsplan.html",
        rows=[row_view(r, areas, day) for r in shown],
        overdue_count=sum(1 for r in rows if r.overdue(day)),
        paging=paging,
        page_links={k: f"{sep}page={n}" for k, n in _page_numbers(number, paging.pages).items()},
        plan_filter=f,
        owners=[(k, t(f"action.owner.{k}")) for k in OWNER_KINDS],
        statuses=[(s, status_label(s)) for s in ACTION_STATUSES],
        sources=[(s, t(f"action.source.{s}")) for s in SOURCE_KINDS],
        areas=sorted(scope_area_names(scope).items(), key=lambda kv: kv[1]),
        form=_form_values({}),
        limits=form_options()["limits"],
        priorities=form_options()["priorities"],
    )
    audit("actions.list", f.query)
    return html


def _page_numbers(number: int, pages: int) -> dict[str, int]:
    """Return the numbers of the first, previous, next and last pages."""
    return {"first": 1, "prev": number - 1, "next": number + 1, "last": pages}


def _form_values(form: Any) -> dict[str, Any]:
    """Return a new action form's values (empty, prefilled, or as sent)."""
    return {
        "text": form.get("text", ""),
        "owner_kind": form.get("owner_kind", "kommun"),
        "owner_name": form.get("owner_name", ""),
        "priority": form.get("priority", "normal"),
        "due_date": form.get("due_date", ""),
        "report_ids": [i for i in form.getlist("report_id")] if hasattr(form, "getlist") else [],
        "incident_ids": [i for i in form.getlist("incident_id")]
        if hasattr(form, "getlist")
        else [],
    }


def _render_form(values: dict[str, Any], error: str | None, status: int = 200) -> tuple[str, int]:
    """Render the new action page, with a refusal's reason when there is one."""
    html = render_template(
        "workspace/action_new.html",
        form=values,
        error=t(f"action.error.{error}") if error else "",
        **form_options(),
    )
    return html, status


@bp.get("/atgardsplan/ny")
@login_required
def action_new() -> tuple[str, int]:
    """The form of a new action, its sources given as ?incident_id= or ?report_id=."""
    values = _form_values(request.args)
    for key in ("report_ids", "incident_ids"):
        values[key] = [str(u) for raw in values[key] if (u := _uuid(raw))]
    return _render_form(values, None)


def _uuid(raw: str) -> uuid.UUID | None:
    """Read a UUID, or None."""
    try:
        return uuid.UUID(raw.strip())
    except ValueError:
        return None


@bp.post("/atgardsplan")
@login_required
def action_create() -> BaseResponse | tuple[str, int]:
    """Create a proposed action; a refusal shows the form again with its reason."""
    form = request.form
    values = _form_values(form)
    try:
        item = action_in(
            text=clean_text(form.get("text", "")),
            owner_kind=form.get("owner_kind", ""),
            owner_name=clean_text(form.get("owner_name", "")),
            priority=form.get("priority", "normal"),
            due_date=form.get("due_date", ""),
            report_ids=form.getlist("report_id"),
            incident_ids=form.getlist("incident_id"),
        )
        action = actions.create(current_scope().viewer, item, _actor())
    except ActionError as exc:
        return _render_form(values, exc.code, 400)
    message("action.done.created", id=action.id)
    return redirect(url_for("workspace.action", action_id=action.id))


@bp.get(f"/atgardsplan/<int(max={MAX_ROW_ID}):action_id>")
@login_required
def action(action_id: int) -> str:
    """One action: its facts, sources, after-photo, timeline and the next steps."""
    html, _ = action_page(action_id)
    return html


def action_page(
    action_id: int, edit: dict[str, Any] | None = None, edit_error: str = "", status: int = 200
) -> tuple[str, int]:
    """Render an action's page; a refused edit comes back with its values and reason."""
    scope = current_scope()
    try:
        row = queries.get_visible(scope, action_id)
    except LookupError:
        abort(404)
    a = row.action
    timeline = queries.events(a.id) if row.free_text else []
    people = emails({e.actor_id for e in timeline}) if row.own else {}
    html = render_template(
        "workspace/action.html",
        row=row_view(row, scope_area_names(scope, labelled=False), today()),
        item=a,
        own=row.own,
        free_text=row.free_text,
        sources=[_source_view(s) for s in sorted(row.sources, key=lambda s: s.at)],
        next_statuses=[(s, status_label(s)) for s in actions.allowed_next(a.status)]
        if row.own
        else [],
        timeline=[
            {
                "at": e.at,
                # A colleague by e-mail; another organisation's person only by its owner.
                "actor": (people.get(e.actor_id, "") if row.own else owner_label(a.org_id))
                if e.actor_id
                else "",
                "text": event_text(e.kind, e.data),
            }
            for e in timeline
        ],
        today=today().isoformat(),
        max_reason=MAX_REASON,
        # The edit form: the stored values, or a refused edit's values as sent.
        edit=edit or edit_values(a),
        edit_error=t(f"action.error.{edit_error}") if edit_error else "",
        **form_options(),
    )
    audit("action.view", str(a.id), owner=a.org_id)
    return html, status


def edit_values(a: Any) -> dict[str, Any]:
    """Return the edit form's values from a stored action (no sources: those stay)."""
    return {
        "text": a.text,
        "owner_kind": a.owner_kind,
        "owner_name": a.owner_name,
        "priority": a.priority,
        "due_date": a.due_date.isoformat() if a.due_date else "",
        "report_ids": [],
        "incident_ids": [],
    }


def _source_view(s: queries.Source) -> dict[str, Any]:
    """Describe a source for the action's page: a link to its incident."""
    incident_id = s.id if s.kind == "incident" else None
    return {
        "kind": t(f"action.source_kind.{s.kind}"),
        "category": lb.category_label(s.category),
        "at": s.at,
        "href": url_for("workspace.incident", incident_id=incident_id or s.id),
    }


def event_text(kind: str, data: dict[str, Any]) -> str:
    """Say what a timeline line changed: "föreslagen → beslutad", or an edit's fields."""
    if kind == "edited":
        return edit_text(data.get("changes") or {})
    new = status_label(str(data.get("new", "")))
    if not data.get("old"):
        return t("action.event.created", status=new)
    text = f"{status_label(str(data['old']))} → {new}"
    if data.get("reason"):
        text += f" ({data['reason']})"
    if data.get("done_date"):
        text += f" · {data['done_date']}"
    return text


def edit_text(changes: dict[str, list[Any]]) -> str:
    """Say what an edit changed: "ändrad: texten, prioritet normal → hög"."""
    parts = []
    for name, (old, new) in changes.items():
        if name == "text":  # the old text stays in the stored timeline, not on the page
            parts.append(t("action.edit.field.text"))
            continue
        if name == "owner_kind":
            old, new = t(f"action.owner.{old}"), t(f"action.owner.{new}")
        elif name == "priority":
            old, new = t(f"action.priority.{old}"), t(f"action.priority.{new}")
        parts.append(f"{t(f'action.edit.field.{name}')} {old or '–'} → {new or '–'}")
    return t("action.event.edited", changes=", ".join(parts))


@bp.post(f"/atgardsplan/<int(max={MAX_ROW_ID}):action_id>/status")
@login_required
def action_status(action_id: int) -> BaseResponse:
    """Move an action on: klar with a date (and maybe a photo), avslagen with a reason."""
    form = request.form
    org_id = current_scope().viewer
    back = redirect(url_for("workspace.action", action_id=action_id))
    try:
        change = status_in(
            form.get("status", "")[:40],
            reason=clean_text(form.get("reason", "")),
            done_date=form.get("done_date", ""),
        )
        # A refused move stores no photo.
        actions.check_move(org_id, action_id, change.status)
        photo = None
        upload = request.files.get("photo")
        if change.status == "klar" and upload is not None and upload.filename:
            limit = int(current_app.config["MAX_PHOTO_BYTES"])
            data = upload.stream.read(limit + 1)
            if len(data) > limit:
                raise ActionError("photo_too_large", "The photo is too large.")
            photo = actions.store_after_photo(org_id, data)
        actions.set_status(org_id, action_id, change, _actor(), after_photo=photo)
    except LookupError:
        abort(404)
    except ActionError as exc:
        message(f"action.error.{exc.code}", "error")
        return back
    except StorageFull:
        # No room for the photo now: nothing changed, the same form may be sent later.
        message("action.error.storage_busy", "error")
        return back
    except ApiError as exc:
        if exc.status != 503:
            raise
        message("action.error.storage_busy", "error")  # the photo bucket is unreachable
        return back
    except DomainError:
        # The photo pipeline refused the file (not an image, damaged, too many pixels).
        message("action.error.bad_photo", "error")
        return back
    message("action.done.status", status=status_label(change.status))
    return back


@bp.record_once
def _setup(state: BlueprintSetupState) -> None:
    """Give the incident page its actions (a template helper keeps its view unchanged)."""
    app: Flask = state.app
    app.jinja_env.globals["incident_actions"] = incident_actions
    app.jinja_env.globals["action_form_options"] = form_options


def form_options() -> dict[str, Any]:
    """Return the new action form's choices and limits."""
    return {
        "limits": {"text": MAX_TEXT, "owner": MAX_OWNER_NAME},
        "owners": [(k, t(f"action.owner.{k}")) for k in OWNER_KINDS],
        "priorities": [(p, t(f"action.priority.{p}")) for p in PRIORITIES],
    }


def incident_actions(incident_id: uuid.UUID) -> list[dict[str, Any]]:
    """Return the own organisation's actions made from an incident, for its page."""
    day = today()
    return [
        {
            "id": a.id,
            "text": a.text,
            "status": a.status,
            "status_label": status_label(a.status),
            "due_date": a.due_date,
            "overdue": queries.is_overdue(a, day),
        }
        for a in queries.actions_for_incident(current_scope().viewer, incident_id)
    ]
