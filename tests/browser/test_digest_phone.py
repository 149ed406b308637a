"""The morning digest e-mail on a phone (390×844): a normal night in a few screens.

The digest HTML (inline styles, as mail clients need) is rendered in Chromium at phone
size: the first screen holds the counts and "Kräver åtgärd", follow-ups are a summary
with a link, and no text is smaller than 14 px.
"""

from __future__ import annotations

from playwright.sync_api import Browser

from server.digest.content import build_digest
from server.digest.render import render
from tests.api.test_digest_content import DAY, MORNING, build_scene
from tests.browser.conftest import LiveServer

PHONE = {"width": 390, "height": 844}
BASE = "https://lagesbild.example.se"

# Every visible element that holds text directly, with its font size and position.
TEXTS = """() => [...document.body.querySelectorAll('*')].filter(e => {
  const r = e.getBoundingClientRect();
  return r.width > 0 && r.height > 0 &&
    [...e.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
}).map(e => ({
  text: e.textContent.trim().slice(0, 60),
  size: parseFloat(getComputedStyle(e).fontSize),
}))"""


def test_a_normal_night_reads_on_a_phone(live_server: LiveServer, browser: Browser) -> None:
    with live_server.app.app_context():
        scene = build_scene(live_server.app.test_client())
        digest = build_digest(scene.org.id, "night", DAY, now=MORNING)
        html = render(digest, base_url=BASE).html
    assert digest.followups.total > 0 and digest.action_total > 0
    context = browser.new_context(viewport=PHONE, locale="sv-SE")
    try:
        page = context.new_page()
        page.set_content(html)
        # The first screen: the counts, and "Kräver åtgärd" with its first item.
        counts = page.get_by_text(f"{digest.incidents} händelser (")
        action = page.get_by_role("heading", name="Kräver åtgärd")
        first_item = page.locator("p", has_text="⚠ Kräver åtgärd").first
        for what in (counts, action, first_item):
            box = what.bounding_box()
            assert box is not None and box["y"] + min(box["height"], 60) <= PHONE["height"], what
        # Follow-ups are a summary with a link, not every item again.
        # (the innermost cell holding the heading: the layout tables nest)
        followups = page.locator("td", has=page.get_by_role("heading", name="Uppföljning")).last
        assert followups.get_by_role("link").count() >= 1
        assert followups.locator("td").count() == 0
        # Nothing smaller than 14 px, side details included.
        small = [t for t in page.evaluate(TEXTS) if t["size"] < 14]
        assert not small, small
        # A normal night fits in a few screens.
        height = page.evaluate("document.documentElement.scrollHeight")
        assert height <= 5 * PHONE["height"], height
    finally:
        context.close()
