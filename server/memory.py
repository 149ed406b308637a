"""Give the C heap that a request or a job's tick freed back to the system (glibc only).

A worker's live Python objects stay flat under steady traffic, but glibc keeps what a
large request freed (a night's map data, a grouping pass over a growing window) in its
arenas, so RSS climbs with the largest request seen so far (issue 14's soak;
`bench/memprobe.py` shows it). `malloc_trim(0)` hands those free pages back: after every
request (gunicorn's post_request hook) and every job tick. Measured under the soak's mix
(bench/memprobe.py): about 0.4 ms a call, against 15-90 ms of CPU a request.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import threading
from collections.abc import Callable


def _load_trim() -> Callable[[int], int] | None:
    """Return glibc's malloc_trim, or None on a C library without it (musl, macOS)."""
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        fn = ctypes.CDLL(name).malloc_trim
    except (OSError, AttributeError):
        return None
    fn.argtypes = [ctypes.c_size_t]
    fn.restype = ctypes.c_int
    return fn


_trim = _load_trim()
_lock = threading.Lock()


def trim() -> bool:
    """Trim every arena unless another thread is trimming; return whether this call trimmed."""
    if _trim is None:
        return False
    # Requests and job threads call this; one trim at a time is enough, the others go on.
    if not _lock.acquire(blocking=False):
        return False
    try:
        _trim(0)
    finally:
        _lock.release()
    return True
