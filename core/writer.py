"""FileWriter: one incoming file, written chunk by chunk into ``name.part``, verified, then named.

Follows the seed spec (``seed/FileWriter.md``) except where the seed is unsafe; there DESIGN.md's
invariants win:

* Reaching ``size`` does not rename. ``complete_file(expected_sha256)`` compares the hash first
  and renames only on a match; a mismatch leaves ``name.part`` and marks the file failed
  (invariant 2: a corrupt file never masquerades as complete).
* Resume keeps the longest prefix it can vouch for: the lock records a length and the SHA-256
  of that prefix; a longer ``.part`` is cut back to it, a shorter one or a wrong hash starts
  fresh. Bytes without a recorded hash are never trusted (invariant 4).
* Overwrite uses ``os.replace`` and never deletes a folder (invariant 3); without overwrite the
  file lands under a free ``name_1.ext`` name, claimed with a hard link so that a file created
  meanwhile is never replaced.
* Each chunk is written at offset ``written`` (not appended) after checking the ``.part``'s
  length, so leftovers of a failed write can never shift the content the hash describes.
* The ``.part`` is made durable before the rename (``fsync=True``), so a power cut cannot leave
  a short file under the final name; the lock's "completed" may lag by one batch, and a resumed
  writer recognises a file under its final name that holds exactly its verified bytes as its
  own earlier result (no ``name_1`` duplicate after a crash between rename and lock). Many
  small files share one sync: `GroupCommit` verifies each as it ends, then makes a group
  durable with a single sync of the file system before naming them (see ``core/store/durable.py``).
* Only a full disk stops the transfer (``DiskFullError``, state kept); every other error fails
  just this file, is logged to ``transfer_warnings.log`` and makes later chunks return 0.
* The seed writes by path (``open(self.part_file, 'ab')``), which follows a symlink or a hard
  link planted in the destination. Every operation here goes through the folder's one
  `Destination` (held descriptors, nothing followed): the ``.part`` is created exclusively, a
  ``.part`` taken over from an earlier session must be a regular file with one link, and the
  ``.part`` this writer made is recognised by its identity each time it is opened again.
* The lock never claims more than the ``.part`` holds: before bytes are thrown away (a fresh
  start, a retry, a cut back), the lower figure is recorded first.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import sys
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import DiskFullError, is_disk_full
from .events import FileStatus
from .paths import WARNINGS_LOG
from .peertext import safe_text
from .progress import format_size
from .store.destination import Destination, EscapeError, NotRegularFileError, SharedFileError
from .store.lockfile import file_proof
from .store.partfile import PartChanged, PartFile, prefix_hash, prefix_hashes

if TYPE_CHECKING:
    from .lock import TransferLockManager


class FileWriter:
    """Writes one file of a transfer into its ``.part``, verifies it and gives it its final name.

    ``filename`` is the full target path (its name already checked by ``paths.split_name``);
    ``offset`` is the file's start in the unified stream. With a ``lock_manager`` every status
    change (pending -> in_progress -> completed, or failed) and the held length are recorded
    under ``lock_key`` (default: ``filename`` relative to the lock's folder). Every file-system
    operation goes through ``destination`` (default: the lock's, else one for the file's
    folder); ``target``: where the file lands, relative to it (default: ``lock_key``).
    """

    def __init__(
        self,
        filename: str | os.PathLike[str],
        size: int,
        offset: int,
        lock_manager: TransferLockManager | None = None,
        overwrite_mode: bool = False,
        *,
        lock_key: str | None = None,
        fsync: bool = True,
        destination: Destination | None = None,
        target: str | None = None,
        warnings_log: str | os.PathLike[str] | None = None,
    ) -> None:
        if size < 0 or offset < 0:
            raise ValueError("size and offset must not be negative")
        self.filename = os.fspath(filename)
        self.size = size
        self.offset = offset
        self.written = 0
        self._hasher: hashlib._Hash | None = None  # see `hasher`
        self.is_complete = False
        self.lock_manager = lock_manager
        self.needs_rehash = False
        self.overwrite_mode = overwrite_mode
        # Inlet's additions
        self.fsync = fsync  # fsync the .part before the rename: a power cut cannot leave junk
        self.resumed_bytes = 0  # verified prefix kept from an earlier session
        self._final: str | None = None  # where the file landed (``final_path``)
        self.failure_reason: str | None = None
        if lock_manager is not None:
            root = lock_manager.dest_dir
        elif destination is not None:
            root = destination.root
        else:  # a writer on its own: its folder, or the nearest one that exists
            root = Path(self.filename).parent
            while not root.is_dir() and root != root.parent:
                root = root.parent
        if lock_key is None:
            path = Path(self.filename)
            try:
                lock_key = path.relative_to(root).as_posix()
            except ValueError:
                lock_key = path.name
        self.lock_key = lock_key
        self.dest_dir = root
        if destination is None:
            destination = lock_manager.destination if lock_manager else Destination(root)
        self.destination = destination
        self.target = target or lock_key  # relative to the destination
        self._part = PartFile(destination, self.target)
        #: a deferred fresh file's first chunk may replace a .part standing there (a stale one);
        #: the receiver says no when it saw none, so a second file the folder considers the
        #: same name fails instead of sharing the first one's .part
        self._replace_stale = True
        self._log_rel = WARNINGS_LOG
        if warnings_log is not None:
            self._log_rel = Path(warnings_log).absolute().relative_to(root.absolute()).as_posix()
        self.verified = False  # every byte held and its SHA-256 matched; not named yet
        self.sync_mark = 0  # SyncClock reading when the last byte was written (GroupCommit)
        # The file's status and the held bytes and prefix hash recorded for it live in one
        # place: its lock entry (read there, never copied), or this writer's own record when
        # it has no lock.
        self._record: _LockRecord | _OwnRecord
        if lock_manager is not None:
            if lock_key not in lock_manager:
                raise KeyError(f"the transfer lock has no entry for {lock_key!r}")
            self._record = _LockRecord(lock_manager, lock_key)
        else:
            self._record = _OwnRecord()
        self._resume_request = 0
        self._deferred = False  # fresh, and its .part not created yet (open_for_writing)
        self._prefix_sha256: str | None = None
        self._retryable = False
        # Resuming an interrupted session: a file already under its final name with exactly
        # this content is our own earlier result (see _claim_free_name).
        self._resuming = bool(lock_manager is not None and lock_manager.resumed)

    # ----------------------------------------------------------------- state
    @property
    def final_path(self) -> Path | None:
        """Where the verified file landed (``name`` or ``name_1.ext``); None until then."""
        return None if self._final is None else Path(self._final)

    @property
    def final_name(self) -> str | None:
        """`final_path` as text."""
        return self._final

    @property
    def part_file(self) -> Path:
        """``name.part``: where the bytes stay until the file is verified and named."""
        return self.destination.path(self._part.rel)

    @property
    def part_rel(self) -> str:
        """`part_file` relative to the destination."""
        return self._part.rel

    @property
    def warnings_log(self) -> Path:
        """Where problems are logged (``transfer_warnings.log`` in the destination)."""
        return self.destination.path(self._log_rel)

    @property
    def all_bytes_held(self) -> bool:
        """Every byte is in the ``.part`` (the hash is still to be checked)."""
        return not self.needs_rehash and self.written == self.size

    @property
    def status(self) -> FileStatus:
        """pending, in_progress, completed or failed: what its lock entry says."""
        return self._record.status

    @property
    def failed(self) -> bool:
        return self._record.status is FileStatus.FAILED

    @property
    def failed_reason(self) -> str | None:
        """Why the file failed, in words for a person (None while it has not failed)."""
        reason = self.failure_reason  # (set by every failure: the lock is asked only then)
        return reason if reason is not None and self.failed else None

    @property
    def retryable(self) -> bool:
        """Failed in a way a resend can fix (bad hash, missing bytes), not a local refusal."""
        return self.failed and self._retryable

    def set_overwrite(self, enabled: bool) -> None:
        """Change the row's overwrite choice; it is read when the file is completed."""
        self.overwrite_mode = enabled

    # ----------------------------------------------------------------- opening and resume
    @property
    def hasher(self) -> hashlib._Hash:
        """SHA-256 of the bytes held so far, made on first use: a list of 100,000 files has as
        many writers waiting for their first byte, and each OpenSSL context costs ~250 bytes."""
        if self._hasher is None:
            self._hasher = hashlib.sha256()
        return self._hasher

    @hasher.setter
    def hasher(self, value: hashlib._Hash) -> None:
        self._hasher = value

    def open_for_writing(
        self,
        resume_bytes: int = 0,
        *,
        prefix_sha256: str | None = None,
        keep_part: bool = False,
        defer_create: bool = False,
        replace_stale: bool = True,
    ) -> None:
        """Prepare the ``.part``: create parent folders, then start fresh or plan a resume.

        With ``resume_bytes`` > 0 the held prefix is verified later, by ``verify_prefix``
        (explicitly, or lazily on the first chunk), against ``prefix_sha256`` or the lock's
        ``partial_hash`` for exactly that length. ``keep_part`` leaves an existing ``.part``
        alone even without a recorded prefix, for `resume_candidates` (a sender that vouches for
        prefixes may confirm more than the lock recorded). ``defer_create``: starting fresh,
        leave the folders and the empty ``.part`` to the first chunk (which truncates whatever
        stands there), so a list of 100,000 files costs no file-system work before its bytes
        arrive. A folder that cannot be created (a file in its place, no permission) fails this
        file only; a full disk raises ``DiskFullError``. ``replace_stale=False``: the caller saw
        no ``.part``, so one found by the first chunk is not this file's (it fails).
        """
        self._replace_stale = replace_stale
        if resume_bytes < 0:
            raise ValueError("resume_bytes must not be negative")
        self.is_complete = self.verified = False
        self._final = None
        self.written = self.resumed_bytes = 0
        self._hasher = None
        try:
            self.filename.encode(sys.getfilesystemencoding(), "surrogateescape")
        except UnicodeEncodeError:  # e.g. a lone surrogate sent as "\ud800" in the metadata
            self._fail(f"{self.lock_key!r}: this name cannot be stored on this file system")
            return
        if resume_bytes > self.size:
            self._log(f"the lock claims {resume_bytes} of {self.size} bytes; starting fresh")
            resume_bytes = 0
        if defer_create and resume_bytes == 0 and not keep_part:
            self.needs_rehash = False
            self._deferred = True  # the first chunk creates the .part
            if self._record.held and self.status in _ACTIVE:
                self._record_shrink(0, hashlib.sha256().hexdigest())  # it forgets what it held
            return
        if resume_bytes == 0 and not (keep_part and self._part.stat() is not None):
            self.needs_rehash = False
            self._start_fresh(None)
            return
        if prefix_sha256 is None and self._record.held == resume_bytes:
            prefix_sha256 = self._record.prefix
        self._resume_request = resume_bytes
        self._prefix_sha256 = prefix_sha256.lower() if prefix_sha256 else None
        self.needs_rehash = True

    def verify_prefix(self) -> int:
        """Verify the held prefix once and return the verified held byte count.

        Callable before the stream starts (the receiver tells the sender what it holds); the
        first ``write_chunk``/``needs_data`` calls it otherwise. A ``.part`` longer than the
        recorded length is cut back when the recorded prefix hashes right; a shorter one, a
        wrong hash or no recorded hash means starting fresh (the log says why).
        """
        if not self.needs_rehash:
            return self.written
        self.needs_rehash = False
        want, expected = self._resume_request, self._prefix_sha256
        if expected is None:
            return self._start_fresh(f"no hash is recorded for the {want} bytes held")
        try:
            fd = self._part.take_over()
        except FileNotFoundError:
            return self._start_fresh("its .part file is missing")
        except OSError as err:
            return self._start_fresh(self._unusable_part(err))
        try:
            held = os.fstat(fd).st_size
            if held < want:
                return self._start_fresh(f"the .part holds {held} bytes, {want} were recorded")
            hasher = prefix_hash(fd, want)
            if hasher is None:
                return self._start_fresh("the .part shrank while it was checked")
            if hasher.hexdigest() != expected:
                return self._start_fresh(
                    f"the first {want} bytes held do not match the recorded hash"
                )
            if held > want:
                try:
                    os.ftruncate(fd, want)
                    self._log(f"cut the .part back from {held} to the {want} verified bytes")
                except OSError as err:  # writes go at offset `written`, so this stays correct
                    self._log(f"could not cut the .part back to {want} bytes: {err.strerror}")
        except OSError as err:
            return self._start_fresh(f"its .part could not be read ({err.strerror or err})")
        finally:
            os.close(fd)
        self.hasher = hasher
        self.written = self.resumed_bytes = want
        return want

    def resume_candidates(self) -> list[tuple[int, str]]:
        """Prefixes of the ``.part`` a sender could vouch for, longest first: ``(length, sha256)``.

        Only for a sender that checks prefixes against its source (the Inlet extension). After a
        kill the ``.part`` usually holds more than the lock recorded (the lock is written in
        batches); the whole ``.part`` is offered first, the recorded prefix second, so a torn
        tail costs only the bytes after the last checkpoint. Reads the ``.part`` once; nothing
        is trusted until `adopt_prefix` is told what the sender verified.
        """
        self.needs_rehash = False
        self._candidates: dict[int, hashlib._Hash] = {}
        recorded = self._resume_request
        try:
            fd = self._part.take_over()
        except FileNotFoundError:
            fd = None
        except OSError as err:
            self._log(self._unusable_part(err))
            fd = None
        if fd is not None:
            try:
                held = min(os.fstat(fd).st_size, self.size)
                self._candidates = prefix_hashes(fd, held, recorded)
            except OSError as err:
                self._candidates.clear()
                self._log(f"its .part could not be read ({err.strerror or err}); starting fresh")
            finally:
                os.close(fd)
        if (
            recorded in self._candidates
            and self._prefix_sha256 is not None
            and self._candidates[recorded].hexdigest() != self._prefix_sha256
        ):
            # the recorded checkpoint no longer matches; the sender may still vouch for all
            del self._candidates[recorded]
            self._log(f"the first {recorded} bytes held do not match the recorded hash")
        return [(n, h.hexdigest()) for n, h in sorted(self._candidates.items(), reverse=True)]

    def adopt_prefix(self, length: int) -> None:
        """Keep the first ``length`` bytes the sender verified (0: start fresh); record them."""
        candidates = vars(self).pop("_candidates", {})  # no empty dict left in 100,000 writers
        hasher = candidates.get(length)
        if length == 0 and not candidates and self._deferred and not self.written:
            return  # nothing was held or offered: still fresh, the first chunk makes the .part
        if length == 0 or hasher is None:
            held = max(candidates, default=0)
            why = f"the sender's file does not match the {held} bytes held" if held else None
            self._start_fresh(why if length == 0 else f"no verified prefix of {length} bytes")
            return
        if length < self._record.held:
            self._record_shrink(length, hasher.hexdigest())
        try:
            self._part.cut_back(length)
        except (OSError, PartChanged) as err:
            why = err.strerror if isinstance(err, OSError) else str(err)
            self._start_fresh(f"its .part could not be cut back ({why or err})")
            return
        self.hasher = hasher
        self.written = self.resumed_bytes = length
        self._record_progress()  # (a pending file is in progress from now on)

    def _start_fresh(self, why: str | None) -> int:
        """Replace the ``.part`` by a new, empty one and forget any held bytes (logging ``why``
        if resuming failed). The lock forgets them first, so it never claims bytes that are
        gone."""
        if why:
            self._log(f"resume not possible, {why}; receiving it from the start")
        self._hasher = None
        self.written = self.resumed_bytes = 0
        if self._record.held and self.status in _ACTIVE:
            self._record_shrink(0, hashlib.sha256().hexdigest())
        try:
            self._create_part(replace=True)
        except _AlreadyFailed:
            return 0
        self._deferred = False
        return 0

    def _record_shrink(self, held: int, prefix_sha256: str) -> None:
        """Record, durably and before the bytes go, that only ``held`` bytes are kept."""
        self._record.progress(held, prefix_sha256, None)
        self._record.flush()

    # ----------------------------------------------------------------- the .part on disk
    def _create_part(self, *, replace: bool, keep_open: bool = False) -> int:
        """Create the ``.part`` exclusively (and its folders) and close it; returns 0.

        ``replace``: a ``.part`` standing there is stale (known before this session, or this
        writer's own) and is removed first. Without it, an existing ``.part`` means another
        file of this transfer has the same name here (a folder that ignores case or accents
        the probe missed) or something planted one meanwhile: this file fails.
        Raises `_AlreadyFailed` when the file failed (reason logged). ``keep_open``: return
        the descriptor (for writing) instead of closing it."""
        try:
            fd = self._part.create(replace=replace, keep_open=keep_open)
        except FileExistsError:
            self._fail(
                f"{self.lock_key}: another file of this transfer has the same name in this "
                "folder (it ignores case or accents), or something else made its .part"
            )
            raise _AlreadyFailed from None
        except NotADirectoryError as err:
            self._fail(f"{self.lock_key}: a file stands where its folder should be", str(err))
            raise _AlreadyFailed from None
        except EscapeError as err:
            self._fail(f"{self.lock_key}: its folder is a symlink in the destination", str(err))
            raise _AlreadyFailed from None
        except NotRegularFileError as err:
            self._fail(self._unusable_part(err))
            raise _AlreadyFailed from None
        except IsADirectoryError:
            self._fail(f"{self.lock_key}: a folder stands where its .part should be")
            raise _AlreadyFailed from None
        except OSError as err:
            self._os_failure(err, "could not create its .part file")
            raise _AlreadyFailed from None
        return fd or 0

    def _unusable_part(self, err: OSError) -> str:
        if isinstance(err, SharedFileError):
            return f"{self.lock_key}: its .part has other hard links, so it was not used"
        if isinstance(err, NotRegularFileError):
            return f"{self.lock_key}: its .part is not a regular file (a FIFO, device or link)"
        if isinstance(err, EscapeError):
            return f"{self.lock_key}: its folder is a symlink in the destination"
        return f"{self.lock_key}: its .part could not be opened ({err.strerror or err})"

    # ----------------------------------------------------------------- writing
    def needs_data(self, stream_position: int) -> bool:
        """True if stream byte ``stream_position`` belongs to this file and is not held yet."""
        if self.is_complete or self.failed:
            return False
        if self.needs_rehash:
            self.verify_prefix()
        return self.offset + self.written <= stream_position < self.offset + self.size

    def write_chunk(self, data: bytes | bytearray | memoryview) -> int:
        """Write the next bytes of the file at its end and return how many were taken.

        Takes at most ``size - written`` bytes; returns 0 for a failed or completed file (the
        caller still consumes that file's share of the stream). A write error fails this file
        (status failed, reason logged); a full disk raises ``DiskFullError`` with every byte
        written so far kept for resume.
        """
        if self.is_complete or self.failed:
            return 0
        if self.needs_rehash:
            self.verify_prefix()
            if self.failed:
                return 0
        n = min(len(data), self.size - self.written)
        if n <= 0:
            return 0
        view = memoryview(data)[:n]
        start = self.written
        try:
            self._write_at(start, view)
        except _AlreadyFailed:
            return 0
        except PartChanged as err:
            self._fail(str(err))
            return 0
        except OSError as err:
            with contextlib.suppress(OSError, PartChanged):
                self._part.cut_back(start)
            self._os_failure(err, "could not be written")
            return 0
        self.hasher.update(view)
        self.written = start + n
        self._record_progress()
        return n

    def _record_progress(self) -> None:
        """Tell the lock what the ``.part`` holds now (it syncs the bytes before recording)."""
        self._record.progress(self.written, self.hasher.hexdigest(), self._part.rel)

    def _write_at(self, position: int, view: memoryview) -> None:
        """The first chunk of a fresh file creates its ``.part`` (exclusively, with its
        folders); later writes check that it is still this writer's file and its length."""
        fd = None
        if not self._part.made:
            fd = self._create_part(replace=self._replace_stale, keep_open=True)
            self._deferred = False
        try:
            self._part.write_at(position, view, fd)
        except (EscapeError, NotRegularFileError, SharedFileError, FileNotFoundError) as err:
            raise PartChanged(self._unusable_part(err)) from err

    # ----------------------------------------------------------------- completing
    def complete_file(self, expected_sha256: str) -> bool:
        """Verify the held bytes against the sender's SHA-256, then give the file its name.

        Returns True when the file is verified and under ``final_path``. A mismatch or missing
        bytes mark it failed and keep ``name.part``; a rename that fails is logged, tried once
        under a suffixed name, else the file fails. A full disk raises ``DiskFullError``.
        (`verify` then `finalize`; `GroupCommit` runs the two apart to share one sync.)
        """
        if self.is_complete:
            return True
        return self.verify(expected_sha256) and self.finalize()

    def verify(self, expected_sha256: str) -> bool:
        """Check that every byte is held and hashes to the sender's SHA-256 (nothing renamed).

        A mismatch or missing bytes mark the file failed (retryable) and keep ``name.part``.
        """
        if self.is_complete or self.verified:
            return True
        if self.failed:
            return False
        if self.needs_rehash:
            self.verify_prefix()
            if self.failed:
                return False
        if self.written != self.size:
            self._fail(f"only {self.written} of {self.size} bytes arrived", retryable=True)
            return False
        digest = self.hasher.hexdigest()
        if digest != expected_sha256.strip().lower():
            detail = f"got {digest}, the sender has {expected_sha256}"
            self._fail("hash mismatch", detail, retryable=True)
            return False
        self.verified = True
        return True

    def finalize(self, *, synced: bool = False) -> bool:
        """Give a verified file its final name: make the ``.part`` durable, rename, record.

        ``synced``: the caller already made the ``.part``'s bytes durable (a group sync), so
        no fsync of its own is needed. Returns True when the file is under ``final_path``.
        """
        if self.is_complete:
            return True
        if not self.verified or self.failed:
            return False
        if self.status is FileStatus.PENDING:
            self._set_status(FileStatus.IN_PROGRESS)
        if not self._part.made and not self.size:
            # a zero-byte file: its (empty) .part and its folders are made now
            try:
                self._create_part(replace=self._part.stat() is not None)
            except _AlreadyFailed:
                return False
        try:
            final, st = self._part.name_file(
                self.size,
                overwrite=self.overwrite_mode,
                sync=self.fsync and not synced,
                own_sha256=self.hasher.hexdigest() if self._resuming else None,
                log=self._log,
            )
        except PartChanged as err:
            self._fail(str(err))
            return False
        except (EscapeError, NotRegularFileError, SharedFileError) as err:
            self._fail(self._unusable_part(err))
            return False
        except OSError as err:
            self._os_failure(err, "could not be given its final name")
            return False
        self._final = self.filename if final == self.target else self.destination.path_text(final)
        self.is_complete = True
        self._record.completed(
            self.hasher.hexdigest(), final, file_proof(st) if st is not None else None
        )
        return True

    # ----------------------------------------------------------------- retry and misc
    def reset_for_retry(self) -> None:
        """Forget everything held (after a failed verification) and accept the file again.

        Sets the lock entry back to pending (durably, when it recorded bytes), then deletes the
        ``.part`` and clears hash and counters.
        """
        recorded = self._record.held
        self.failure_reason = None
        self._set_status(FileStatus.PENDING)
        if recorded:
            self._record.flush()
        try:
            self._part.remove()
        except OSError as err:  # the next write starts a new one anyway
            self._log(f"could not delete the .part for a retry ({err.strerror or err})")
        self._hasher = None
        self.written = self.resumed_bytes = 0
        self.needs_rehash = False
        self.is_complete = self.verified = False
        self._final = None

    def get_hash(self) -> str:
        """SHA-256 (hex) of the bytes held so far."""
        if self.needs_rehash:
            self.verify_prefix()
        return self.hasher.hexdigest()

    def close(self) -> None:
        """Nothing to release: no handle is kept between chunks (kept for the seed's API)."""

    # ----------------------------------------------------------------- failures
    def _os_failure(self, err: OSError, what: str) -> None:
        """A full disk stops the transfer; any other error fails this file only."""
        detail = err.strerror or str(err)
        if is_disk_full(err):
            self._log(f"{what}: {detail} (disk full; the transfer stops, resume later)")
            raise DiskFullError(
                f"The disk is full: {self.lock_key} {what} ({detail}). "
                f"{format_size(self.written)} of it is kept."
            ) from err
        if err.errno in (errno.EACCES, errno.EPERM):
            reason = f"permission denied: {self.lock_key} {what}"
        else:
            reason = f"{self.lock_key} {what}: {detail}"
        self._fail(reason)

    def not_saved(self, err: OSError) -> None:
        """The sync that was to make the verified bytes durable failed: the file is not named
        (a full disk raises ``DiskFullError``, any other error fails this file)."""
        self.verified = False
        self._os_failure(err, "could not be saved to disk")

    def mark_failed(self, reason: str, *, retryable: bool = True) -> None:
        """Fail this file from outside (the sender could not resend it); its ``.part`` stays."""
        self._fail(reason, retryable=retryable)

    def _fail(self, reason: str, detail: str | None = None, *, retryable: bool = False) -> None:
        self._log(f"{reason} ({detail})" if detail else reason)
        self.failure_reason = reason
        self._retryable = retryable
        self._set_status(FileStatus.FAILED, reason=reason)

    def _set_status(self, status: FileStatus, reason: str | None = None) -> None:
        self._record.set_status(status, reason)

    def _log(self, message: str) -> None:
        """Append one line to ``transfer_warnings.log``; logging must never stop a transfer."""
        # names and reasons come from the peer: escaped, one line (DESIGN.md invariant 7)
        text = safe_text(f"{self.lock_key}: {message}", limit=None)
        line = f"{datetime.now().isoformat(timespec='seconds')} {text}\n"
        with contextlib.suppress(OSError):
            self.destination.append(self._log_rel, line.encode("utf-8", "backslashreplace"))


class _AlreadyFailed(Exception):
    """The file was failed (and logged) already; the caller just stops."""


_ACTIVE = (FileStatus.PENDING, FileStatus.IN_PROGRESS)


class _LockRecord:
    """A writer's file as its lock entry records it: every read and change goes to the lock
    (which tells the listener of each status change)."""

    __slots__ = ("_key", "_lock")

    def __init__(self, lock: TransferLockManager, key: str) -> None:
        self._lock, self._key = lock, key

    @property
    def status(self) -> FileStatus:
        return self._lock.status_of(self._key)

    @property
    def held(self) -> int:
        """Bytes recorded as held (0 until progress is recorded)."""
        return self._lock.record(self._key)[1]  # type: ignore[index]

    @property
    def prefix(self) -> str | None:
        return self._lock.record(self._key)[2]  # type: ignore[index]

    def set_status(self, status: FileStatus, reason: str | None) -> None:
        self._lock.set_status(self._key, status, reason=reason)

    def progress(self, held: int, prefix: str, part_file: str | None) -> None:
        """The first bytes of a pending file also move it to in_progress."""
        self._lock.update_progress(self._key, held, prefix, part_file=part_file)

    def completed(self, sha256: str, final: str, proof: list[int] | None) -> None:
        self._lock.mark_completed(self._key, sha256, final, proof=proof)

    def flush(self) -> None:
        self._lock.flush()


class _OwnRecord:
    """The same for a writer without a lock: its own status, nothing durable."""

    __slots__ = ("held", "prefix", "status")

    def __init__(self) -> None:
        self.status = FileStatus.PENDING
        self.held, self.prefix = 0, None

    def set_status(self, status: FileStatus, reason: str | None) -> None:
        self.status = status
        if status is FileStatus.PENDING:  # a retry forgets what was held
            self.held, self.prefix = 0, None

    def progress(self, held: int, prefix: str, part_file: str | None) -> None:
        self.held, self.prefix = held, prefix
        if held and self.status is FileStatus.PENDING:
            self.status = FileStatus.IN_PROGRESS

    def completed(self, sha256: str, final: str, proof: list[int] | None) -> None:
        self.status = FileStatus.COMPLETED
        self.held, self.prefix = 0, None

    def flush(self) -> None:
        pass
