"""The per-report records of grouping and recurring places carry no dict per instance.

A grouping pass builds one ReportPoint and one StoredReport per report of its window, a
map request one PlacePoint per report of 28 days: thousands at once. A dict per instance
roughly doubled each record (issue 14: the worker's memory grew with its largest pass).
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime

import pytest

from analysis.grouping import ReportPoint
from analysis.local_grouping import StoredReport
from analysis.places import PlacePoint

WHEN = datetime(2026, 11, 20, 22, 0, tzinfo=UTC)
POINT = ReportPoint(id="a", created_at=WHEN, category="klotter", lat=55.6, lon=13.2)


@pytest.mark.parametrize(
    "record",
    [
        POINT,
        StoredReport(point=POINT, key="a", pinned=True),
        PlacePoint(id="a", lat=55.6, lon=13.2, created_at=WHEN, category="klotter"),
    ],
    ids=type,
)
def test_no_dict_per_record(record: object) -> None:
    assert not hasattr(record, "__dict__")
    assert sys.getsizeof(record) <= 96  # the object and its slots, nothing beside


def test_records_stay_frozen_and_checked() -> None:
    with pytest.raises(AttributeError):
        POINT.lat = 1.0  # type: ignore[misc]
    with pytest.raises(ValueError, match="needs a key"):
        StoredReport(point=POINT, key=None, pinned=True)
    with pytest.raises(ValueError, match="not WGS84"):
        PlacePoint(id="b", lat=95.0, lon=13.2, created_at=WHEN, category="klotter")
    # The time is still normalised to UTC in __post_init__ (object.__setattr__ on a slot).
    local = datetime.fromisoformat("2026-11-20T23:00:00+01:00")
    assert (
        ReportPoint(id="c", created_at=local, category="x", lat=None, lon=None).created_at == WHEN
    )
