"""The report form under a gloved thumb: double taps, the "Sparad" confirmation, Avbryt.

A real Chromium at phone size against the real app; two taps are two real mouse clicks at
one point (a finger does not aim again), every wait is Playwright's own, never a sleep.
"""

from __future__ import annotations

import re

import pytest
from PIL import Image
from playwright.sync_api import Page, expect

from tests.browser.axe import describe, run_axe, serious
from tests.browser.conftest import wait_until
from tests.browser.test_report_form import ON_SERVER, TIMEOUT_MS, _enrol, _local_ids, _states

PHONE = {"width": 390, "height": 844}
SAVED = re.compile(r"^Sparad: ")


def _centre(page: Page, selector: str) -> tuple[float, float]:
    box = page.locator(selector).bounding_box()
    assert box
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2


def _stored_count(page: Page, n: int) -> None:
    wait_until(
        page, f"(await (await import('/store.js')).listReports()).length === {n}", TIMEOUT_MS
    )


def _toast(page: Page):
    return page.locator("#toast")


def test_a_double_tap_on_spara_saves_once_and_opens_no_tile_under_the_finger(live_server, page):
    page.set_viewport_size(PHONE)
    _enrol(live_server, page)
    page.get_by_role("button", name="Skadegörelse", exact=True).click()
    x, y = _centre(page, "#save")

    page.mouse.click(x, y)
    _stored_count(page, 1)
    expect(page.locator("#pick")).to_be_visible()
    page.mouse.click(x, y)  # the second tap of the double tap lands on the next screen

    expect(page.locator("#report-form")).to_be_hidden()
    expect(page.locator("#pick")).to_be_visible()
    assert len(_local_ids(page)) == 1
    expect(_states(page)).to_have_text([ON_SERVER], timeout=TIMEOUT_MS)


def test_a_right_thumb_double_tap_on_spara_does_not_undo_it(stoppable_server, page):
    page.set_viewport_size(PHONE)
    _enrol(stoppable_server, page)
    stoppable_server.stop()  # the report stays on the phone, where Ångra could take it back
    page.get_by_role("button", name="Skadegörelse", exact=True).click()
    box = page.locator("#save").bounding_box()
    assert box
    x, y = box["x"] + box["width"] * 0.85, box["y"] + box["height"] / 2  # a right thumb

    page.mouse.click(x, y)
    expect(_toast(page).get_by_role("status")).to_have_text(SAVED)
    page.mouse.click(x, y)  # where Ångra of the toast now is

    undo = _toast(page).get_by_role("button", name="Ångra")
    expect(undo).to_be_enabled()  # a tap on it would have disabled it at once
    expect(_toast(page).get_by_role("status")).to_have_text(SAVED)
    assert len(_local_ids(page)) == 1
    undo.press("Enter")  # Ångra itself still works when meant
    expect(_toast(page).get_by_role("status")).to_have_text("Rapporten togs bort.")
    _stored_count(page, 0)


def test_two_quick_taps_on_lugnt_pass_save_one_calm_round(live_server, page):
    page.set_viewport_size(PHONE)
    _enrol(live_server, page)
    page.locator("#lugnt").scroll_into_view_if_needed()
    x, y = _centre(page, "#lugnt")

    page.mouse.click(x, y)
    _stored_count(page, 1)
    page.mouse.click(x, y)

    expect(_states(page)).to_have_text([ON_SERVER], timeout=TIMEOUT_MS)
    assert len(_local_ids(page)) == 1


def test_a_double_tap_on_a_tile_does_not_press_what_the_form_puts_under_the_finger(
    live_server, page
):
    page.set_viewport_size(PHONE)
    _enrol(live_server, page)
    # Find a tile whose centre the open form fills with something that reacts to a tap (a
    # severity button, "Ta foto", Avbryt: whatever the layout puts there).
    # (Enter, not taps: this survey must not arm the guard against the taps below.)
    page.get_by_role("button", name="Trafik och fordon").press("Enter")
    under = page.evaluate(
        """() => [...document.querySelectorAll('#report-form button, #report-form label')]
            .map((el) => el.getBoundingClientRect())
            .filter((r) => r.width > 0 && r.height > 0)
            .map((r) => [r.left, r.top, r.right, r.bottom])"""
    )
    page.get_by_role("button", name="Avbryt").press("Enter")
    tiles = page.locator("#tiles button")
    target = None
    for i in range(tiles.count()):
        box = tiles.nth(i).bounding_box()
        assert box
        x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        # The second tap lands where the first did: the tile's centre.
        if any(left <= x <= right and top <= y <= bottom for left, top, right, bottom in under):
            target = (x, y)
            break
    assert target, "no control of the form lies under a tile"

    choosers: list[object] = []
    # "Ta foto" under the finger would open the camera.
    page.on("filechooser", lambda chooser: choosers.append(chooser))
    page.mouse.click(*target)
    expect(page.locator("#report-form")).to_be_visible()
    pressed_before = page.evaluate(
        "() => [...document.querySelectorAll('[aria-pressed=true]')].length"
    )
    page.mouse.click(*target)

    assert (
        page.evaluate("() => [...document.querySelectorAll('[aria-pressed=true]')].length")
        == pressed_before
    )
    expect(page.locator("#report-form")).to_be_visible()  # not closed by an Avbryt under the finger
    assert choosers == []


