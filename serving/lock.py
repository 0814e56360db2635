"""One scoring process at a time: an advisory file lock (``fcntl.flock``).

The kernel drops the lock when its holder dies, so a killed run never leaves a stale lock
behind; the file only records who holds it, for the message a second run prints.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from collections.abc import Iterator
from pathlib import Path

from features.errors import JourneyError


class LockedError(JourneyError):
    """Another scoring run holds the lock."""


@contextlib.contextmanager
def scoring_lock(
    path: Path, *, wait_seconds: float = 0.0, poll_seconds: float = 0.2
) -> Iterator[None]:
    """Hold the lock at ``path`` for the block; wait up to ``wait_seconds`` for it.

    Raises :class:`LockedError` (naming the holder) when it is still taken after that.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + wait_seconds
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    holder = path.read_text(encoding="utf-8").strip() or "unknown process"
                    waited = f" after waiting {wait_seconds:g}s" if wait_seconds else ""
                    raise LockedError(
                        f"another scoring run holds {path} ({holder}){waited}; exiting without "
                        "touching anything (pass --wait SECONDS to wait for it)"
                    ) from None
                time.sleep(poll_seconds)
        os.ftruncate(fd, 0)
        os.write(fd, f"pid {os.getpid()} since {time.strftime('%Y-%m-%d %H:%M:%S')}".encode())
        yield
    finally:
        os.close(fd)  # closing releases the lock
