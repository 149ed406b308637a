"""Helper for the SQLite write gate tests: is the gate free right now?"""

from __future__ import annotations

import fcntl
import os

from server.sqlite_gate import gate_path


def gate_is_free(database: str) -> bool:
    """Tell whether another open file description could take the database's gate now."""
    fd = os.open(gate_path(database), os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    finally:
        os.close(fd)
    return True