def test_sparad_shows_in_view_with_an_undo_that_takes_an_unsent_report_back(stoppable_server, page):
    page.set_viewport_size(PHONE)
    _enrol(stoppable_server, page)
    stoppable_server.stop()  # no coverage: the report waits on the phone, so undo can take it back
    page.get_by_role("button", name="Otrygg plats").click()
    page.get_by_label("Antal personer").fill("3")  # the form is scrolled down to its end
    page.get_by_role("button", name="Spara").click()

    toast = _toast(page)
    expect(toast.get_by_role("status")).to_have_text(SAVED)
    expect(toast).to_be_in_viewport()
    _stored_count(page, 1)
    toast.get_by_role("button", name="Ångra").click()

    _stored_count(page, 0)
    expect(toast.get_by_role("status")).to_have_text("Rapporten togs bort.")
    expect(page.locator("#reports-empty")).to_be_visible()


def test_undo_after_the_server_has_the_report_says_it_cannot_be_undone_here(live_server, page):
    page.set_viewport_size(PHONE)
    _enrol(live_server, page)
    page.get_by_role("button", name="Lugnt pass").click()
    expect(_toast(page).get_by_role("status")).to_have_text("Sparad: Lugnt / positiv iakttagelse.")
    expect(_states(page)).to_have_text([ON_SERVER], timeout=TIMEOUT_MS)

    _toast(page).get_by_role("button", name="Ångra").click()

    expect(_toast(page).get_by_role("status")).to_contain_text("kan inte ångras här")
    assert len(_local_ids(page)) == 1


def test_an_old_sparad_does_not_stay_above_a_new_form(live_server, page):
    page.set_viewport_size(PHONE)
    _enrol(live_server, page)
    page.get_by_role("button", name="Skadegörelse", exact=True).click()
    page.get_by_role("button", name="Spara").click()
    expect(page.get_by_text(SAVED)).to_be_visible()

    page.get_by_role("button", name="Brand").click()

    expect(page.locator("#report-form")).to_be_visible()
    expect(page.get_by_text(SAVED)).to_have_count(0)


def test_avbryt_is_secondary_and_away_from_spara(live_server, page):
    page.set_viewport_size(PHONE)
    _enrol(live_server, page)
    page.get_by_role("button", name="Skadegörelse", exact=True).click()
    page.get_by_label("Beskrivning").fill("Klotter")
    save = page.locator("#save").bounding_box()
    cancel = page.locator("#cancel").bounding_box()
    assert save and cancel

    gap = max(
        cancel["y"] - (save["y"] + save["height"]), save["y"] - (cancel["y"] + cancel["height"])
    )
    assert gap >= 150  # never in the same row: a slip off Spara does not land on Avbryt
    assert save["width"] >= 2 * cancel["width"]
    colours = page.evaluate(
        """() => ['save', 'cancel'].map(
            (id) => getComputedStyle(document.getElementById(id)).backgroundColor)"""
    )
    assert colours[0] != colours[1]


def test_avbryt_with_content_discards_with_an_undo_that_brings_it_back(live_server, page):
    page.set_viewport_size(PHONE)
    _enrol(live_server, page)
    page.get_by_role("button", name="Otrygg plats").click()
    page.get_by_role("button", name="2 Medel").click()
    page.get_by_label("Beskrivning").fill("Släckt belysning vid stationen")

    page.get_by_role("button", name="Avbryt").click()

    expect(page.locator("#report-form")).to_be_hidden()
    toast = _toast(page)
    expect(toast.get_by_role("status")).to_have_text("Rapporten kastades.")
    expect(toast).to_be_in_viewport()
    toast.get_by_role("button", name="Ångra").click()

    expect(page.locator("#report-form")).to_be_visible()
    expect(page.locator("#form-category")).to_have_text("Otrygg plats")
    expect(page.get_by_label("Beskrivning")).to_have_value("Släckt belysning vid stationen")
    expect(page.get_by_role("button", name="2 Medel")).to_have_attribute("aria-pressed", "true")
    page.get_by_role("button", name="Spara").click()
    expect(_states(page)).to_have_text([ON_SERVER], timeout=TIMEOUT_MS)


def test_avbryt_on_an_empty_form_just_closes_it(live_server, page):
    _enrol(live_server, page)
    page.get_by_role("button", name="Brand").click()

    page.get_by_role("button", name="Avbryt").click()

    expect(page.get_by_role("button", name="Brand")).to_be_focused()
    expect(_toast(page)).to_be_hidden()


@pytest.mark.parametrize("theme", ["dark", "light"])
def test_the_toast_the_restored_draft_and_the_photo_progress_pass_axe(
    live_server, browser, tmp_path, theme
):
    context = browser.new_context(locale="sv-SE", color_scheme=theme)
    page = context.new_page()
    page.set_viewport_size(PHONE)
    if theme == "light":
        page.add_init_script("localStorage.setItem('lagesbild.theme', 'light')")
    _enrol(live_server, page)
    page.get_by_role("button", name="Lugnt pass").click()
    expect(_toast(page).get_by_role("button", name="Ångra")).to_be_visible()
    _assert_accessible(page, "toast")

    page.get_by_role("button", name="Otrygg plats").click()
    page.get_by_label("Beskrivning").fill("Släckt belysning")
    page.reload()
    expect(page.locator("#draft-note")).to_be_visible(timeout=TIMEOUT_MS)
    Image.new("RGB", (300, 200), (200, 40, 40)).save(tmp_path / "a.png", "PNG")
    page.get_by_label("Ta foto").set_input_files(tmp_path / "a.png")
    expect(page.locator("#photo-list").get_by_role("progressbar")).to_be_visible()
    page.get_by_role("dialog").get_by_role("button", name="Klar").click()
    expect(page.locator("#photo-list").get_by_role("progressbar")).to_have_count(0)
    # Spara away from Avbryt, the note and the extras: no serious violation either.
    _assert_accessible(page, "restored form")
    context.close()


def _assert_accessible(page: Page, screen: str) -> None:
    found = serious(run_axe(page))
    assert not found, f"{screen}: " + describe(found)
