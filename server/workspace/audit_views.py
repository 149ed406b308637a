"""The audit log page for admins: read, filter, page and export who did what, from where."""

from __future__ import annotations

from urllib.parse import urlencode

from flask import Response, render_template, request, url_for
from flask_login import current_user, login_required

from analysis.calendar import STOCKHOLM
from server.workspace import audit_log, bp
from server.workspace.export import csv_body
from server.workspace.hooks import audit
from server.workspace.i18n import t
from sync.clock import utcnow


# Until the roles' access table lands, the audit log is the admins' alone (checked here).
def _query_string(f: audit_log.AuditFilter) -> str:
    """Return the filter as a query string (for paging and export links)."""
    return urlencode({k: v for k, v in f.values.items() if v})


@bp.get("/audit", endpoint="audit")
@login_required
def audit_page() -> str:
    """The organisation's audit log, newest first, 100 entries a page."""
    f = audit_log.parse_filter(request.args)
    page = audit_log.parse_page(request.args.get("page", "1"))
    result = audit_log.audit_page(current_user.org.id, f, page)
    query = _query_string(f)
    html = render_template(
        "workspace/audit.html",
        result=result,
        values=f.values,
        query=query,
        csv_url=url_for("workspace.audit_csv") + (f"?{query}" if query else ""),
    )
    audit("audit.view", f"{query} page {result.page}".strip())
    return html


@bp.get("/audit.csv", endpoint="audit_csv")
@login_required
def audit_csv() -> Response:
    """The filtered audit log as CSV (the exports' Swedish Excel dialect)."""
    f = audit_log.parse_filter(request.args)
    rows = audit_log.audit_export(current_user.org.id, f)
    header = [
        t("audit.col.at"),
        t("audit.col.person"),
        t("audit.col.action"),
        t("audit.col.target"),
        t("audit.col.address"),
    ]
    body = csv_body(
        header,
        ([r.at, r.email or t("audit.cli"), r.action, r.target, r.client_address] for r in rows),
    )
    audit("export.audit_csv", _query_string(f))
    stamp = utcnow().astimezone(STOCKHOLM).strftime("%Y%m%d-%H%M")
    resp = Response(body, mimetype="text/csv")
    resp.headers["Content-Disposition"] = f'attachment; filename="audit-{stamp}.csv"'
    return resp
