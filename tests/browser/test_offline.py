"""Install and offline: the manifest, the service worker, and the app with no network at all.

The network is really cut by stopping the server (Playwright's `set_offline` does not reach
the service worker's own fetches); the cold start relaunches Chromium on the same profile.
"""

from __future__ import annotations

import io
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import Browser, BrowserContext, Page, expect

import server.pwa
from server.pwa_manifest import Precache
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, wait_until

CONTROLLED = "navigator.serviceWorker.controller !== null"
SHELL_STATUS = "Öppna registreringslänken från din samordnare för att komma igång."
TIMEOUT_MS = 5000


def _expect_shell(page: Page) -> None:
    """The app shell rendered, translated by its (cached) catalog."""
    expect(page.get_by_role("heading", level=1)).to_have_text("Lägesbild", timeout=TIMEOUT_MS)
    expect(page.get_by_role("status")).to_have_text(SHELL_STATUS, timeout=TIMEOUT_MS)


def _assert_unreachable(server) -> None:
    """Nothing listens any more: the browser's only way to the app is its service worker."""
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", int(server.url.rsplit(":", 1)[1])), timeout=2)


def _install(page: Page, url: str) -> None:
    """First visit: wait until the service worker controls the page."""
    page.goto(url + "/")
    _expect_shell(page)
    wait_until(page, CONTROLLED, TIMEOUT_MS)


@pytest.fixture
def profile(browser: Browser, tmp_path: Path) -> Iterator[tuple[Path, list[BrowserContext]]]:
    """A Chromium profile directory, and the persistent contexts opened on it (closed after)."""
    contexts: list[BrowserContext] = []
    yield tmp_path / "profile", contexts
    for context in contexts:
        context.close()


def _launch(browser: Browser, user_data_dir: Path, opened: list[BrowserContext]) -> BrowserContext:
    """Start Chromium on `user_data_dir`, as a phone restarting its browser."""
    context = browser.browser_type.launch_persistent_context(
        user_data_dir, executable_path=CHROMIUM, args=CHROMIUM_ARGS, locale="sv-SE"
    )
    opened.append(context)
    return context


def test_the_manifest_describes_an_installable_swedish_app(live_server, page):
    page.goto(live_server.url + "/")
    href = page.locator("link[rel=manifest]").get_attribute("href")
    theme = page.locator("meta[name=theme-color]").get_attribute("content")

    resp = page.request.get(live_server.url + href)

    assert resp.ok and resp.headers["content-type"].startswith("application/manifest+json")
    manifest = resp.json()
    assert manifest["name"] == manifest["short_name"] == "Lägesbild"
    assert (manifest["start_url"], manifest["scope"]) == ("/", "/")
    assert manifest["display"] == "standalone" and manifest["lang"] == "sv"
    assert manifest["theme_color"] == manifest["background_color"] == theme == "#101418"
    purposes = {}
    for icon in manifest["icons"]:
        image = page.request.get(live_server.url + icon["src"])
        assert image.ok and image.headers["content-type"] == "image/png" == icon["type"]
        with Image.open(io.BytesIO(image.body())) as img:
            assert f"{img.width}x{img.height}" == icon["sizes"], icon
        purposes.setdefault(icon["sizes"], set()).add(icon.get("purpose", "any"))
    assert purposes == {"192x192": {"any"}, "512x512": {"any", "maskable"}}


def test_after_the_first_visit_the_worker_is_active_and_controls_the_page(live_server, page):
    _install(page, live_server.url)

    state = page.evaluate(
        """async () => {
            const reg = await navigator.serviceWorker.ready;
            return {scope: reg.scope, active: reg.active.state,
                    script: navigator.serviceWorker.controller.scriptURL};
        }"""
    )

    assert state == {
        "scope": live_server.url + "/",
        "active": "activated",
        "script": live_server.url + "/sw.js",
    }


def test_with_the_server_stopped_a_reload_still_shows_the_app(stoppable_server, page):
    _install(page, stoppable_server.url)
    stoppable_server.stop()
    _assert_unreachable(stoppable_server)

    page.reload()

    _expect_shell(page)


def test_a_cold_start_with_no_network_opens_the_app(stoppable_server, browser, profile):
    user_data_dir, opened = profile
    first = _launch(browser, user_data_dir, opened)
    _install(first.pages[0] if first.pages else first.new_page(), stoppable_server.url)
    first.close()
    stoppable_server.stop()
    _assert_unreachable(stoppable_server)

    again = _launch(browser, user_data_dir, opened)
    page = again.pages[0] if again.pages else again.new_page()
    page.goto(stoppable_server.url + "/")

    _expect_shell(page)
    assert page.evaluate(CONTROLLED)


def test_api_and_non_get_requests_go_to_the_network(live_server, page):
    _install(page, live_server.url)
    via_worker: dict[str, bool] = {}
    page.on("response", lambda r: via_worker.__setitem__(r.url, r.from_service_worker))

    result = page.evaluate(
        """async () => {
            const spec = await fetch("/api/openapi.json");
            const post = await fetch("/api/v1/enrol", {method: "POST",
                headers: {"Content-Type": "application/json"}, body: '{"code": "nope"}'});
            const shell = await fetch("/app.js");
            return {spec: [spec.status, (await spec.json()).openapi],
                    post: [post.status, (await post.json()).error.code],
                    shell: shell.status};
        }"""
    )

    assert result["spec"][0] == 200 and result["spec"][1].startswith("3.")
    assert 400 <= result["post"][0] < 500 and result["post"][1]
    assert via_worker[live_server.url + "/api/openapi.json"] is False
    assert via_worker[live_server.url + "/api/v1/enrol"] is False
    assert via_worker[live_server.url + "/app.js"] is True  # the shell does come from the cache


def test_a_new_version_waits_for_the_user_then_takes_over(live_server, page, monkeypatch):
    _install(page, live_server.url)
    current = server.pwa.precache(server.pwa.PWA_DIR)
    deployed = Precache(version="f" * 64, files=current.files)
    monkeypatch.setattr(server.pwa, "precache", lambda _root: deployed)

    page.evaluate("navigator.serviceWorker.getRegistration().then((reg) => reg.update())")

    banner = page.locator("#update-banner")
    expect(banner).to_contain_text("Ny version finns", timeout=TIMEOUT_MS)
    caches = "caches.keys().then((names) => names.sort())"
    waiting = "navigator.serviceWorker.getRegistration().then((reg) => reg.waiting !== null)"
    assert page.evaluate(waiting)  # installed, but not applied behind the user's back
    assert page.evaluate(caches) == sorted(
        f"lagesbild-shell-{v}" for v in (current.version, deployed.version)
    )
    with page.expect_event("load", timeout=TIMEOUT_MS):
        banner.get_by_role("button", name="Uppdatera").click()
    _expect_shell(page)
    expect(banner).to_have_count(0)
    assert not page.evaluate(waiting)
    assert page.evaluate(caches) == [f"lagesbild-shell-{deployed.version}"]
