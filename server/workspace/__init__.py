"""The coordinator's workspace: HTML pages under /workspace/ (login, night, incidents, exports).

Every module that adds pages registers its routes on `bp` when imported here; the map,
trends and places pages live in `insights.py` when that module is present.
"""

from __future__ import annotations

from importlib import import_module
from importlib.util import find_spec

from flask import Blueprint

bp = Blueprint(
    "workspace",
    __name__,
    url_prefix="/workspace",
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)

from server.workspace import export, hooks, views  # noqa: E402  (register routes on bp)

__all__ = ["bp", "export", "hooks", "views"]

if find_spec("server.workspace.insights") is not None:
    import_module("server.workspace.insights")
if find_spec("server.digest") is not None:
    import_module("server.workspace.digest_views")  # the digest pages (server.digest)
