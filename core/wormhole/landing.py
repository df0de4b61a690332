"""Where the bytes of an accepted wormhole offer land: one `FileWriter` per file.

A file offer is its bytes; a folder offer is a zip stream, unpacked as it streams
(`unzip.entries`), one file per entry. Every name goes through the checks Inlet's own receiver
applies (`FileListChecker`: unsafe, duplicate or colliding names; `DestinationResolver`:
symlinks on the way), every byte through the destination's one gatekeeper, and each file is
written as ``name.part`` and named only once its bytes are complete: the transit's records are
authenticated (each decrypts under the key both ends derived from the code), a zip entry's
CRC-32 and sizes are checked at its end, and the writer then checks its
length and names it (the hash it verifies is its own: a stock sender sends none per file).

The offer's numbers are limits: a stream longer than offered, an entry that inflates past its
declared size, files past the offered count or bytes past the offered total stop the transfer
with `TransferStopped`. A wormhole transfer cannot resume, so the unfinished ``.part`` of a
stopped transfer is removed; files already named stay.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator

from ..errors import InletError, UnsafeNameError
from ..events import (
    FileInfo,
    FileProgress,
    FilesAdded,
    FileStatus,
    FileStatusChanged,
    TransferStarted,
)
from ..paths import DestinationResolver, FileListChecker, split_name
from ..peertext import safe_text
from ..receive.incoming import IncomingFile
from ..store.destination import Destination
from ..store.durable import SyncClock
from ..store.groupcommit import GroupCommit
from ..writer import FileWriter
from .offer import FILE, Offer
from .unzip import ZipStreamError, entries

#: Gather at most this many bytes from the stream into one write.
WRITE_BYTES = 1 << 20


class TransferStopped(InletError):
    """The sender's stream broke one of its offer's limits, or its zip is damaged."""

    hint = "Files completed before this point were kept. Ask the sender to send again."


class Landing:
    """Lands one accepted offer in ``destination``; ``files`` is every file's outcome."""

    def __init__(
        self,
        destination: Destination,
        offer: Offer,
        overwrite_for: Callable[[str], bool],
        emit: Callable[[object], None],
    ) -> None:
        self.destination = destination
        self.offer = offer
        self._overwrite_for = overwrite_for
        self._emit = emit
        self._checker = FileListChecker(destination.folding)
        self._resolver = DestinationResolver(destination)
        self.files: list[IncomingFile] = []
        self.stream_bytes = 0  # bytes of the stream (the zip for a folder) taken in
        self.landed_bytes = 0  # bytes written into files
        self._current: FileWriter | None = None
        #: verified files wait for one shared sync before they are named (as in Inlet's own
        #: receiver: one fsync per small file would dominate a folder of them)
        self._commits = GroupCommit(SyncClock(destination))

    # -- the two kinds of offer -----------------------------------------------------------------

    def receive(self, stream: Iterable[bytes]) -> None:
        """Take the whole stream (raises `TransferStopped`, `DiskFullError`, or what the stream
        itself raises: a dropped connection, a cancel)."""
        try:
            if self.offer.kind == FILE:
                self._receive_file(self._counted(stream))
            else:
                self._receive_folder(self._counted(stream))
            self._commits.commit()
        except ZipStreamError as err:
            self._abandon()
            raise TransferStopped(
                f"The folder's zip stream cannot be unpacked: {err}; the transfer was stopped."
            ) from None
        except BaseException:
            self._abandon()
            raise

    def _receive_file(self, stream: Iterator[bytes]) -> None:
        offer = self.offer
        self._emit(
            TransferStarted(files=(FileInfo(offer.name, offer.size),), total_size=offer.size)
        )
        incoming = self._admit(offer.name, offer.size, offer.size, announce=False)
        self._land(incoming, stream, offer.size, offer.size)

    def _receive_folder(self, stream: Iterator[bytes]) -> None:
        offer = self.offer
        self._emit(TransferStarted(files=(), total_size=offer.total, expected_files=offer.files))
        count = 0
        for entry, declared, chunks in entries(stream):
            if entry.endswith("/"):  # a folder of its own (kept even when empty)
                self._make_folder(f"{offer.name}/{entry.rstrip('/')}")  # never via a symlink
                for _ in chunks:
                    raise TransferStopped(f"The folder entry {safe_text(entry)!s} holds data.")
                continue
            count += 1
            if count > offer.files:
                raise TransferStopped(
                    f"The folder holds more files than the {offer.files:,} its sender offered; "
                    "the transfer was stopped."
                )
            left = offer.total - self.landed_bytes
            if declared is not None and declared > left:
                raise TransferStopped(
                    f"{safe_text(entry)} would pass the {offer.total:,} bytes the sender offered "
                    "in all; the transfer was stopped."
                )
            limit = declared if declared is not None else left
            incoming = self._admit(f"{offer.name}/{entry}", declared, limit, announce=True)
            self._land(incoming, chunks, limit, declared)
        if count < offer.files:
            raise TransferStopped(
                f"The folder held {count:,} files, not the {offer.files:,} its sender offered; "
                "the transfer was stopped."
            )

    # -- one file -------------------------------------------------------------------------------

    def _admit(self, name: str, size: int | None, limit: int, *, announce: bool) -> IncomingFile:
        """Check ``name`` like any name from a sender; make its writer (None when refused),
        sized ``limit`` (the most it may take: its size, or what the offer still allows when
        only its data descriptor will say)."""
        info = FileInfo(name, size or 0)
        incoming = IncomingFile.listed(info)
        self.files.append(incoming)
        exists = False
        try:
            incoming.name = self._checker.add(name)
            parts = split_name(incoming.name)
            target, exists, _ = self._resolver.resolve(incoming.name, parts)
        except UnsafeNameError as err:
            if announce:
                self._emit(FilesAdded((info,), frozenset()))
            incoming.refuse(err.message)
            self._emit(FileStatusChanged(name, FileStatus.FAILED, FileStatus.PENDING, err.message))
            return incoming
        if announce:
            self._emit(
                FilesAdded(
                    (info,),
                    frozenset({name}) if exists else frozenset(),
                    frozenset({name}) if size is None else frozenset(),
                )
            )
        incoming.exists = exists
        writer = FileWriter(
            target,
            limit,
            0,
            overwrite_mode=self._overwrite_for(incoming.name),
            lock_key=incoming.name,
            destination=self.destination,
        )
        writer.open_for_writing(defer_create=True, replace_stale=False)
        incoming.writer = writer
        return incoming

    def _land(
        self, incoming: IncomingFile, chunks: Iterable[bytes], limit: int, size: int | None
    ) -> None:
        """Write ``chunks`` into the file (at most ``limit`` bytes), then name it; ``size``:
        what the progress shows as its size (None: not known until its end)."""
        writer = incoming.writer
        name = incoming.info.name
        held = 0
        self._current = writer
        started = False
        for chunk in chunks:
            held += len(chunk)
            if held > limit:
                raise TransferStopped(
                    f"{safe_text(name)} grew past the {limit:,} bytes the sender declared for "
                    "it; the transfer was stopped."
                    if size is not None
                    else f"{safe_text(name)} would pass the {self.offer.total:,} bytes the "
                    "sender offered in all; the transfer was stopped."
                )
            self.landed_bytes += len(chunk)
            if writer is None or writer.failed:
                continue  # refused: its bytes are taken and dropped
            if not started:
                started = True
                self._emit(FileStatusChanged(name, FileStatus.IN_PROGRESS, FileStatus.PENDING))
            writer.write_chunk(chunk)
            if writer.failed:
                self._failed(incoming, FileStatus.IN_PROGRESS)
                continue
            self._emit(FileProgress(name, writer.written, writer.written if size is None else size))
        self._current = None
        if writer is None or incoming.failed:
            return
        if writer.failed:
            self._failed(incoming, FileStatus.IN_PROGRESS if started else FileStatus.PENDING)
            return
        if size is None:  # an entry whose size only its data descriptor stated
            writer.size = held
            incoming.info = incoming.info._replace(size=held)
        writer.set_overwrite(self._overwrite_for(incoming.name))
        previous = FileStatus.IN_PROGRESS if started else FileStatus.PENDING
        if not writer.verify(writer.get_hash()):
            self._failed(incoming, previous)
            return
        self._commits.add(writer, lambda w, named: self._named(incoming, previous, named))
        if self._commits.due():
            self._commits.commit()

    def _named(self, incoming: IncomingFile, previous: FileStatus, named: bool) -> None:
        """After the group's sync: the file got its final name, or failed getting it."""
        writer = incoming.writer
        if not named or writer is None:
            self._failed(incoming, previous)
            return
        final = writer.final_name
        incoming.named(writer.get_hash(), final)
        self._emit(
            FileStatusChanged(incoming.info.name, FileStatus.COMPLETED, previous, final_path=final)
        )

    def _failed(self, incoming: IncomingFile, previous: FileStatus) -> None:
        writer = incoming.writer
        reason = (writer.failed_reason if writer else None) or "it could not be saved"
        incoming.fail(reason)
        incoming.writer = None
        self._emit(FileStatusChanged(incoming.info.name, FileStatus.FAILED, previous, reason))
        if writer is not None:
            self._remove_part(writer)

    def _make_folder(self, rel: str) -> None:
        with contextlib.suppress(UnsafeNameError, OSError):  # a bad folder entry makes nothing
            parts = split_name(rel)
            if "/".join(parts) in self._checker.files:
                return
            self._checker.folders.update("/".join(parts[:n]) for n in range(1, len(parts) + 1))
            self.destination.make_folders("/".join(parts))

    # -- limits and clean-up --------------------------------------------------------------------

    def _counted(self, stream: Iterable[bytes]) -> Iterator[bytes]:
        """The stream, checked against the offered size as it arrives."""
        size = self.offer.size
        for chunk in stream:
            self.stream_bytes += len(chunk)
            if self.stream_bytes > size:
                raise TransferStopped(
                    f"The sender sent more than the {size:,} bytes it offered; the transfer "
                    "was stopped."
                )
            yield chunk
        if self.stream_bytes < size:
            raise TransferStopped(
                f"The stream ended after {self.stream_bytes:,} of the {size:,} bytes offered."
            )

    def _abandon(self) -> None:
        """A stopped transfer: the files verified so far are named, the file being written
        fails and its ``.part`` goes."""
        with contextlib.suppress(Exception):
            self._commits.commit()
        writer, self._current = self._current, None
        for incoming in self.files:
            if incoming.writer is writer and writer is not None and not incoming.failed:
                reason = "the transfer stopped before it was complete"
                incoming.fail(reason)
                incoming.writer = None
                self._emit(
                    FileStatusChanged(
                        incoming.info.name, FileStatus.FAILED, FileStatus.IN_PROGRESS, reason
                    )
                )
        if writer is not None:
            self._remove_part(writer)

    def _remove_part(self, writer: FileWriter) -> None:
        with contextlib.suppress(OSError):
            self.destination.unlink(writer.part_rel)
