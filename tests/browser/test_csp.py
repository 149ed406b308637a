"""The field app under its Content-Security-Policy: installs, enrols, works offline, no violation.

Every `securitypolicyviolation` event of the page and every console message about the
Content Security Policy is collected (through a binding, so reloads keep reporting); the
test ends by provoking one on purpose, to show the listener would have seen one.
"""

from __future__ import annotations

import re
from pathlib import Path

from PIL import Image
from playwright.sync_api import BrowserContext, ConsoleMessage, Page, expect

from server.pwa import CSP
from tests.browser.conftest import StoppableServer, wait_until
from tests.browser.test_field_scenario import (
    ON_PHONE,
    TIMEOUT_MS,
    Phone,
    _assert_unreachable,
    _enrol,
    _printed_enrol_link,
    phone,  # noqa: F401  (a fixture)
)

LISTEN = """
document.addEventListener("securitypolicyviolation", (e) => {
  window.violations = (window.violations || 0) + 1;
  window.reportViolation(`${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`);
});
"""


def _watch(context: BrowserContext, page: Page) -> list[str]:
    """Collect every CSP violation the page reports or the console mentions."""
    seen: list[str] = []
    context.expose_binding("reportViolation", lambda _source, text: seen.append(text))
    context.add_init_script(LISTEN)

    def console(msg: ConsoleMessage) -> None:
        if "Content Security Policy" in msg.text:
            seen.append(msg.text)

    page.on("console", console)
    return seen


def _photo(path: Path) -> Path:
    Image.new("RGB", (640, 480), (90, 120, 60)).save(path, "JPEG", quality=85)
    return path


def test_the_app_installs_and_works_offline_without_a_csp_violation(
    stoppable_server: StoppableServer,
    phone: Phone,  # noqa: F811  (the fixture imported above)
    tmp_path: Path,
) -> None:
    link = _printed_enrol_link(stoppable_server)
    context, page = phone.launch()
    seen = _watch(context, page)

    with page.expect_response(lambda r: r.url == stoppable_server.url + "/") as first:
        _enrol(page, link)
    assert first.value.headers["content-security-policy"] == CSP

    # The network goes away for real; the reload comes from the service worker's cache.
    stoppable_server.stop()
    _assert_unreachable(stoppable_server)
    context.set_offline(True)
    page.reload()
    expect(page.locator("#tiles button").first).to_be_enabled(timeout=TIMEOUT_MS)

    # A report with a photo (shown from a blob: URL) is saved on the phone.
    page.get_by_role("button", name="Skadegörelse", exact=True).click()
    page.get_by_label("Ta foto").set_input_files(_photo(tmp_path / "shot.jpg"))
    # The redaction editor: the photo is kept as it is.
    page.get_by_role("dialog").get_by_role("button", name="Klar").click()
    thumb = page.locator("#photo-list img")
    expect(thumb).to_have_count(1, timeout=TIMEOUT_MS)
    expect(thumb).to_have_attribute("src", re.compile(r"^blob:"))
    page.get_by_label("Beskrivning").fill("Krossad ruta, offline")
    page.get_by_role("button", name="Spara").click()
    expect(page.locator("#toast").get_by_role("status")).to_have_text("Sparad: Skadegörelse.")
    expect(page.locator("#reports .report-state").first).to_have_text(ON_PHONE)
    assert seen == []

    # The listener is live: an inline script is refused, and that is reported.
    page.evaluate(
        """() => {
            const s = document.createElement("script");
            s.textContent = "window.inlineRan = true";
            document.body.append(s);
        }"""
    )
    wait_until(page, "window.violations > 0", TIMEOUT_MS)
    assert page.evaluate("window.inlineRan === undefined")
    assert any("script-src" in s for s in seen), seen
