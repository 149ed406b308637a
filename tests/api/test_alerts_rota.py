"""The on-call rota page: editors save ordered levels and the phone number; others may not."""

from __future__ import annotations

import pytest
from flask import Flask

from server.alerts import rota
from server.alerts.models import OnCallLevel
from server.extensions import db
from tests.support import factories
from tests.support.workspace import (  # noqa: F401  (cheap_hashing is a fixture)
    cheap_hashing,
    login,
    post,
)

pytestmark = pytest.mark.usefixtures("cheap_hashing")


def as_role(app: Flask, org, role: str):
    client = app.test_client()
    who = factories.make_person(org, role=role)
    assert login(client, who).status_code == 302
    return client, who


@pytest.mark.parametrize(
    ("role", "get", "save"),
    [("admin", 200, 302), ("coordinator", 200, 302), ("analyst", 403, 403), ("viewer", 403, 403)],
)
def test_only_editors_open_and_save_the_rota(app: Flask, org, role: str, get: int, save: int):
    client, who = as_role(app, org, role)
    assert client.get("/workspace/oncall").status_code == get
    form = {"phone": "+46701234567", "minutes_1": "5", "persons_1": str(who.person.id)}
    assert post(client, "/workspace/oncall", form).status_code == save
    db.session.expire_all()
    assert rota.in_use(org.id) is (save == 302)


def test_levels_are_saved_in_order_and_an_empty_level_is_dropped(app: Flask, org):
    client, me = as_role(app, org, "coordinator")
    other = factories.make_person(org, role="viewer")
    page = client.get("/workspace/oncall").get_data(as_text=True)
    assert "Nivå 1" in page and other.email in page
    form = {
        "phone": "070-123 45 67".replace("070", "+4670"),
        "minutes_1": "3",
        "persons_1": [str(me.person.id), str(other.person.id)],
        "minutes_2": "10",  # no persons: dropped
        "minutes_3": "7",
        "persons_3": str(other.person.id),
    }
    resp = post(client, "/workspace/oncall", form)
    assert resp.status_code == 302
    db.session.expire_all()
    saved = rota.load(org.id)
    assert saved.phone == "+46701234567"
    assert [(lv.position, lv.minutes, lv.person_ids) for lv in saved.levels] == [
        (1, 3, sorted([me.person.id, other.person.id])),
        (2, 7, [other.person.id]),
    ]
    shown = client.get("/workspace/oncall").get_data(as_text=True)
    assert "Jouren är sparad." in shown and 'value="+46701234567"' in shown


@pytest.mark.parametrize(
    ("form", "words"),
    [
        ({"phone": "0701234567"}, "internationellt"),
        ({"phone": "+46 70 abc"}, "internationellt"),
        # Arabic-Indic digits are digits to \d, but no phone dials them.
        (
            {"phone": "+4\u0666\u0667\u0660\u0661\u0662\u0663\u0664\u0665\u0666\u0667"},
            "internationellt",
        ),
        ({"minutes_1": "0"}, "från 1 till 240"),
        ({"minutes_1": "241"}, "från 1 till 240"),
        ({"minutes_1": "fem"}, "från 1 till 240"),
        ({"minutes_1": "²"}, "från 1 till 240"),
        ({"persons_1": "²"}, "aktiva personer"),
        ({"persons_1": "9" * 30}, "aktiva personer"),
        ({"persons_1": "999999"}, "aktiva personer"),
        ({"persons_1": "nej"}, "aktiva personer"),
        ({"persons_1": "OTHER_ORG"}, "aktiva personer"),
    ],
)
def test_a_bad_form_is_refused_with_the_reason(app: Flask, org, form: dict, words: str):
    client, me = as_role(app, org, "admin")
    stranger = factories.make_person(factories.make_org(), role="coordinator")
    data = {"phone": "+46701234567", "minutes_1": "5", "persons_1": str(me.person.id), **form}
    if data["persons_1"] == "OTHER_ORG":
        data["persons_1"] = str(stranger.person.id)
    resp = post(client, "/workspace/oncall", data)
    assert resp.status_code == 400
    assert words in resp.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.query(OnCallLevel).count() == 0


def test_the_rota_form_needs_the_csrf_token(app: Flask, org):
    client, me = as_role(app, org, "admin")
    resp = client.post("/workspace/oncall", data={"minutes_1": "5", "persons_1": me.person.id})
    assert resp.status_code == 400
    assert not rota.in_use(org.id)


def test_the_rota_speaks_english(app: Flask, org):
    client, _me = as_role(app, org, "admin")
    page = client.get("/workspace/oncall?lang=en").get_data(as_text=True)
    assert "Level 1" in page and "On-call phone number" in page


def test_phone_numbers_are_normalised_to_e164():
    assert rota.normalise_phone("0046 70-123 45 67") == "+46701234567"
    assert rota.normalise_phone(" ") is None
    for bad in ("+0701234567", "+46", "112", "+46 70 123 45 67 89 01 23", "+4\u0666\u0667012345"):
        with pytest.raises(ValueError):
            rota.normalise_phone(bad)
