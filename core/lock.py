"""Resume state of a transfer: ``.transfer_lock.json`` plus an append-only journal.

The snapshot ``.transfer_lock.json`` keeps ftransfer 1.0.1's format (``version``, ``session_id``,
``timestamp``, ``sender_ip``, ``total_files``, ``total_size``, ``files``), so either tool can read
the other's state; Inlet's extras live in keys ftransfer ignores (``"inlet"`` at the top, and
``reason`` / ``final_path`` inside an entry).

Why a journal: ftransfer rewrote the whole JSON file at every batch, so the work per batch grew
with the number of files and 10,000 small files stalled (quadratic in total). Here a batch appends
one JSON line holding every *changed* entry to ``.transfer_lock.journal`` and syncs it once (a
torn line is a lost batch, never half of one). The snapshot is rewritten (compacted) only when
the journal has grown beyond it, so every byte of snapshot written is paid for by at least as many
journal bytes: the total work stays linear. Loading reads the snapshot and replays the journal.
A snapshot that lags its journal is still a valid, older state, so ftransfer reading it merely
sees less progress.

Crash safety (invariant 4 of DESIGN.md): the snapshot is written to a temp file, fsynced and
``os.replace``-d; the journal is synced per batch and a torn last line is ignored on load; a
partial length is journaled only after the ``.part`` bytes it claims were fsynced.
"""

from __future__ import annotations

import hashlib
import os
import stat
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from .errors import DiskFullError, LockFileError, UnsafeNameError, is_disk_full
from .events import FileInfo, FileStatus, FileStatusChanged
from .paths import JOURNAL_FILENAME, LOCK_FILENAME, normalized_name, part_name
from .receive.resume import FreshEntries, ResumePlan, carried_entry, plan_resume
from .store.destination import Destination
from .store.durable import SyncClock
from .store.entries import PendingEntries
from .store.lockfile import (
    ENCODE,
    HEX64,
    LOCK_VERSION,
    STATUSES,
    encode_entries,
    lower,
    parse_time,
)
from .store.lockstore import JournalGone, LockStore, disk_full_message

STALE_AFTER = timedelta(hours=24)
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
# ASCII output: names with any code point (even a lone surrogate a hostile peer can send as
# "\ud800" in its JSON) still encode, and the files stay valid UTF-8 for ftransfer.
_ACTIVE = (FileStatus.PENDING, FileStatus.IN_PROGRESS)

Listener = Callable[[FileStatusChanged], None]
#: the files of a transfer: FileInfo or (name, size) each, or a dict name -> size
FileList = Iterable[FileInfo | tuple[str, int]] | dict[str, int]


@dataclass(frozen=True, slots=True)
class LockEntry:
    """Read-only view of one file's record in the lock."""

    name: str
    status: FileStatus
    size: int
    transferred_bytes: int
    partial_hash: str | None
    original_hash: str | None
    last_modified: str | None
    reason: str | None = None
    final_path: str | None = None


@dataclass(frozen=True)
class LockSummary:
    """What the window says about an interrupted transfer found in a folder."""

    completed: int
    partial: int
    pending: int
    failed: int
    total_files: int
    total_size: int
    held_bytes: int
    sender_ip: str
    timestamp: datetime
    session_id: str

    def describe(self) -> str:
        """One line for the window's banner, e.g. ``12 done, 1 partial, 3 waiting``."""
        parts = [f"{self.completed} done", f"{self.partial} partial", f"{self.pending} waiting"]
        if self.failed:
            parts.append(f"{self.failed} failed")
        return ", ".join(parts)


