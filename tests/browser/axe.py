"""Run axe-core (pinned in package-lock.json, installed by `make install-test`) in a page.

violations = run_axe(page)
assert not serious(violations), describe(serious(violations))
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page

ROOT = Path(__file__).resolve().parents[2]
AXE_JS = ROOT / "node_modules" / "axe-core" / "axe.min.js"
SERIOUS = ("serious", "critical")


def run_axe(page: Page, options: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """Inject axe into the page (once) and return its violations for the whole document."""
    if not AXE_JS.exists():
        pytest.fail(f"{AXE_JS} is missing: run `make install-test` (it runs `npm ci`).")
    if not page.evaluate("typeof window.axe === 'object'"):
        # Evaluated, not added as a <script>: a page's CSP refuses inline scripts, but not
        # what Playwright evaluates, so the page is checked under its real policy.
        page.evaluate(AXE_JS.read_text(encoding="utf-8") + "\n;typeof window.axe")
    result = page.evaluate(
        """async (options) => {
            const r = await axe.run(document, options);
            return {version: axe.version, violations: r.violations};
        }""",
        options or {"resultTypes": ["violations"]},
    )
    return result["violations"]


def serious(violations: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The violations with impact serious or critical."""
    return [v for v in violations if v.get("impact") in SERIOUS]


def describe(violations: list[dict[str, Any]]) -> str:
    """One readable block per violation: rule, impact, what to fix and where."""
    lines = [f"{len(violations)} axe violation(s):"]
    for v in violations:
        lines.append(f"- {v['id']} ({v['impact']}): {v['help']} <{v['helpUrl']}>")
        for node in v["nodes"]:
            target = " ".join(str(t) for t in node["target"])
            fix = " ".join(node.get("failureSummary", "").split())
            lines.append(f"    at {target}: {fix}")
    return "\n".join(lines)
