"""The bounded randomized fault run: 12 phones, a faulty network and server kills.

The long version is `python -m bench.faults` (docs/faults.md); both run the engine in
tests/support/faultrun.py.
"""

from __future__ import annotations

import pytest

from tests.support.faultproxy import KINDS
from tests.support.faultrun import FaultRunConfig, run

pytestmark = pytest.mark.slow

BOUNDED = FaultRunConfig(devices=12, seconds=18.0, seed=14, kill_every=(4.0, 7.0))


def test_random_faults_lose_and_duplicate_nothing(system, tmp_path) -> None:
    result = run(system.database_url, tmp_path / "run", BOUNDED)
    print(f"\n[{system.backend}]\n{result.summary()}")
    assert not result.errors, "\n".join(result.errors[:20])
    assert result.undelivered == 0, f"{result.undelivered} reports never acknowledged"
    assert result.lost == 0
    assert result.duplicated == 0
    assert result.wrong == 0
    # A run without faults of every kind proves nothing.
    missing = [kind for kind in (*KINDS, "kill") if result.faults.get(kind, 0) == 0]
    assert not missing, f"no faults of kind {missing}: {result.faults}"
    assert result.reports > 100, f"only {result.reports} reports written"
