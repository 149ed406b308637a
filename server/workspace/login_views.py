"""Workspace pages: logging in and out (the brake and the session rules are in `auth`)."""

from __future__ import annotations

from flask import Response, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from server.workspace import bp, service
from server.workspace.auth import (
    authenticate,
    client_address,
    end_all_sessions,
    end_session,
    login_failed,
    login_locked,
    normalise_email,
    safe_next,
    start_session,
    user,
)
from server.workspace.hooks import message
from server.workspace.i18n import t


@bp.route("/login", methods=["GET", "POST"])
def login() -> BaseResponse | str:
    """Show the login form; check e-mail and password."""
    nxt = safe_next(request.values.get("next"))
    if request.method == "GET":
        if user() is not None:
            return redirect(nxt)
        return render_template("workspace/login.html", next=nxt, email="")
    email = normalise_email(request.form.get("email", ""))
    password = request.form.get("password", "")
    error = None
    person = None
    # Attempts during a lock are not checked (so they cannot guess) and not counted.
    if login_locked(email):
        error = "login.locked"
    else:
        person = authenticate(email, password) if email and password else None
        if person is None:
            error = "login.locked" if login_failed(email) else "login.failed"
            service.record_failed_login(email, client_address())
    if error is not None or person is None:
        html = render_template(
            "workspace/login.html", next=nxt, email=email, error=t(error or "login.failed")
        )
        return Response(html, status=200 if error == "login.failed" else 429)
    start_session(person)
    service.record_audit(person.org_id, person.id, "login", "", client_address())
    # Without a `next`, the role's own start page (an analyst has no night view).
    return redirect(safe_next(request.values.get("next")))


@bp.post("/logout")
def logout() -> BaseResponse:
    """End the session."""
    me = user()
    if me is not None:
        service.record_audit(me.org.id, me.person.id, "logout", "", client_address())
    end_session()
    message("login.logged_out")
    return redirect(url_for("workspace.login"))


@bp.post("/logout-everywhere")
def logout_everywhere() -> BaseResponse:
    """End every session of the logged-in person, on every device."""
    me = user()
    if me is not None:
        # The same entry as `lagesbild user logout-everywhere`, from this person and address.
        service.record_audit(
            me.org.id, me.person.id, "person.logout_everywhere", me.person.email, client_address()
        )
        end_all_sessions(me.person)
    message("login.logged_out_everywhere")
    return redirect(url_for("workspace.login"))
