"""`GroupCommit`: verified files wait for one shared sync, then get their final names together.

Kept apart from `FileWriter` (one file's disk side) because it is about many files at once:
when to sync, and in which order to name. It uses only the writer's public face.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from ..errors import DiskFullError

if TYPE_CHECKING:
    from ..writer import FileWriter
    from .durable import SyncClock


class GroupCommit:
    """Verified files wait here for one shared sync, then get their final names together.

    Invariant 2 wants a file's bytes on disk before its final name, but one fsync per file
    (0.2-3 ms each) would dominate a transfer of thousands of small files. `add` takes a file
    whose SHA-256 matched; `commit` makes every queued ``.part`` durable with as few syncs as
    possible (one ``syncfs`` on Linux; none for files a whole-file-system sync already covered,
    such as the lock's), then renames them in order and reports each through its callback.
    Until then a file is only ``name.part``: a crash leaves it unnamed and verified again on
    resume. The caller commits when `due` (``max_files`` waiting, ``max_bytes`` of them, or
    the oldest waiting ``max_delay`` seconds), before it answers the sender and when it stops.

    (Syncing and renaming in a thread of their own, beside the receiver, was measured: slower,
    because the file system makes new files wait while it writes the group's metadata out, and
    the two threads contend for the GIL.)
    """

    def __init__(
        self,
        clock: SyncClock | None,
        *,
        max_files: int = 1000,
        max_bytes: int = 64 << 20,
        max_delay: float = 0.5,
        time_source: Callable[[], float] = time.monotonic,
    ) -> None:
        self.clock = clock
        self.max_files = max_files
        self.max_bytes = max_bytes
        self.max_delay = max_delay
        self._time = time_source
        self._queue: list[tuple[FileWriter, Callable[[FileWriter, bool], None]]] = []
        self._bytes = 0
        self._since = 0.0

    def __len__(self) -> int:
        return len(self._queue)

    def add(self, writer: FileWriter, on_done: Callable[[FileWriter, bool], None]) -> None:
        """Queue a verified ``writer``; ``on_done(writer, named)`` follows at the commit."""
        if not self._queue:
            self._since = self._time()
        if self.clock is not None:
            writer.sync_mark = self.clock.now()
        self._queue.append((writer, on_done))
        self._bytes += writer.size

    def due(self) -> bool:
        return bool(self._queue) and (
            len(self._queue) >= self.max_files
            or self._bytes >= self.max_bytes
            or self._time() - self._since >= self.max_delay
        )

    def seconds_left(self) -> float | None:
        """How long the oldest queued file may still wait (None when nothing waits)."""
        if not self._queue:
            return None
        return max(0.0, self.max_delay - (self._time() - self._since))

    def commit(self) -> None:
        """Sync what is queued (once), then name each file; a full disk raises at the end."""
        queue, self._queue, self._bytes = self._queue, [], 0
        if not queue:
            return
        queue[0][0].destination.check_present()  # never name files in a folder moved away
        clock = self.clock
        covered = clock.covered if clock is not None else (lambda mark: False)
        # (a zero-byte file has no bytes to sync: its empty .part is made when it is named)
        need = [w for w, _ in queue if w.fsync and w.size and not covered(w.sync_mark)]
        if clock is not None:
            # (finalize checks each .part right after, so the sync need not stat them)
            problems = clock.sync_files([w.part_rel for w in need], check_present=False)
            failed = dict(problems)
        else:
            failed = {}
            for w in need:
                try:
                    w.destination.fsync(w.part_rel)
                except OSError as err:
                    failed[w.part_rel] = err
        disk_full: DiskFullError | None = None
        for writer, on_done in queue:
            try:
                err = failed.get(writer.part_rel)
                if err is not None:
                    writer.not_saved(err)
                    named = False
                else:
                    named = writer.finalize(synced=True)
            except DiskFullError as err:
                disk_full = disk_full or err
                named = False
            on_done(writer, named)
        if disk_full is not None:
            raise disk_full
