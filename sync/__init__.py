"""The sync engine: field-by-field merge of device edits and pull cursors.

Plain Python with the standard library only: no web framework, no database."""

from sync.cursor import Cursor, decode_cursor, encode_cursor
from sync.merge import (
    DEVICE_FIELDS,
    BatchResult,
    Edit,
    FieldState,
    MergeResult,
    Outcome,
    ReportState,
    apply_batch,
    canonical,
    clocks_to_json,
    field_key,
    initial_state,
    merge,
    state_from_columns,
    values_of,
)

__all__ = [
    "DEVICE_FIELDS",
    "BatchResult",
    "Cursor",
    "Edit",
    "FieldState",
    "MergeResult",
    "Outcome",
    "ReportState",
    "apply_batch",
    "canonical",
    "clocks_to_json",
    "decode_cursor",
    "encode_cursor",
    "field_key",
    "initial_state",
    "merge",
    "state_from_columns",
    "values_of",
]
