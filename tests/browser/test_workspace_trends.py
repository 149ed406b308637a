"""The trends page on a desktop and on a phone: no table column is cut off."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest
from playwright.sync_api import Page

from analysis.calendar import STOCKHOLM
from server.extensions import db
from server.incidents import areas
from tests.browser.conftest import LiveServer
from tests.browser.workspace_support import log_in
from tests.support import factories
from tests.support.workspace import push

LONG_AREA = {
    "type": "FeatureCollection",
    "features": [
        {
            "type": "Feature",
            "properties": {"name": "Centrum och stationsområdet med omnejd"},
            "geometry": {
                "type": "Polygon",
                "coordinates": [
                    [[13.19, 55.63], [13.23, 55.63], [13.23, 55.65], [13.19, 55.65], [13.19, 55.63]]
                ],
            },
        }
    ],
}
CATEGORIES = ("skadegorelse", "samling", "otrygg_plats", "narkotika")

# Every table on the page, with where it overflows: its own wrapper (which must then
# scroll), the page, or a cell (which must never cut its text).
MEASURE = """() => {
  const page = document.documentElement;
  return {
    page: page.scrollWidth - page.clientWidth,
    tables: [...document.querySelectorAll('main table')].map(t => {
      const wrap = t.closest('.table-wrap');
      const box = wrap.getBoundingClientRect();
      return {
        id: t.querySelector('caption')?.textContent.trim(),
        over: wrap.scrollWidth - wrap.clientWidth,
        scrolls: ['auto', 'scroll'].includes(getComputedStyle(wrap).overflowX),
        outside: box.right - page.clientWidth,
        cells: [...t.querySelectorAll('th, td')].filter(c => c.scrollWidth > c.clientWidth + 1)
          .map(c => c.textContent.trim()),
      };
    }),
  };
}"""


def seed(live_server: LiveServer) -> factories.Login:
    """Six weeks of reports in four categories and one long-named area."""
    with live_server.app.app_context():
        org = factories.make_org("Staffanstorps kommun")
        who = factories.make_person(org)
        device = factories.make_device(org, kind="vaktare")
        areas.import_areas(org.id, LONG_AREA, name_property="name")
        today = datetime.now(UTC).astimezone(STOCKHOLM).date()
        reports = [
            factories.report(
                created_at=datetime.combine(
                    today - timedelta(days=back), time(20 + n), tzinfo=STOCKHOLM
                ).isoformat(),
                category=code,
                location={"lat": 55.64, "lon": 13.20 + 0.002 * n, "accuracy_m": 5.0},
            )
            for back in range(1, 43, 3)
            for n, code in enumerate(CATEGORIES[: 1 + back % 4])
        ]
        push(live_server.app.test_client(), device, *reports)
        db.session.remove()
    return who


@pytest.mark.parametrize("step", ["day", "week"])
def test_no_trend_table_is_cut_off_on_a_desktop_or_a_phone(
    live_server: LiveServer, page: Page, step: str
) -> None:
    log_in(page, live_server, seed(live_server))
    for width, height in ((1366, 900), (390, 844)):
        page.set_viewport_size({"width": width, "height": height})
        page.goto(f"{live_server.url}/workspace/trends?step={step}")
        # The charts' data tables are behind "Visa tabell": open them all.
        page.evaluate("document.querySelectorAll('details').forEach(d => { d.open = true; })")
        seen = page.evaluate(MEASURE)
        assert seen["page"] <= 0, f"the page scrolls sideways at {width} px"
        assert len(seen["tables"]) >= 6
        for table in seen["tables"]:
            assert not table["cells"], (width, table)
            assert table["outside"] <= 0, (width, table)
            if width >= 1366:
                # A desktop has room for every table: nothing to scroll to.
                assert table["over"] <= 0, (width, table)
            else:
                # A phone may scroll a wide table sideways, inside its own wrapper.
                assert table["over"] <= 0 or table["scrolls"], (width, table)
