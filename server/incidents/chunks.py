"""Split long id lists for IN clauses: SQLite limits the parameters of one statement."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TypeVar

# Ids per IN list; well under SQLite's parameter limit, large enough to keep round trips few.
IN_CHUNK = 500

T = TypeVar("T")


def in_chunks(ids: Sequence[T], size: int = IN_CHUNK) -> Iterator[Sequence[T]]:
    """Yield the ids in slices of at most `size`."""
    for first in range(0, len(ids), size):
        yield ids[first : first + size]
