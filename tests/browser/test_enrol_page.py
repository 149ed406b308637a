"""The minimal field-app shell in a real browser: enrolment from the printed link."""

from __future__ import annotations

from playwright.sync_api import expect

from server.commands.devices import enrol_url
from server.devices import service as devices
from server.orgs import service as orgs


def _issue(live_server, name: str = "Väktarbil 1") -> str:
    """Issue an enrolment code and return the link `lagesbild device enrol` prints."""
    with live_server.app.app_context():
        org = orgs.create("Staffanstorps kommun")
        issued = devices.issue_code(org, name, "vaktare", 24)
        return enrol_url(issued.code)


def test_opening_the_printed_link_enrols_the_phone(live_server, page):
    link = _issue(live_server)

    page.goto(link)

    status = page.get_by_role("status")
    expect(status).to_have_text("Registrerad som Väktarbil 1 i Staffanstorps kommun.")
    assert "enrol=" not in page.url  # the one-time code leaves the address bar
    page.reload()
    expect(status).to_have_text("Registrerad som Väktarbil 1 i Staffanstorps kommun.")


def test_a_used_link_says_so_in_swedish(live_server, page, browser):
    link = _issue(live_server)
    page.goto(link)
    expect(page.get_by_role("status")).to_contain_text("Registrerad som")

    other = browser.new_context(locale="sv-SE").new_page()
    other.goto(link)

    expect(other.get_by_role("status")).to_contain_text("Registreringen misslyckades")
    other.context.close()


def test_the_page_is_dark_and_english_when_asked(live_server, browser):
    context = browser.new_context(locale="en-GB")
    page = context.new_page()

    page.goto(live_server.url + "/")

    expect(page.get_by_role("status")).to_contain_text("Open the enrolment link")
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    red, green, blue = (int(x) for x in background[4:-1].split(","))
    assert max(red, green, blue) < 60, background  # no white screen at 02:00
    context.close()
