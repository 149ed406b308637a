"""Where a process's memory sits: RSS, glibc's heaps (per arena), pymalloc's arenas, smaps.

RSS alone cannot tell a leak (live objects piling up) from memory that was freed but is
kept by an allocator (glibc's arenas, pymalloc's 1 MiB arenas) at a high-water mark.
These readers split it; they read this process only and need glibc (Linux).
"""

from __future__ import annotations

import ctypes
import os
import re
import sys
import tempfile
from dataclasses import dataclass

MIB = 1024 * 1024
_HEAP = re.compile(r'<heap nr="(\d+)">(.*?)</heap>', re.S)
_REST = re.compile(r'<total type="rest" count="\d+" size="(\d+)"/>')
_FAST = re.compile(r'<total type="fast" count="\d+" size="(\d+)"/>')
_CURRENT = re.compile(r'<system type="current" size="(\d+)"/>')
_PYMALLOC = {
    "arenas": re.compile(r"# arenas allocated current\s*=\s*([\d,]+)"),
    "used": re.compile(r"# bytes in allocated blocks\s*=\s*([\d,]+)"),
}


@dataclass(frozen=True)
class Arena:
    """One glibc arena: bytes it holds from the system and bytes free inside it."""

    number: int
    system: int
    free: int


def proc_status(field: str) -> int:
    """Return a field of /proc/self/status in KiB (VmRSS, VmHWM, ...)."""
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise KeyError(field)


def _libc() -> ctypes.CDLL | None:
    """Return glibc, or None where there is none."""
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.malloc_info  # noqa: B018 - glibc only
    except (OSError, AttributeError):
        return None
    libc.fopen.restype = ctypes.c_void_p
    return libc


_LIBC = _libc()


def glibc_arenas() -> list[Arena]:
    """Return every glibc arena of this process (main arena first); [] off glibc."""
    if _LIBC is None:
        return []
    fd, path = tempfile.mkstemp(prefix="malloc-info-")
    os.close(fd)
    try:
        fp = _LIBC.fopen(path.encode(), b"w")
        _LIBC.malloc_info(0, ctypes.c_void_p(fp))
        _LIBC.fclose(ctypes.c_void_p(fp))
        with open(path) as fh:
            xml = fh.read()
    finally:
        os.unlink(path)
    arenas = []
    for number, body in _HEAP.findall(xml):
        current, rest, fast = _CURRENT.search(body), _REST.search(body), _FAST.search(body)
        free = (int(rest.group(1)) if rest else 0) + (int(fast.group(1)) if fast else 0)
        arenas.append(Arena(int(number), int(current.group(1)) if current else 0, free))
    return arenas


def pymalloc() -> tuple[int, int]:
    """Return pymalloc's (bytes of arenas held, bytes in live blocks)."""
    # _debugmallocstats writes to the C stderr: catch file descriptor 2 for the moment.
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile(mode="w+") as out:
        os.dup2(out.fileno(), 2)
        try:
            sys._debugmallocstats()
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        out.seek(0)
        text = out.read()
    found = {k: rx.search(text) for k, rx in _PYMALLOC.items()}
    arenas, used = (int(m.group(1).replace(",", "")) if m else 0 for m in found.values())
    return arenas * MIB, used


def smaps_rss() -> dict[str, int]:
    """Return resident bytes by kind of mapping: the brk heap, anonymous, files."""
    out = {"heap": 0, "anon": 0, "file": 0}
    kind = "file"
    with open("/proc/self/smaps") as fh:
        for line in fh:
            first = line.split(maxsplit=6)
            if "-" in first[0] and len(first) >= 5 and ":" in first[3]:
                name = first[5].strip() if len(first) > 5 else ""
                kind = "heap" if name == "[heap]" else "anon" if not name else "file"
                if name.startswith("[") and name != "[heap]":
                    kind = "file"  # stack, vdso: neither heap nor anonymous data
            elif line.startswith("Rss:"):
                out[kind] += int(line.split()[1]) * 1024
    return out


def breakdown() -> dict[str, float]:
    """Return the figures of one sample, in MiB (arenas: their count)."""
    arenas = glibc_arenas()
    py_arenas, py_used = pymalloc()
    maps = smaps_rss()
    main = arenas[0] if arenas else Arena(0, 0, 0)
    return {
        "rss": proc_status("VmRSS") / 1024,
        "hwm": proc_status("VmHWM") / 1024,
        "brk_rss": maps["heap"] / MIB,
        "anon_rss": maps["anon"] / MIB,
        "main_sys": main.system / MIB,
        "main_free": main.free / MIB,
        "thr_sys": sum(a.system for a in arenas[1:]) / MIB,
        "thr_free": sum(a.free for a in arenas[1:]) / MIB,
        "arenas": float(len(arenas)),
        "py_arenas": py_arenas / MIB,
        "py_used": py_used / MIB,
    }
