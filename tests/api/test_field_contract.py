"""The field app's pushed report against the server's input schema: one list, both sides agree.

The app sends exactly the fields in `REPORT_FIELDS` (pwa/report-fields.js); the server reads
a pushed report with `ReportIn` (server/protocol/schemas.py), which ignores unknown keys. So a
field the app sends that the schema does not declare would be dropped without a word, and a
required field the app does not send would reject every report: both must fail here.
"""

from __future__ import annotations

import re

from marshmallow import Schema, fields

from server.protocol.schemas import ReportIn
from server.pwa import PWA_DIR

FIELDS_MODULE = PWA_DIR / "report-fields.js"
ARRAY = re.compile(r"export const REPORT_FIELDS = \[(?P<body>[^\]]*)\];")
ITEM = re.compile(r'\s*"(?P<name>[a-z_][a-z0-9_]*)"\s*,?')


def report_fields(source: str) -> list[str]:
    """Return the names in the `REPORT_FIELDS` array literal of a JS module's source."""
    match = ARRAY.search(source)
    assert match, "pwa/report-fields.js must export `const REPORT_FIELDS = [...]`"
    body = match["body"]
    names = [item["name"] for item in ITEM.finditer(body)]
    assert "".join(item[0] for item in ITEM.finditer(body)).strip() == body.strip(), (
        "REPORT_FIELDS must stay a plain list of double-quoted string literals"
    )
    return names


def accepted(schema: type[Schema]) -> dict[str, fields.Field]:
    """Return the keys a schema reads from its input, with their fields."""
    declared: dict[str, fields.Field] = schema._declared_fields
    return {
        field.data_key or name: field for name, field in declared.items() if not field.dump_only
    }


def sent() -> list[str]:
    """Return the fields the field app sends with a pushed report."""
    return report_fields(FIELDS_MODULE.read_text(encoding="utf-8"))


def test_the_list_is_read_from_the_js_source() -> None:
    names = sent()
    assert len(names) == len(set(names)), "a field is listed twice"
    assert {"id", "created_at", "category"} <= set(names)


def test_every_field_the_app_sends_is_accepted_by_report_in() -> None:
    unknown = set(sent()) - set(accepted(ReportIn))
    assert not unknown, f"ReportIn would silently drop {sorted(unknown)} sent by the field app"


def test_every_required_field_of_report_in_is_sent() -> None:
    required = {key for key, field in accepted(ReportIn).items() if field.required}
    missing = required - set(sent())
    assert not missing, f"the field app never sends {sorted(missing)}, which ReportIn requires"


def test_the_push_and_the_export_build_reports_from_the_one_list() -> None:
    fields_source = FIELDS_MODULE.read_text(encoding="utf-8")
    assert "for (const key of REPORT_FIELDS)" in fields_source  # toPayload
    for module in ("sync-push.js", "outbox-export.js"):
        source = (PWA_DIR / module).read_text(encoding="utf-8")
        assert 'import { toPayload } from "./report-fields.js";' in source, module


def test_the_parser_sees_a_drift_on_either_side() -> None:
    source = FIELDS_MODULE.read_text(encoding="utf-8")
    extra = source.replace('"photos",', '"photos",\n  "status",', 1)
    assert "status" in report_fields(extra)
    assert not set(report_fields(extra)) <= set(accepted(ReportIn))
    without = source.replace('  "category",\n', "", 1)
    required = {key for key, field in accepted(ReportIn).items() if field.required}
    assert "category" in required - set(report_fields(without))
