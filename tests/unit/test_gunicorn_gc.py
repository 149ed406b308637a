"""deploy/gunicorn.conf.py keeps a worker's start-up objects out of the collector's passes."""

from __future__ import annotations

import gc
import runpy
from pathlib import Path
from types import SimpleNamespace

GUNICORN_CONF = Path(__file__).resolve().parents[2] / "deploy" / "gunicorn.conf.py"


def test_post_worker_init_freezes_what_the_worker_has_loaded():
    hooks = runpy.run_path(str(GUNICORN_CONF))
    before = gc.get_freeze_count()
    try:
        # No Flask app: the jobs' start-up hooks do nothing, the freeze still happens.
        hooks["post_worker_init"](SimpleNamespace(wsgi=None))
        assert gc.get_freeze_count() > before
    finally:
        gc.unfreeze()  # the rest of the test run collects as usual
