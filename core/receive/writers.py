"""`Writers`: each incoming file's `FileWriter`, made when the file first needs one.

A fresh file (nothing held, no ``.part``) gets its writer with its first byte or its hash, so
a list of 100,000 files waiting for their turn holds no writers; a named file's writer is let
go. Every writer writes through the transfer's one `Destination` and records in its lock.
"""

from __future__ import annotations

from collections.abc import Callable

from ..lock import TransferLockManager
from ..store.destination import Destination
from ..writer import FileWriter
from .incoming import IncomingFile


class Writers:
    """Makes the writers of one transfer's files (``overwrite_for``: the row's choice)."""

    def __init__(
        self,
        destination: Destination,
        lock: TransferLockManager,
        overwrite_for: Callable[[str], bool],
    ) -> None:
        self._destination = destination
        self._lock = lock
        self._overwrite_for = overwrite_for

    def path_of(self, incoming: IncomingFile) -> str:
        """Where ``incoming`` lands, as a full path."""
        return self._destination.path_text(incoming.lands_at)

    def new(self, incoming: IncomingFile, held: int = 0, keep_part: bool = False) -> FileWriter:
        """A writer for ``incoming``'s target, opened to keep ``held`` verified bytes (a fresh
        file's ``.part`` and folders are made with its first chunk)."""
        fresh = not held and not incoming.has_part
        writer = self._make(incoming)
        writer.open_for_writing(
            resume_bytes=held,
            keep_part=keep_part and not fresh,
            defer_create=fresh,
            replace_stale=not fresh,
        )
        return writer

    def of(self, incoming: IncomingFile) -> FileWriter | None:
        """The file's writer, made now for a fresh file whose first byte (or hash) arrived;
        None once the file was named, or when it was refused."""
        if incoming.deferred:
            incoming.deferred = False
            incoming.writer = self.new(incoming)
        return incoming.writer

    def again(self, incoming: IncomingFile) -> FileWriter:
        """A writer for a file this folder held from an earlier session whose bytes turned out
        not to be this sender's: it is received again, as a new file (keep both, unless the
        row says overwrite)."""
        writer = self._make(incoming)
        writer.open_for_writing()
        writer.reset_for_retry()
        return writer

    def _make(self, incoming: IncomingFile) -> FileWriter:
        return FileWriter(
            self.path_of(incoming),
            incoming.info.size,
            incoming.info.offset,
            lock_manager=self._lock,
            overwrite_mode=self._overwrite_for(incoming.name),
            lock_key=incoming.name,
            destination=self._destination,
            target=incoming.twin or incoming.name,
        )