class TransferLockManager:
    """Owns ``.transfer_lock.json`` and its journal for one destination folder.

    Status changes go to ``listener`` synchronously (the window turns them into Qt signals).
    Progress and status changes are batched (the seed's 150 updates / 2 s, both parameters):

    * every ``flush_interval`` seconds, and on ``flush()``/``close()``, a *durable* batch: the
      ``.part`` files with new progress are fsynced, then the journal line is appended and
      fdatasynced. This bounds what a power cut can lose to about ``flush_interval``.
    * when ``batch_size`` distinct entries are waiting in between, the line is appended
      without syncs, leaving out progress whose ``.part`` is not synced yet. A crash of the
      app (the common case, kill -9) loses nothing written this way; a power cut can lose such
      lines but never makes them lie. Why: a sync costs ~0.3 ms alone but several ms while
      thousands of small files are being created (it commits their metadata too); one per
      150 files made the sync alone 10-20 % of a 100,000-file transfer.
    * when ``sync_batch`` (default ``batch_size``) ``.part`` files hold progress that is not
      synced yet, a durable batch too, so a crash loses at most that many files' progress.
      Several parts are synced with one sync of the whole file system (``core/store/durable.py``);
      the receiver raises ``sync_batch`` to its group commit's size, so one sync serves both.

    The batch counts distinct entries, because several updates of one entry in a batch cost a
    single journal line.
    ``clock`` (monotonic seconds) and ``now`` (wall time for timestamps and staleness) are
    injectable for tests; ``compact_min_bytes`` keeps tiny locks from compacting every batch;
    ``durable=False`` skips every fsync (only for tests and measurements).
    Not thread-safe: one receiver thread drives it.
    """

    def __init__(
        self,
        dest_dir: str | os.PathLike[str],
        *,
        listener: Listener | None = None,
        batch_size: int = 150,
        sync_batch: int | None = None,
        flush_interval: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], datetime] = datetime.now,
        stale_after: timedelta = STALE_AFTER,
        compact_min_bytes: int = 256 * 1024,
        durable: bool = True,
        destination: Destination | None = None,
    ) -> None:
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        self.dest_dir = Path(dest_dir)
        self._store = LockStore(self.dest_dir, destination=destination, durable=durable)
        self.listener = listener
        self.batch_size = batch_size
        self.sync_batch = max(1, sync_batch) if sync_batch is not None else batch_size
        self.flush_interval = flush_interval
        self.stale_after = stale_after
        self.compact_min_bytes = compact_min_bytes
        self.durable = durable
        self._sync_clock: SyncClock | None = None
        self._clock = clock
        self._now = now
        self._files: Mapping[str, dict[str, Any]] = {}
        self._header: dict[str, Any] | None = None  # None: no lock loaded or created
        self._dirty: dict[str, None] = {}  # ordered set of names changed since the last write
        self._unsynced_parts: dict[str, str] = {}  # .part files whose new length is unsynced
        self._must_compact = False  # the journal on disk does not continue our snapshot
        self._timestamp: datetime | None = None
        self._last_flush = clock()
        self.stale = False  # set by load() when it ignored a lock older than stale_after
        self.resumed = False  # the lock continues an interrupted session (set by create)
        self.load_notes: list[str] = []  # what load() tolerated (a torn journal line, ...)

    # ----------------------------------------------------------------- paths and queries
    @property
    def destination(self) -> Destination:
        """The gatekeeper of ``dest_dir``: every read and write of the lock goes through it
        (opened on first use; FileNotFoundError while the folder does not exist)."""
        return self._store.destination

    @property
    def sync_clock(self) -> SyncClock:
        """Whole-file-system syncs of this folder (shared with the receiver's group commit)."""
        if self._sync_clock is None:
            self._sync_clock = SyncClock(self.destination)
        return self._sync_clock

    @property
    def lock_path(self) -> Path:
        return self.dest_dir / LOCK_FILENAME

    @property
    def journal_path(self) -> Path:
        return self.dest_dir / JOURNAL_FILENAME

    @property
    def active(self) -> bool:
        """True once a lock was loaded or created (and not removed)."""
        return self._header is not None

    @property
    def session_id(self) -> str | None:
        return self._header["session_id"] if self._header else None

    @property
    def sender_ip(self) -> str | None:
        return self._header["sender_ip"] if self._header else None

    def __contains__(self, name: object) -> bool:
        return name in self._files

    def __len__(self) -> int:
        return len(self._files)

    def names(self) -> list[str]:
        return list(self._files)

    def entry(self, name: str) -> LockEntry | None:
        """The current (possibly unflushed) record of ``name``, or None if the lock lacks it."""
        e = self._files.get(name)
        if e is None:
            return None
        return LockEntry(
            name=name,
            status=e["status"],
            size=e["size"],
            transferred_bytes=e["transferred_bytes"],
            partial_hash=e.get("partial_hash"),
            original_hash=e.get("original_hash"),
            last_modified=e.get("last_modified"),
            reason=e.get("reason"),
            final_path=e.get("final_path"),
        )

    def record(self, name: str) -> tuple[FileStatus, int, str | None] | None:
        """``(status, transferred_bytes, partial_hash)`` of ``name``: a cheap ``entry()``."""
        e = self._files.get(name)
        return None if e is None else (e["status"], e["transferred_bytes"], e["partial_hash"])

    def status_of(self, name: str) -> FileStatus:
        """The current status of ``name`` (``KeyError`` if the lock lacks it)."""
        return self._files[name]["status"]

    def resume_bytes(self, name: str) -> int:
        """Bytes recorded as held for a partial file (0 when unknown, fresh, failed or done)."""
        e = self._files.get(name)
        if e is None or e["status"] not in _ACTIVE:
            return 0
        return e["transferred_bytes"] if e.get("partial_hash") else 0

    get_resume_bytes = resume_bytes  # the seed's name

    def summary(self) -> LockSummary:
        """Counts for the window's "Interrupted transfer found" banner."""
        if self._header is None:
            raise LockFileError("No transfer lock is loaded.", hint="")
        counts = dict.fromkeys(("completed", "partial", "pending", "failed"), 0)
        held = 0
        for e in self._files.values():
            status = e["status"]
            if status == FileStatus.COMPLETED:
                counts["completed"] += 1
                held += e["size"]
            elif status == FileStatus.FAILED:
                counts["failed"] += 1
            elif e["transferred_bytes"] > 0 and e.get("partial_hash"):
                counts["partial"] += 1
                held += e["transferred_bytes"]
            else:
                counts["pending"] += 1
        return LockSummary(
            **counts,
            total_files=len(self._files),
            total_size=sum(e["size"] for e in self._files.values()),
            held_bytes=held,
            sender_ip=self._header["sender_ip"],
            timestamp=self._timestamp or self._now(),
            session_id=self._header["session_id"],
        )

    @classmethod
    def inspect(cls, dest_dir: str | os.PathLike[str], **kwargs: Any) -> LockSummary | None:
        """Summary of an interrupted transfer in ``dest_dir``; None if there is none (or stale).

        Raises ``LockFileError`` when a lock is there but unreadable, so the window can offer
        "Discard".
        """
        manager = cls(dest_dir, **kwargs)
        return manager.summary() if manager.load() else None

    # ----------------------------------------------------------------- load and plan
    def load(self) -> bool:
        """Read the lock (snapshot + journal) of ``dest_dir`` into memory.

        Returns False when there is no lock or it is stale (older than ``stale_after`` by its
        timestamp, then ``self.stale`` is True); raises ``LockFileError`` for anything malformed
        or inconsistent. Never raises anything else on garbage.
        """
        self._reset_memory()
        state = self._store.read()
        if state is None:
            return False
        if self._now() - state.timestamp > self.stale_after:
            self.stale = True
            return False
        self._header = state.header
        self._files = state.files
        self._timestamp = state.timestamp
        self._must_compact = not state.journal_matched
        self.load_notes = state.notes
        self._last_flush = self._clock()
        return True

    def plan_resume(self, files: FileList) -> ResumePlan:
        """Sort the incoming ``files`` (name, size) against the loaded lock: `plan_resume`."""
        sizes = _size_map(files)
        return plan_resume(sizes.items(), self._files, self.destination, self.session_id)

    # ----------------------------------------------------------------- create / start
    def create(self, files: FileList, sender_ip: str, plan: ResumePlan | None = None) -> None:
        """Write a new lock for ``files`` (normalized names with sizes) from ``sender_ip``; a
        dict of sizes is kept by the lock, not copied (a million files: 40 MiB).

        With a ``plan`` the kept state carries over (skipped files stay completed, partial ones
        keep their verified prefix) and the interrupted session's id is reused.
        """
        sizes = _size_map(files)
        stamp = self._stamp()
        if set(map(type, sizes.values())) - {int} or min(sizes.values(), default=0) < 0:
            raise ValueError("every file of the list needs a size in whole bytes, 0 or more")
        total = sum(sizes.values())
        new_files: Mapping[str, dict[str, Any]]
        if plan is None or not plan.is_resume:  # all pending: the common case, kept cheap
            new_files = PendingEntries(sizes, stamp)  # (a record is made when a file changes)
        else:
            new_files = {
                name: carried_entry(name, size, plan, stamp) for name, size in sizes.items()
            }
        session = plan.session_id if plan is not None and plan.session_id else None
        self.resumed = session is not None
        self._header = {
            "version": LOCK_VERSION,
            "session_id": session or str(uuid.uuid4()),
            "timestamp": stamp,
            "sender_ip": sender_ip,
            "total_files": len(new_files),
            "total_size": total,
        }
        self._files = new_files
        self._dirty.clear()
        self._unsynced_parts.clear()
        self._compact(stamp)
        self._store.sync_folder()

    def start(self, files: FileList, sender_ip: str) -> ResumePlan:
        """Load any interrupted lock, plan the resume of ``files`` and write the new lock."""
        sizes = _size_map(files)
        self.load()
        if not self._files:  # nothing to resume: every file fresh, no plan entry made
            session = self.session_id
            self.create(sizes, sender_ip, ResumePlan(entries={}, session_id=session))
            assert isinstance(self._files, PendingEntries)
            return ResumePlan(entries=FreshEntries(self._files), session_id=session)
        plan = self.plan_resume(sizes)
        self.create(sizes, sender_ip, plan)
        return plan

    prepare = start  # the name the receiver uses

    # ----------------------------------------------------------------- changes
    def set_status(
        self,
        name: str,
        status: FileStatus,
        *,
        reason: str | None = None,
        original_hash: str | None = None,
        final_path: str | None = None,
        proof: list[int] | None = None,
    ) -> None:
        """Move ``name`` to ``status`` and tell the listener (nothing happens if unchanged).

        pending -> in_progress -> completed; failed from anything but completed; pending from
        anything (a retry, which forgets the held bytes). Raises ``KeyError`` for a name the lock
        lacks and ``ValueError`` for a transition that makes no sense. Called for every file of
        a transfer, so it is written for speed.
        """
        e = self._files[name]
        previous = e["status"]
        status = STATUSES[status]
        if status is FileStatus.IN_PROGRESS:
            if previous is not FileStatus.PENDING:
                if previous is FileStatus.IN_PROGRESS:
                    return
                raise ValueError(f"{name!r}: cannot go from {previous} to in_progress")
        elif status is FileStatus.COMPLETED:
            if previous is FileStatus.COMPLETED:
                return
            if previous is FileStatus.FAILED:
                raise ValueError(f"{name!r}: a failed file must be retried before it completes")
            if original_hash is not None:
                if not HEX64.fullmatch(original_hash):
                    raise ValueError(f"{name!r}: {original_hash!r} is not a SHA-256 hex digest")
                original_hash = lower(original_hash)
            else:
                original_hash = e["original_hash"]
            e["transferred_bytes"] = e["size"]
            e["partial_hash"] = e["original_hash"] = original_hash
            if final_path and final_path != name:
                e["final_path"] = final_path
            if proof is not None:
                e["proof"] = proof
            self._unsynced_parts.pop(name, None)
        elif status is FileStatus.FAILED:
            if previous is FileStatus.COMPLETED:
                raise ValueError(f"{name!r}: a completed file cannot fail")
            e["reason"] = reason or "failed"
            self._unsynced_parts.pop(name, None)
        else:  # pending: a retry starts over
            if previous is FileStatus.PENDING:
                return
            e["transferred_bytes"] = 0
            e["partial_hash"] = None
            e.pop("final_path", None)
            e.pop("proof", None)
            e.pop("reason", None)  # only a failed entry has one, and only pending follows it
            self._unsynced_parts.pop(name, None)
        e["status"] = status
        if self.listener is not None:  # before the write: a full disk must not hide the event
            self.listener(
                FileStatusChanged(
                    name,
                    status,
                    previous,
                    e.get("reason"),
                    final_path if status is FileStatus.COMPLETED else None,
                )
            )
        self._dirty[name] = None
        self._after_change()

    def mark_in_progress(self, name: str) -> None:
        self.set_status(name, FileStatus.IN_PROGRESS)

    def mark_completed(
        self,
        name: str,
        sha256_hex: str,
        final_path: str | None = None,
        proof: list[int] | None = None,
    ) -> None:
        """``proof``: `file_proof` of the named file, so a later resume can trust it unread."""
        self.set_status(
            name, FileStatus.COMPLETED, original_hash=sha256_hex, final_path=final_path, proof=proof
        )

    def mark_failed(self, name: str, reason: str) -> None:
        self.set_status(name, FileStatus.FAILED, reason=reason)

    def mark_pending(self, name: str) -> None:
        self.set_status(name, FileStatus.PENDING)

    def update_progress(
        self,
        name: str,
        transferred_bytes: int,
        partial_hash_hex: str,
        *,
        part_file: str | None = None,
    ) -> None:
        """Record that the ``.part`` of ``name`` holds ``transferred_bytes`` hashing to the hex.

        The first bytes of a pending file also move it to in_progress (one call, one event).
        Batched; before the batch is written the ``.part`` (``part_file``, relative to the
        folder; default: the part name of ``name``) is fsynced, so the lock never claims bytes
        that are not on disk.
        """
        e = self._files[name]
        status = e["status"]
        if not 0 <= transferred_bytes <= e["size"]:
            raise ValueError(f"{name!r}: {transferred_bytes} bytes is outside 0..{e['size']}")
        if not HEX64.fullmatch(partial_hash_hex):
            raise ValueError(f"{name!r}: {partial_hash_hex!r} is not a SHA-256 hex digest")
        if status is not FileStatus.IN_PROGRESS:
            if status is not FileStatus.PENDING:
                raise ValueError(f"{name!r} is {status}: progress makes no sense")
            if transferred_bytes:  # set_status(IN_PROGRESS), inlined: once per file
                e["status"] = FileStatus.IN_PROGRESS
                if self.listener is not None:
                    self.listener(FileStatusChanged(name, FileStatus.IN_PROGRESS, status))
        e["transferred_bytes"] = transferred_bytes
        e["partial_hash"] = lower(partial_hash_hex)
        if transferred_bytes:
            self._unsynced_parts[name] = part_file or part_name(name)
        else:
            self._unsynced_parts.pop(name, None)
        self._dirty[name] = None
        self._after_change()

    def _after_change(self) -> None:
        """Write a batch when one is due; see the class docstring for why two kinds."""
        if (
            self._clock() - self._last_flush >= self.flush_interval
            or len(self._unsynced_parts) >= self.sync_batch
        ):
            self.flush()
        elif len(self._dirty) - len(self._unsynced_parts) >= self.batch_size:
            self._write_batch(durable=False)

    # ----------------------------------------------------------------- writing
    def flush(self) -> None:
        """Make every change durable now: sync the ``.part`` files whose progress is recorded,
        write the batch (journal append or compaction) and sync the journal.

        Raises ``DiskFullError`` when there is no room; the changes stay pending in memory.
        """
        self._last_flush = self._clock()
        if self._header is not None:
            self._write_batch(durable=True)

    def _write_batch(self, durable: bool) -> None:
        """Append the pending entries as one journal line (or compact when that is due).

        Not durable: entries whose ``.part`` bytes are not synced yet stay pending (recording
        them now could claim bytes a power cut loses), and the journal is not synced (the
        line survives a crash of this process; a power cut may lose it, never falsify it).
        """
        held_back: Mapping[str, str] = {}
        if durable:
            self._sync_parts()
        else:
            held_back = self._unsynced_parts
        stamp = self._stamp()
        files = self._files
        batch = {}
        completed = FileStatus.COMPLETED
        for name in self._dirty:
            if name in held_back:
                continue
            e = files[name]
            e["last_modified"] = stamp
            status = e["status"]
            batch[name] = (
                status,
                e["transferred_bytes"],
                None if status is completed else e["partial_hash"],
                e["original_hash"],
                e.get("reason"),
                e.get("final_path"),
                e.get("proof"),
            )
        if not batch:
            if durable and self._store.journal_unsynced:
                self._append_journal(b"", sync=True)
            return
        data = (ENCODE({"t": stamp, "batch": batch}) + "\n").encode("utf-8")
        limit = max(self._store.snapshot_bytes, self.compact_min_bytes)
        if self._must_compact or self._store.journal_bytes + len(data) > limit:
            if not durable:
                self._sync_parts()  # the snapshot records every entry, held back or not
            self._compact(stamp)
            self._dirty.clear()
            return
        self._append_journal(data, sync=durable)
        if held_back:
            for name in batch:
                del self._dirty[name]
        else:
            self._dirty.clear()

    def _sync_parts(self) -> None:
        """Make the .part files whose new length is about to be recorded durable.

        One sync of the whole file system when there are several (``core/store/durable.py``), an
        fsync each otherwise.
        """
        if self.durable and self._unsynced_parts:
            by_path = {path: name for name, path in self._unsynced_parts.items()}
            for path, err in self.sync_clock.sync_files(list(self._unsynced_parts.values())):
                if is_disk_full(err):
                    raise DiskFullError(disk_full_message(self.dest_dir)) from err
                # The bytes cannot be vouched for: record nothing held rather than a lie.
                e = self._files[by_path[path]]
                e["transferred_bytes"], e["partial_hash"] = 0, None
        self._unsynced_parts.clear()

    def _append_journal(self, data: bytes, *, sync: bool) -> None:
        try:
            self._store.append(data, sync=sync)
        except JournalGone:  # deleted, or replaced by something else: a full snapshot instead
            self._sync_parts()
            self._compact(self._stamp())
            self._dirty.clear()

    def _compact(self, stamp: str) -> None:
        """Rewrite the snapshot with every entry and start an empty journal."""
        assert self._header is not None
        header = dict(self._header, timestamp=stamp)
        files = self._files
        pieces = files.encoded() if isinstance(files, PendingEntries) else encode_entries(files)
        self._store.write_snapshot(header, pieces)
        self._header = header
        self._timestamp = parse_time(stamp)
        self._must_compact = False

    def _stamp(self) -> str:
        return self._now().isoformat()

    # ----------------------------------------------------------------- ending
    def close(self) -> None:
        """Write what is pending and fold the journal into the snapshot (the receiver calls this
        when a transfer stops), so a tool that reads only ``.transfer_lock.json`` — ftransfer,
        or a person — sees the latest state. One rewrite per stop keeps the work linear."""
        self.flush()
        if self._header is not None:
            self._compact(self._stamp())

    def __enter__(self) -> TransferLockManager:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._header is not None and exc[0] is None:
            self.flush()

    def remove(self) -> None:
        """Delete lock and journal after a fully successful transfer."""
        self._store.remove()
        self._reset_memory()

    def discard(self) -> list[Path]:
        """The window's "Discard": delete lock, journal and the ``.part`` files the lock names.

        Only regular ``.part`` files of names that are safe inside ``dest_dir`` are deleted
        (never a folder, a symlink, a completed file or anything the lock does not name). Works
        on a malformed lock too: then only lock and journal go. Returns the deleted parts.
        """
        names: list[str] = list(self._files)
        if not names:
            try:
                state = self._store.read()
            except LockFileError:
                state = None
            names = list(state.files) if state else []
        removed: list[Path] = []
        dest = self.destination
        for name in names:
            try:
                part = part_name(normalized_name(name))
                st = dest.lstat(part)
                if st is not None and stat.S_ISREG(st.st_mode) and dest.unlink(part):
                    removed.append(dest.path(part))
            except (OSError, UnsafeNameError):
                continue  # a symlink on the way, or a name no file can have: left alone
        self.remove()
        return removed

    def _reset_memory(self) -> None:
        self._files = {}
        self._header = None
        self._dirty.clear()
        self._unsynced_parts.clear()
        self._store.forget()
        self._must_compact = False
        self._timestamp = None
        self.stale = False
        self.load_notes = []


# --------------------------------------------------------------------- helpers
def _size_map(files: FileList) -> dict[str, int]:
    """name -> size of ``files``, in the list's order; a dict is taken as it is. No pair is
    kept per file (a million tuples: 64 MiB while the lock is made)."""
    if type(files) is dict:
        return files
    count = 0

    def pairs() -> Iterator[tuple[str, int]]:
        nonlocal count
        for f in files:
            count += 1
            yield (f.name, f.size) if isinstance(f, FileInfo) else (f[0], f[1])

    sizes = dict(pairs())
    if len(sizes) != count:
        raise ValueError("the file list names a file twice")
    return sizes
