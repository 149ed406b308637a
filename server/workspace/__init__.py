"""The coordinator's workspace: HTML pages under /workspace/ (login, night, incidents, exports).

Every module that adds pages registers its routes on `bp` when imported here.
"""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint(
    "workspace",
    __name__,
    url_prefix="/workspace",
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)

# Importing a module registers its routes on bp.
from server.workspace import (  # noqa: E402
    action_edit_views,
    action_export,
    action_views,
    alert_views,
    audit_views,
    decision_views,
    digest_views,
    erasure_views,
    export,
    hooks,
    incident_views,
    lagesbild_views,
    list_views,
    login_views,
    map_views,
    notify_views,
    oncall_views,
    place_views,
    round_edit_views,
    round_views,
    share_views,
    trend_views,
    walk_views,
)

__all__ = [
    "action_edit_views",
    "action_export",
    "action_views",
    "alert_views",
    "audit_views",
    "bp",
    "decision_views",
    "digest_views",
    "erasure_views",
    "export",
    "hooks",
    "incident_views",
    "lagesbild_views",
    "list_views",
    "login_views",
    "map_views",
    "notify_views",
    "oncall_views",
    "place_views",
    "round_edit_views",
    "round_views",
    "share_views",
    "trend_views",
    "walk_views",
]
