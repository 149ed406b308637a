"""The workspace's sharing page: an admin makes and revokes its organisation's agreements;
every other role gets the 403 page; another organisation's agreement cannot be revoked."""

from __future__ import annotations

import pytest
from flask import Flask

from server.extensions import db
from server.sharing import service
from server.sharing.models import SharingAgreement
from tests.support import factories
from tests.support.workspace import (  # noqa: F401  (cheap_hashing is a fixture)
    cheap_hashing,
    login,
    post,
)

pytestmark = pytest.mark.usefixtures("cheap_hashing")


@pytest.fixture
def orgs(app: Flask):
    town = factories.make_org("Mjölby kommun")
    housing = factories.make_org("Mjölbostäder", kind="bostadsbolag")
    return town, housing


def as_role(app: Flask, org, role: str):
    client = app.test_client()
    assert login(client, factories.make_person(org, role=role)).status_code == 302
    return client


def test_an_admin_makes_lists_and_revokes_an_agreement(app: Flask, orgs) -> None:
    town, housing = orgs
    client = as_role(app, housing, "admin")
    page = client.get("/workspace/sharing")
    assert page.status_code == 200 and "Mjölby kommun" in page.get_data(as_text=True)
    resp = post(
        client,
        "/workspace/sharing",
        {"to_org": str(town.id), "detail": "reports", "categories": "brand", "until": "2099-01-31"},
    )
    assert resp.status_code == 302
    (row,) = db.session.query(SharingAgreement).all()
    assert (row.from_org_id, row.to_org_id, row.detail) == (housing.id, town.id, "reports")
    assert row.categories == ["brand"] and row.areas is None and row.ends_at is not None
    listed = client.get("/workspace/sharing").get_data(as_text=True)
    assert "Vi delar med Mjölby kommun" in listed and "gäller" in listed
    assert post(client, f"/workspace/sharing/{row.id}/revoke").status_code == 302
    db.session.expire_all()
    assert db.session.get(SharingAgreement, row.id).revoked_at is not None
    assert service.granted_to(town.id) == []


def test_the_receiving_side_sees_the_agreement_but_cannot_revoke_it(app: Flask, orgs) -> None:
    town, housing = orgs
    row = service.share(housing, town, "counts")
    client = as_role(app, town, "admin")
    page = client.get("/workspace/sharing").get_data(as_text=True)
    assert "Mjölbostäder delar med oss" in page
    assert f"/workspace/sharing/{row.id}/revoke" not in page
    assert post(client, f"/workspace/sharing/{row.id}/revoke").status_code == 404
    db.session.expire_all()
    assert db.session.get(SharingAgreement, row.id).revoked_at is None


@pytest.mark.parametrize(
    ("form", "words"),
    [
        ({"detail": "full"}, "Välj en organisation"),
        ({"detail": "full", "to_org": "999999"}, "Välj en organisation"),
        ({"detail": "everything", "to_org": "TOWN"}, "sparades inte"),
        ({"detail": "full", "to_org": "TOWN", "until": "31/12"}, "ÅÅÅÅ-MM-DD"),
        ({"detail": "full", "to_org": "TOWN", "until": "2001-01-01"}, "sparades inte"),
        ({"detail": "full", "to_org": "TOWN", "categories": "ufo"}, "sparades inte"),
        ({"detail": "full", "to_org": "SELF"}, "sparades inte"),
    ],
)
def test_a_bad_form_is_shown_again_with_its_error_and_stores_nothing(
    app: Flask, orgs, form: dict[str, str], words: str
) -> None:
    town, housing = orgs
    ids = {"TOWN": str(town.id), "SELF": str(housing.id)}
    client = as_role(app, housing, "admin")
    data = {k: ids.get(v, v) for k, v in form.items()}
    resp = post(client, "/workspace/sharing", data)
    assert resp.status_code == 400
    assert words in resp.get_data(as_text=True)
    assert db.session.query(SharingAgreement).count() == 0


@pytest.mark.parametrize("role", ["coordinator", "analyst", "viewer"])
def test_other_roles_get_the_403_page(app: Flask, orgs, role: str) -> None:
    town, housing = orgs
    row = service.share(housing, town, "counts")
    client = as_role(app, housing, role)
    assert client.get("/workspace/sharing").status_code == 403
    assert (
        post(client, "/workspace/sharing", {"to_org": str(town.id), "detail": "full"}).status_code
        == 403
    )
    assert post(client, f"/workspace/sharing/{row.id}/revoke").status_code == 403
    assert db.session.query(SharingAgreement).count() == 1


def test_logged_out_is_sent_to_the_login(app: Flask) -> None:
    resp = app.test_client().get("/workspace/sharing")
    assert resp.status_code == 302 and "/workspace/login" in resp.headers["Location"]


def test_a_share_made_in_the_workspace_is_audited_with_the_admin_and_address(
    app: Flask, orgs
) -> None:
    from server.audit.models import AuditEntry

    town, housing = orgs
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = "198.51.100.4"
    admin = factories.make_person(housing, role="admin")
    assert login(client, admin).status_code == 302
    assert (
        post(client, "/workspace/sharing", {"to_org": str(town.id), "detail": "full"}).status_code
        == 302
    )
    (entry,) = db.session.query(AuditEntry).filter_by(org_id=housing.id, action="sharing.create")
    assert (entry.person_id, entry.client_address) == (admin.person.id, "198.51.100.4")
    (theirs,) = db.session.query(AuditEntry).filter_by(org_id=town.id, action="sharing.create")
    assert theirs.person_id is None
