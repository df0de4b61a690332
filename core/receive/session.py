"""The receive session: the wire's events mapped onto the files of one transfer.

Socket-free (like the wire machine it drives), so it is tested in memory: the file list is
checked and planned against the folder's resume state, each file's bytes go to its writer,
verified files are named in groups after one sync, failed ones are asked for again, and the
end is answered. Every change a person should see goes out through ``emit`` as a core event.
"""

from __future__ import annotations

import contextlib
import hashlib
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn, Protocol

from .. import wire
from ..errors import (
    FolderNeededError,
    IntegrityError,
    NotEnoughSpaceError,
    PeerGoneError,
    ProtocolError,
    UnsafeNameError,
)
from ..events import FileProgress, FileStatus, FileStatusChanged, TransferStarted
from ..lock import TransferLockManager
from ..paths import DestinationResolver, FileListChecker, file_list_is_plain
from ..progress import format_size, plural
from ..space import check_room
from ..store.destination import Destination
from ..store.folding import NameFolding
from ..store.groupcommit import GroupCommit
from ..store.lockfile import file_proof
from ..writer import FileWriter
from .incoming import IncomingFile
from .outcome import failure_sentence, shown
from .selection import Selection
from .writers import Writers

if TYPE_CHECKING:
    from ..receiver import ReceiverOptions, TransferResult

MAX_MESSAGE_BYTES = 10 << 20  # a text message is shown, not saved: keep it to a sane size


class Link(Protocol):
    """How the session's answers reach the sender."""

    def send(self) -> None:
        """Send what the wire machine has queued (raises `PeerGoneError` when it cannot)."""

    def end_sending(self) -> None:
        """Nothing more will be sent (the sender sees the end of our side)."""

    def gone(self) -> NoReturn:
        """The sender is gone: raise the error that says so (or that the person cancelled)."""


