"""Making written bytes durable: one file at a time, or many at once.

A verified file gets its final name only after its bytes are on disk (invariant 2 of
DESIGN.md), and the lock records a prefix only after those bytes are on disk (invariant 4).
Syncing every small file on its own costs a device flush each (0.2-3 ms): 10,000 files would
spend seconds waiting. `sync_files` makes a whole group durable with one call instead: on Linux
``syncfs(2)`` on the destination's file system (every dirty byte and inode of that file system,
then one flush), elsewhere an ``fsync`` per file (macOS's ``sync`` does not wait, Windows has
no such call).

`SyncClock` counts the whole-file-system syncs of one destination, so a file that was written
before such a sync finished needs no sync of its own (the lock and the group commit share it).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys
import threading
from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .destination import Destination

_BINARY = getattr(os, "O_BINARY", 0)
# Windows can only flush a handle opened for writing; POSIX is happy with a read-only one.
_SYNC_FLAGS = (os.O_RDWR if os.name == "nt" else os.O_RDONLY) | _BINARY
#: Below this many files, an fsync each is as cheap as a sync of the whole file system and
#: touches nothing else.
GROUP_MIN = 3


def _load_syncfs():
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
        fn = libc.syncfs
    except (OSError, AttributeError):
        return None
    fn.argtypes = [ctypes.c_int]
    fn.restype = ctypes.c_int
    return fn


_syncfs = _load_syncfs()


def fsync_path(path: str | os.PathLike[str]) -> None:
    """fsync one file by name (raises OSError, e.g. ENOSPC for data that could not be written)."""
    fd = os.open(path, _SYNC_FLAGS)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def syncfs(folder: str | os.PathLike[str] | int) -> bool:
    """Sync the whole file system holding ``folder`` (a path or an open descriptor); False
    when the platform cannot."""
    if _syncfs is None:
        return False
    fd = folder if isinstance(folder, int) else os.open(folder, os.O_RDONLY)
    try:
        if _syncfs(fd) != 0:
            err = ctypes.get_errno()
            raise OSError(err, os.strerror(err), str(folder))
    finally:
        if fd is not folder:
            os.close(fd)
    return True


class SyncClock:
    """Counts the whole-file-system syncs of one destination folder.

    ``now()`` after a file's last write, then ``covered(mark)``: True once a sync of the whole
    file system that *began* after that mark has finished, so the file's bytes are on disk
    already. Syncs may run in another thread (`GroupCommit`): each is numbered when it begins.
    Files are named relative to the destination and reached through it (`Destination`).
    """

    def __init__(self, destination: Destination, *, enabled: bool = True) -> None:
        self.destination = destination
        self.enabled = enabled
        self._begun = 0
        self._finished = 0  # the highest number of a sync that finished
        self._lock = threading.Lock()

    def now(self) -> int:
        return self._begun

    def covered(self, mark: int) -> bool:
        return self._finished > mark

    def _syncfs(self) -> bool:
        with self._lock:
            self._begun += 1
            number = self._begun
        held = self.destination.syncfs_fd()
        if not syncfs(held if held is not None else self.destination.root):
            return False
        with self._lock:
            self._finished = max(self._finished, number)
        return True

    def sync_files(
        self, rels: Iterable[str], *, check_present: bool = True
    ) -> list[tuple[str, OSError]]:
        """Make the files at ``rels`` durable with as few syncs as possible; the (rel, error)
        pairs that failed.

        A missing file is a failure (nothing on disk vouches for it). An error of the
        whole-file-system sync (EIO; ENOSPC for delayed allocation) is reported for every
        file, so no caller records or names bytes that might not be on disk. ``check_present``
        off: the caller checks each file itself right after (the group commit does).
        """
        rels = list(rels)
        if not self.enabled or not rels:
            return []
        dest = self.destination
        if len(rels) >= GROUP_MIN:
            try:
                synced = self._syncfs()
            except OSError as err:
                return [(rel, err) for rel in rels]
            if synced and not check_present:
                return []
            if synced:
                failed = []
                for rel in rels:
                    try:
                        if dest.lstat(rel) is None:
                            raise FileNotFoundError(2, "No such file", os.fspath(dest.path(rel)))
                    except OSError as err:
                        failed.append((rel, err))
                return failed
        failed = []
        for rel in rels:
            try:
                dest.fsync(rel)
            except OSError as err:
                failed.append((rel, err))
        return failed
