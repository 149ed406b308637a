"""Run the same Python snippet in several processes at once, as several workers would."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


def run_children(code: str, env_name: str, config: dict[str, Any], count: int = 2) -> list[Any]:
    """Start `count` processes running `code` with `config` as JSON in the environment
    variable `env_name`; return each one's last stdout line parsed as JSON."""
    env = {**os.environ, env_name: json.dumps(config)}
    children = [
        subprocess.Popen(
            [sys.executable, "-c", code],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(count)
    ]
    results = []
    for child in children:
        out, err = child.communicate(timeout=120)
        assert child.returncode == 0, err
        results.append(json.loads(out.strip().splitlines()[-1]))
    return results
