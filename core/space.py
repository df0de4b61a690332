"""Room on the destination's disk, checked before any byte moves.

What is still missing (the files asked for, less the bytes already held) is compared with the
free space of the destination's file system: a transfer that cannot fit stops before it starts,
with both numbers, instead of when the disk fills up. ``statvfs`` is a seam for tests; where the
platform has none, ``shutil.disk_usage`` answers.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .errors import NotEnoughSpaceError

Statvfs = Callable[[str], Any]


def free_bytes(folder: Path, statvfs: Statvfs | None = None) -> int | None:
    """Bytes this process may still write on ``folder``'s file system (root may also use the
    blocks reserved for it); None when that cannot be asked."""
    statvfs = statvfs or getattr(os, "statvfs", None)
    try:
        if statvfs is None:
            return shutil.disk_usage(folder).free
        st = statvfs(os.fspath(folder))
    except OSError:
        return None
    root = hasattr(os, "geteuid") and os.geteuid() == 0
    return (st.f_bfree if root else st.f_bavail) * st.f_frsize


def check_room(folder: Path, needed: int, statvfs: Statvfs | None = None) -> None:
    """Raise `NotEnoughSpaceError` when ``needed`` bytes will not fit on ``folder``'s disk."""
    if needed <= 0:
        return
    free = free_bytes(folder, statvfs)
    if free is not None and needed > free:
        raise NotEnoughSpaceError(folder, needed, free)
