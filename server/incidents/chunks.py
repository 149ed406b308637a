"""Split long id lists for IN clauses: SQLite limits the parameters of one statement."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TypeVar

# Ids per IN list; well under SQLite's parameter limit, large enough to keep round trips few.
IN_CHUNK = 500

T = TypeVar("T")


def in_chunks(ids: Sequence[T]) -> Iterator[Sequence[T]]:
    """Yield the ids in slices of at most IN_CHUNK."""
    for first in range(0, len(ids), IN_CHUNK):
        yield ids[first : first + IN_CHUNK]
