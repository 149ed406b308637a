"""Notifications on this device: the opt-in page, the push-subscription endpoints and the
workspace's own service worker (scoped to /workspace/, separate from the field app's)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Response, current_app, jsonify, render_template, request, send_file
from flask_login import current_user, login_required

from server.alerts import subscriptions, vapid
from server.db import phase
from server.domain_errors import Invalid
from server.workspace import bp

STATIC = Path(__file__).parent / "static"


@bp.get("/notifications")
@login_required
def notifications() -> Response:
    """Show the opt-in button (permission is asked only after it is pressed)."""
    config = current_app.config
    try:
        key = vapid.public_key(config) if vapid.configured(config) else ""
    except vapid.KeyProblem:
        current_app.logger.error("the VAPID key cannot be used; see `lagesbild check`")
        key = ""
    with phase("read"):
        count = subscriptions.count_of(current_user.person.id)
    html = render_template("workspace/notifications.html", vapid_key=key, count=count)
    return Response(html, mimetype="text/html")


def _json_body() -> dict[str, Any]:
    """Return the request's JSON object; anything else is a 400."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise Invalid("invalid_subscription", "a JSON object is expected")
    return body


@bp.post("/push-subscriptions")
@login_required
def push_subscribe() -> Response:
    """Save this browser's PushSubscription (endpoint, keys.p256dh, keys.auth) for the person."""
    if not vapid.configured(current_app.config):
        return jsonify(error={"code": "not_configured", "message": "Web Push is off"}), 409
    body = _json_body()
    keys = body.get("keys")
    if not isinstance(keys, dict):
        raise Invalid("invalid_subscription", "keys.p256dh and keys.auth are required")
    values = [body.get("endpoint"), keys.get("p256dh"), keys.get("auth")]
    if not all(isinstance(v, str) for v in values):
        raise Invalid("invalid_subscription", "endpoint, keys.p256dh and keys.auth are text")
    testing = current_app.config.get("LAGESBILD_ENV") == "testing"
    with phase("write"):
        row = subscriptions.save(current_user.person, *values, testing=testing)
    return jsonify(id=row.id), 201


@bp.post("/push-subscriptions/remove")
@login_required
def push_unsubscribe() -> Response:
    """Retire this browser's subscription of the person (204 also when there was none)."""
    endpoint = _json_body().get("endpoint")
    if not isinstance(endpoint, str):
        raise Invalid("invalid_subscription", "endpoint is required")
    with phase("write"):
        subscriptions.remove(current_user.person, endpoint)
    return Response(status=204)


@bp.get("/sw.js")
def workspace_sw() -> Response:
    """Serve the workspace's service worker from /workspace/ so its scope is the workspace."""
    resp = send_file(STATIC / "workspace-sw.js", mimetype="text/javascript", max_age=0)
    # Browsers check a service worker for updates on navigation; never from a stale cache.
    resp.headers["Cache-Control"] = "no-cache"
    return resp