class ReceiveSession:
    """One connection's worth of protocol, mapping the wire's events onto files.

    No socket: ``conn`` is the sans-I/O wire machine and ``link`` moves its bytes (the socket
    driver in ``core/receiver.py``, or memory in the tests). `handle` takes one event and says
    when the conversation is over; `close` names what was verified and saves the lock.
    """

    def __init__(
        self,
        conn: wire.ReceiverConnection,
        link: Link,
        *,
        dest_dir: Path | None,
        options: ReceiverOptions,
        result: TransferResult,
        sender_ip: str,
        emit: Callable[[object], None],
        overwrite_for: Callable[[str], bool],
    ) -> None:
        self.conn = conn
        self._link = link
        self.options = options
        self.result = result
        self.dest = dest_dir
        self._sender_ip = sender_ip
        self._emit = emit
        self._overwrite_for = overwrite_for
        self.destination: Destination | None = None
        self.lock: TransferLockManager | None = None
        self.lock_created = False
        self.writers: Writers  # made with the lock, when the file list arrives
        self.files: list[IncomingFile] = []
        self.is_message = False
        self.message = bytearray()
        self.attempt = 0
        #: verified files waiting for one shared sync before they are named (GroupCommit)
        self.commits: GroupCommit | None = None
        self._reused_named = 0  # bytes kept from earlier sessions in files named (and let go)
        self._offered: dict[str, wire.HeldPrefix] = {}
        self.selection = Selection()

    # -- the conversation -------------------------------------------------------------------------

    def handle(self, event: object) -> bool:
        """Act on one event of the wire; True when the conversation is over."""
        if isinstance(event, wire.FileData):  # the common case first
            self._on_data(event)
        elif isinstance(event, wire.FileHash):
            self._verify(self.files[event.index], event.sha256)
        elif isinstance(event, wire.Metadata):
            self._on_metadata(event)
        elif isinstance(event, wire.Accepted):
            self._on_accepted(event)
        elif isinstance(event, wire.StreamHashes):
            self._on_stream_hashes(event)
        elif isinstance(event, wire.EndOfStream):
            # Bytes that came with the end marker are a protocol violation: next_event()
            # raises on them before we answer (later bytes are never read).
            self.conn.next_event()
            return self._on_end_of_stream()
        elif isinstance(event, wire.ConnectionClosed):
            self._on_closed(event)
            return True
        return False

    def _on_metadata(self, meta: wire.Metadata) -> None:
        self.is_message = meta.is_message
        infos = meta.files  # a tuple of FileInfo, shared (not copied) by the events below
        self.files = [IncomingFile.listed(i) for i in infos]
        self.result.files = self.files  # each file is its own --json row
        if self.is_message:
            if meta.total_size > MAX_MESSAGE_BYTES:
                raise ProtocolError(
                    f"The text message is {meta.total_size} bytes long; "
                    f"Inlet shows messages up to {MAX_MESSAGE_BYTES} bytes."
                )
            self.conn.accept()
            self._emit(TransferStarted(files=infos, total_size=meta.total_size, is_message=True))
            return
        if self.dest is None:
            self.result.needs_folder = True
            raise FolderNeededError(
                f"The sender is sending {plural(len(self.files), 'file')} "
                f"({format_size(meta.total_size)}), not a text message: they need a folder."
            )
        # The folder is made (if need be) and held open once; nothing re-creates it later.
        self.destination = Destination(self.dest, create=True, folding=self._folding())
        refused = self._refuse_unsafe_names()
        # One sync of the file system per group of files. The lock syncs unsynced progress
        # only past twice a group (legacy streams: every file is written long before its hash
        # arrives), so with the extension the group commit's sync is the only one, and a small
        # file's progress is never journaled apart from its completion.
        self.commits = GroupCommit(None)
        self.lock = TransferLockManager(
            self.dest,
            listener=self._on_status,
            sync_batch=2 * self.commits.max_files,
            destination=self.destination,
        )
        self.commits.clock = self.lock.sync_clock
        self.writers = Writers(self.destination, self.lock, self._overwrite_for)
        usable = [f for f in self.files if f.refused is None] if refused else self.files
        # name -> size, made without a pair per file, and kept by the lock as its entries
        sizes = {f.name: f.info.size for f in usable}
        plan = self.lock.prepare(sizes, sender_ip=self._sender_ip)
        self.lock_created = True
        # Both ends Inlet: the sender checks held prefixes against its source, so the whole
        # .part (usually more than the lock recorded before a crash) can be offered.
        vouched = meta.extension_offered and self.options.extension
        self.selection = Selection.of(self.options.only, usable, vouched and meta.can_select)
        have: dict[str, wire.HeldPrefix] = {}
        resumed: dict[str, int] = {}
        conflicts: set[str] = set()
        resuming = plan.is_resume  # (else every file is fresh: no plan entry is made for it)
        for incoming in usable:
            entry = plan.get(incoming.name) if resuming else None
            if entry is not None and entry.completed:
                incoming.already_here(
                    entry.sha256, str(self.dest / (entry.final_path or incoming.name))
                )
                have[incoming.info.name] = wire.HeldPrefix(incoming.info.size, entry.sha256)
                resumed[incoming.name] = incoming.info.size
                continue
            if not self.selection.wants(incoming):
                continue  # not asked for: left as it is
            if incoming.exists:
                conflicts.add(incoming.name)
            held = entry.held if entry else 0
            # Nothing held and no .part: the writer, the .part and its folders wait for the
            # first byte.
            fresh = not held and not incoming.has_part
            if fresh:
                incoming.deferred = True
                writer = None
            else:
                writer = incoming.writer = self.writers.new(incoming, held, keep_part=vouched)
            if vouched:
                candidates = writer.resume_candidates() if writer is not None else []
                if candidates:
                    checkpoint = wire.HeldPrefix(*candidates[1]) if len(candidates) > 1 else None
                    have[incoming.info.name] = wire.HeldPrefix(*candidates[0], checkpoint)
                    resumed[incoming.name] = candidates[0][0]
                elif self.lock.resumed and (
                    incoming.info.size
                    and (sha := self.destination.sha256(incoming.lands_at, incoming.info.size))
                ):
                    # Killed after the rename, before the lock said "completed": offer the
                    # named file whole rather than receive every byte of it again.
                    incoming.named_earlier = sha
                    have[incoming.info.name] = wire.HeldPrefix(incoming.info.size, sha)
                    resumed[incoming.name] = incoming.info.size
                    conflicts.discard(incoming.name)
            elif writer is not None and (held := writer.verify_prefix()):
                resumed[incoming.name] = held
        if self.options.check_space:
            self._check_room(usable, resumed, None if refused else meta.total_size)
        self.result.resumed = bool(resumed)
        if vouched:
            self._offered = have
            self.conn.accept(plan=have, only=self.selection.wire_names(self.files))
        else:
            self.conn.accept()
        self._link.send()  # the sender streams while the listener (the window) lists the files
        self._emit(
            TransferStarted(
                files=infos,
                total_size=meta.total_size,
                resumed=resumed,
                extension=vouched,
                conflicts=frozenset(conflicts),
                already_done=frozenset(f.name for f in usable if f.already_done),
                selected=self.selection.shown(self.files),
                selectable=vouched and meta.can_select,
            )
        )

    def _check_room(
        self, usable: list[IncomingFile], held: dict[str, int], usable_bytes: int | None
    ) -> None:
        """Before the sender streams: do the missing bytes fit? If not, stop, leaving the folder
        as it was (a lock this session made is removed; an earlier one stays).
        ``usable_bytes``: the usable files' sizes added up, when known (the list's total when
        nothing was refused: a million files need no pass then)."""
        wants = self.selection.wants
        if usable_bytes is not None and not self.selection.partial:
            needed = usable_bytes - sum(held.values())
        else:
            needed = sum(f.info.size - held.get(f.name, 0) for f in usable if wants(f))
        try:
            check_room(self.dest, needed, self.options.statvfs)
        except NotEnoughSpaceError as err:
            self.result.space = (err.needed, err.free)
            assert self.lock is not None
            if not self.lock.resumed:
                self.lock.remove()
                self.lock_created = False
            raise

    def _folding(self) -> NameFolding | None:
        named = self.options.name_folding
        return NameFolding.named(named) if named else None

    def _refuse_unsafe_names(self) -> bool:
        """Check every name against the destination; True when some file was refused."""
        assert self.destination is not None
        folding = self.destination.folding  # probed once, before any file is made
        resolver = DestinationResolver(self.destination)  # looks at each folder once
        names = [f.info.name for f in self.files]
        if file_list_is_plain(names, folding):  # every name admitted as it is (the usual list)
            present = resolver.present(names)
            if present is not None:
                for i, (exists, has_part) in present.items():
                    self.files[i].exists, self.files[i].has_part = exists, has_part
                return False
        del names
        checker = FileListChecker(folding)
        refused = False
        for incoming in self.files:
            try:
                incoming.name = name = checker.add(incoming.info.name)  # checked, normalized
                if name in checker.collisions:
                    incoming.twin = checker.twin_name(name)
                # (the full path is made again when needed: a string per file of a million
                # is 85 MiB)
                _, incoming.exists, incoming.has_part = resolver.resolve(
                    name, tuple(name.split("/")), incoming.twin
                )
            except UnsafeNameError as err:
                refused = True
                incoming.refuse(err.message)
                self._emit(
                    FileStatusChanged(
                        incoming.info.name, FileStatus.FAILED, reason=f"refused: {err.message}"
                    )
                )
        return refused

    def _on_accepted(self, accepted: wire.Accepted) -> None:
        """Extension mode: the sender says where each file starts (it checked our prefixes)."""
        wants = self.selection.wants
        for incoming, start in zip(self.files, accepted.starts, strict=True):
            if incoming.refused or not wants(incoming) or (incoming.deferred and start == 0):
                continue  # a fresh file from its first byte: nothing to adopt
            offered = self._offered.get(incoming.info.name)
            if incoming.already_done:
                if start is not None:  # the sender's file changed since: receive it again
                    incoming.receive_again(self.writers.again(incoming))
                continue
            if start is None and incoming.named_earlier is not None:
                self._keep_named_earlier(incoming)
                continue
            writer = self.writers.of(incoming)
            assert writer is not None
            if start is None:
                if offered is None or offered.length != incoming.info.size:
                    raise ProtocolError(f"The sender skipped {incoming.name!r}, which is not here.")
                writer.adopt_prefix(offered.length)  # every byte held and vouched for
                self._verify(incoming, offered.sha256)
            else:
                writer.adopt_prefix(start)
            if offered is not None:  # what it held may have changed (a fresh file's is still 0)
                self._emit(FileProgress(incoming.name, writer.written, incoming.info.size))

    def _keep_named_earlier(self, incoming: IncomingFile) -> None:
        """The sender vouched for the file an earlier session named: record it as done."""
        assert self.destination is not None
        if incoming.writer is not None:
            with contextlib.suppress(OSError):  # an empty .part open_for_writing made
                self.destination.unlink(incoming.writer.part_rel)
        assert self.lock is not None and incoming.named_earlier is not None
        try:
            st = self.destination.lstat(incoming.lands_at)
        except OSError:
            st = None
        self.lock.mark_completed(
            incoming.name,
            incoming.named_earlier,
            incoming.lands_at,
            proof=file_proof(st) if st is not None else None,
        )
        incoming.already_here(incoming.named_earlier, self.writers.path_of(incoming))
        self._emit(FileProgress(incoming.name, incoming.info.size, incoming.info.size))

    def _on_data(self, data: wire.FileData) -> None:
        incoming = self.files[data.index]
        if self.is_message:
            self.message += data.data
            return
        writer = self.writers.of(incoming)
        if writer is None or incoming.refused or writer.failed_reason:
            return  # consume exactly this file's bytes and drop them
        chunk = data.data
        start = data.file_offset
        if start + len(chunk) <= writer.written:
            return  # a sender that restarts from byte 0: these bytes are already held
        if start < writer.written:
            chunk = memoryview(chunk)[writer.written - start :]
            start = writer.written
        if start != writer.written:
            raise ProtocolError(
                f"Data for {incoming.name!r} skips from byte {writer.written} to {start}."
            )
        written = writer.write_chunk(chunk)
        self.result.bytes_written += written
        self._emit(FileProgress(incoming.name, writer.written, incoming.info.size))
        if written >= 65536 and self.commits is not None and self.commits.due():
            self.commits.commit()  # files verified before a big one do not wait for its end

    def _verify(self, incoming: IncomingFile, sha256: str) -> None:
        if incoming.refused:
            return
        if incoming.already_done:
            if sha256.lower() != incoming.sha256:
                self._not_already_here(incoming)
            return
        if self.is_message:
            if hashlib.sha256(self.message).hexdigest() != sha256:
                raise IntegrityError(
                    "The text message arrived damaged (its SHA-256 differs).",
                    "Ask the sender to send it again.",
                )
            self.result.message_text = self.message.decode("utf-8", "replace")
            incoming.message_shown(sha256)
            return
        writer = self.writers.of(incoming)  # a zero-byte file's is made here
        if writer is None and incoming.succeeded:
            return  # named already (and its writer let go)
        assert writer is not None
        if writer.failed_reason:
            incoming.fail(writer.failed_reason)
            return
        writer.overwrite_mode = self._overwrite_for(incoming.name)
        if not writer.verify(sha256):
            incoming.fail(writer.failed_reason or "hash mismatch")
            return
        # Verified: named together with others after one shared sync (GroupCommit), or at once.
        if self.commits is None:
            self._named(incoming, sha256, writer, writer.finalize())
            return
        self.commits.add(writer, lambda w, named: self._named(incoming, sha256, w, named))
        if self.commits.due():
            self.commits.commit()

    def _not_already_here(self, incoming: IncomingFile) -> None:
        """The file this folder holds under the name is not this sender's (its hash differs):
        it was never "already here". Its bytes went by unwritten, so it is asked for again."""
        incoming.receive_again(
            self.writers.again(incoming),
            "the sender's file differs from the one received here earlier",
        )

    def _named(self, incoming: IncomingFile, sha256: str, writer: FileWriter, named: bool) -> None:
        """A verified file got its final name (or could not)."""
        if named:
            self._reused_named += writer.resumed_bytes
            incoming.named(sha256, writer.final_name)
        else:
            incoming.fail(writer.failed_reason or "could not be given its final name")

    def _commit(self) -> None:
        """Name every verified file now (before answering the sender, and when stopping)."""
        if self.commits is not None:
            self.commits.commit()

    def _on_stream_hashes(self, hashes: wire.StreamHashes) -> None:
        for incoming in self._current_files():
            sha = hashes.hashes.get(incoming.info.name)
            if sha is None:
                sha = hashes.hashes.get(incoming.name)
            if sha is None:
                if incoming.refused or incoming.already_done:
                    continue
                raise ProtocolError(f"The sender sent no hash for {incoming.name!r}.")
            self._verify(incoming, sha)

    def _current_files(self) -> list[IncomingFile]:
        if self.retrying is None:
            return self.files
        return [f for f in self.files if f.name in self.retrying]

    retrying: set[str] | None = None

    def _hash_failures(self) -> list[IncomingFile]:
        return [f for f in self.files if f.writer is not None and f.failed and f.writer.retryable]

    def _on_end_of_stream(self) -> bool:
        """Answer the sender; True when the conversation is over."""
        self._commit()
        failed = self._hash_failures()
        if failed and self.attempt < self.options.max_attempts - 1:
            self.attempt += 1
            names = [f.info.name for f in failed]
            for incoming in failed:
                incoming.writer.reset_for_retry()
                incoming.waiting()
            self.retrying = {f.name for f in failed}
            self.conn.request_retry(names, self.attempt)
            self._link.send()
            return False
        self._finish()
        return True

    def _finish(self) -> None:
        result = self.result
        if self.destination is not None:
            self.destination.check_present()
        if self.lock is not None:
            self.lock.flush()
        asked = self.selection.asked(self.files)
        failed = [f for f in asked if f.status != FileStatus.COMPLETED.value]
        result.ok = not failed
        if result.ok:
            self.conn.complete(f"Received {plural(len(asked), 'file')}.", time.time())
            if self.lock is not None and all(f.succeeded for f in self.files):
                self.lock.remove()
        else:
            self.conn.complete_with_failures([f.name for f in failed], time.time())
            result.error = failure_sentence(self.files, failed, self.attempt + 1)
            result.resumable = True
        try:
            self._link.send()
            self._link.end_sending()
        except (OSError, PeerGoneError):
            pass  # the sender may already be gone; our state is saved either way
        result.bytes_reused = (
            self._reused_named
            + sum(f.writer.resumed_bytes for f in self.files if f.writer)
            + sum(f.info.size for f in self.files if f.already_done)
        )

    def _on_closed(self, closed: wire.ConnectionClosed) -> None:
        if self.retrying is not None:
            # ftransfer 1.0.1 crashes on a retry request and drops the connection.
            names = sorted(self.retrying)
            for incoming in self.files:
                if incoming.name in self.retrying and incoming.writer is not None:
                    # (a refused duplicate of a retried name has no writer)
                    incoming.writer.mark_failed("hash mismatch; the sender could not resend it")
                    incoming.fail("hash mismatch")
            if self.lock is not None:
                self.lock.flush()
            self.result.resumable = True
            listed = ", ".join(map(shown, names[:3])) + ("…" if len(names) > 3 else "")
            raise PeerGoneError(
                "The sender closed the connection instead of resending "
                f"{plural(len(names), 'file')} that failed verification ({listed}). "
                "They are kept as unfinished files;",
                "receive again into the same folder to retry them.",
            )
        self._link.gone()

    def close(self) -> None:
        try:
            self._commit()  # verified files get their names whatever stopped the session
        finally:
            if self.lock is not None and self.lock.active:
                self.lock.close()  # raises DiskFullError (state kept) when there is no room

    def _on_status(self, event: FileStatusChanged) -> None:
        self._emit(event)
