"""Machine facts that make figures comparable, the quiet-machine wait and CPU accounting."""

from __future__ import annotations

import contextlib
import json
import math
import os
import platform
import sqlite3
import subprocess
import time
from importlib.metadata import version as pkg_version
from pathlib import Path

from bench.ingestlib.common import QUIET_BUSY, ROOT, median_ms

# --------------------------------------------------------------------------------------------
# CPU accounting (/proc)
# --------------------------------------------------------------------------------------------


def cpu_times() -> tuple[float, float]:
    """Return (busy, total) jiffies of all CPUs from /proc/stat."""
    with open("/proc/stat") as fh:
        parts = [float(x) for x in fh.readline().split()[1:]]
    idle = parts[3] + (parts[4] if len(parts) > 4 else 0.0)
    total = sum(parts[:8])
    return total - idle, total


def busy_share(start: tuple[float, float], end: tuple[float, float]) -> float:
    """Return the fraction of all cores busy between two cpu_times() samples."""
    (busy0, total0), (busy1, total1) = start, end
    return (busy1 - busy0) / (total1 - total0) if total1 > total0 else math.nan


def _proc_cpu(pid: int) -> float:
    """Return CPU-seconds of a process plus those of its reaped children."""
    with open(f"/proc/{pid}/stat") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return sum(float(x) for x in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def _children(pid: int) -> list[int]:
    """Return the live children of a process."""
    kids: list[int] = []
    with contextlib.suppress(OSError):
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as fh:
                kids.extend(int(x) for x in fh.read().split())
    return kids


def tree_cpu(pid: int) -> float:
    """Return CPU-seconds used by a process tree (live members and reaped children)."""
    try:
        total = _proc_cpu(pid)
    except (OSError, IndexError, ValueError):
        return 0.0
    return total + sum(tree_cpu(child) for child in _children(pid))


def background_busy(seconds: float = 2.0) -> float:
    """Return the fraction of all cores busy over `seconds` (before we start anything)."""
    start = cpu_times()
    time.sleep(seconds)
    return busy_share(start, cpu_times())


def wait_for_quiet(max_wait: float) -> float:
    """Wait up to `max_wait` seconds for the machine to be quiet; return the last busy share."""
    busy = background_busy()
    waited = 0.0
    while busy > QUIET_BUSY and waited < max_wait:
        print(f"machine is {busy * 100:.0f} % busy before the start; waiting for quiet ...")
        time.sleep(8)
        waited += 10
        busy = background_busy()
    return busy


# --------------------------------------------------------------------------------------------
# Machine facts
# --------------------------------------------------------------------------------------------


def fsync_latency(folder: Path, n: int = 100) -> float:
    """Return the median fsync latency in ms of 4 KiB appends in `folder`."""
    path = folder / "fsync-probe"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    times = []
    try:
        for _ in range(n):
            os.write(fd, b"\0" * 4096)
            t = time.perf_counter()
            os.fsync(fd)
            times.append(time.perf_counter() - t)
    finally:
        os.close(fd)
        path.unlink()
    return median_ms(times)


def cpu_calibration() -> float:
    """Return ms for a fixed pure-Python workload (best of 5): how fast this CPU is right now."""

    def work() -> int:
        d = {str(i): i * 2 for i in range(100_000)}
        return len(json.loads(json.dumps(d)))

    best = math.inf
    for _ in range(5):
        t = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - t)
    return best * 1000


def filesystem_of(path: Path) -> str:
    """Return the filesystem type and device holding `path`."""
    best, found = "", "unknown"
    with contextlib.suppress(OSError), open("/proc/mounts") as fh:
        for line in fh:
            dev, mnt, fstype = line.split()[:3]
            if str(path).startswith(mnt) and len(mnt) > len(best):
                best, found = mnt, f"{fstype} on {dev} (mount {mnt})"
    return found


def cpu_model() -> str:
    """Return the CPU model name."""
    with contextlib.suppress(OSError), open("/proc/cpuinfo") as fh:
        for line in fh:
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def git_state() -> str:
    """Return HEAD and how many files differ from it."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=ROOT,
            capture_output=True,
            text=True,
        ).stdout.splitlines()
    except OSError:
        return "unknown"
    return f"{head or 'unknown'}" + (
        f" + uncommitted changes in {len(dirty)} files" if dirty else ""
    )


def machine_facts(tmp: Path, busy_before: float) -> dict[str, str]:
    """Collect the facts that make figures comparable (`busy_before`: from wait_for_quiet)."""
    return {
        "nproc": f"{len(os.sched_getaffinity(0))} (os.cpu_count()={os.cpu_count()})",
        "cpu": cpu_model(),
        "kernel": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "sqlite": f"{sqlite3.sqlite_version} (library used by Python's sqlite3)",
        "packages": ", ".join(
            f"{p} {pkg_version(p)}"
            for p in ("gunicorn", "flask", "sqlalchemy", "marshmallow", "psycopg")
        ),
        "temp filesystem": filesystem_of(tmp),
        "fsync p50": f"{fsync_latency(tmp):.3f} ms (4 KiB append + fsync in the temp dir)",
        "cpu speed": f"{cpu_calibration():.0f} ms calibration at start (fixed pure-Python "
        "workload, best of 5; lower is faster)",
        "git": git_state(),
        "busy before": f"{busy_before * 100:.0f} % of all cores over 2 s before the start"
        + (
            "  ** NOT QUIET: other processes share the machine; figures are pessimistic **"
            if busy_before > QUIET_BUSY
            else ""
        ),
    }
