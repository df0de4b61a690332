"""Where the resume state lives on disk: the snapshot ``.transfer_lock.json`` and its journal.

Reading, rewriting and appending, through the destination's gatekeeper, with the crash rules of
DESIGN.md's invariant 4: the snapshot goes to a temp file that is fsynced and renamed over the
old one; a journal line is appended whole (a torn tail from a crash is cut off first) and
fdatasynced when the batch is durable. What is written, and when, is the policy's business
(``core/lock.py``); the bytes' format is ``lockfile.py``'s.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import secrets
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ..errors import DiskFullError, LockFileError, is_disk_full
from ..paths import JOURNAL_FILENAME, LOCK_FILENAME
from .destination import Destination, EscapeError, NotRegularFileError, SharedFileError
from .lockfile import (
    ENCODE,
    LoadedState,
    joined,
    journal_header,
    parse_json,
    replay_journal,
    validate_snapshot,
)

LOCK_TMP = LOCK_FILENAME + ".tmp"
_fdatasync = getattr(os, "fdatasync", os.fsync)  # macOS and Windows have no fdatasync


class JournalGone(Exception):
    """The journal was deleted or replaced by something else: only a new snapshot continues."""


class LockStore:
    """The two files of one destination's resume state and what is known of their sizes.

    ``durable=False`` skips every sync (only for tests and measurements).
    """

    def __init__(
        self, dest_dir: Path, *, destination: Destination | None = None, durable: bool = True
    ) -> None:
        self.dest_dir = dest_dir
        self._destination = destination
        self.durable = durable
        self.generation = ""  # the journal the snapshot on disk expects
        self.snapshot_bytes = 0
        self.journal_bytes = 0  # valid bytes of the journal: a torn tail beyond is cut off
        self.journal_unsynced = False  # lines were appended since the journal's last sync

    @property
    def destination(self) -> Destination:
        """Opened on first use; FileNotFoundError while the folder does not exist."""
        if self._destination is None:
            self._destination = Destination(self.dest_dir)
        return self._destination

    def forget(self) -> None:
        self.generation = ""
        self.snapshot_bytes = self.journal_bytes = 0
        self.journal_unsynced = False

    # ----------------------------------------------------------------- reading
    def read(self) -> LoadedState | None:
        """Parse and validate snapshot + journal; None when there is no lock file.

        Also remembers the sizes, so appends continue exactly after the last valid line."""
        try:
            raw = self.destination.read_bytes(LOCK_FILENAME)
        except FileNotFoundError:
            return None
        except (NotRegularFileError, EscapeError) as err:
            raise LockFileError(
                f"{LOCK_FILENAME} is not a regular file (a symlink or a device?).",
                hint="Discard the interrupted transfer, or choose another folder.",
            ) from err
        except OSError as err:
            raise LockFileError(f"{LOCK_FILENAME} cannot be read: {err.strerror or err}.") from err
        doc = parse_json(raw, LOCK_FILENAME)
        header, files, stamp = validate_snapshot(doc)
        extras = doc.get("inlet")
        generation = extras.get("journal") if isinstance(extras, dict) else None
        state = LoadedState(header=header, files=files, timestamp=stamp)
        if isinstance(generation, str) and generation:
            state.generation = generation
            self._replay_journal(state, header["session_id"], generation)
        self.generation = state.generation
        self.journal_bytes = state.journal_valid_bytes
        self.snapshot_bytes = len(raw)
        self.journal_unsynced = False
        return state

    def _replay_journal(self, state: LoadedState, session_id: str, generation: str) -> None:
        try:
            raw = self.destination.read_bytes(JOURNAL_FILENAME)
        except FileNotFoundError:
            return
        except (NotRegularFileError, EscapeError):
            state.notes.append("ignored a journal that is not a regular file")
            return
        except OSError as err:
            raise LockFileError(
                f"{JOURNAL_FILENAME} cannot be read: {err.strerror or err}."
            ) from err
        replay_journal(raw, state, session_id, generation)

    # ----------------------------------------------------------------- writing
    def write_snapshot(self, header: dict[str, Any], files_json: Iterable[str]) -> None:
        """Rewrite the snapshot (temp file, fsync, replace), then start an empty journal.

        ``files_json``: the members of the ``files`` object already encoded, in pieces, so
        100,000 files never become one 50 MiB string.
        """
        generation = secrets.token_hex(8)
        header = dict(header, inlet={"format": 1, "journal": generation})
        dest = self.destination
        dest.check_present()
        written = 0
        try:
            fd = dest.create(LOCK_TMP, replace=True)
            try:
                opening = ENCODE(header)[:-1] + ',"files":{'
                for piece in itertools.chain((opening,), joined(files_json), ("}}",)):
                    data = piece.encode("utf-8")
                    _write_all(fd, data)
                    written += len(data)
                if self.durable:
                    os.fsync(fd)
            finally:
                os.close(fd)
            dest.rename(LOCK_TMP, LOCK_FILENAME, replace=True)
            self.sync_folder()
            journal_head = journal_header(header["session_id"], generation)
            fd = dest.create(JOURNAL_FILENAME, replace=True)
            try:
                _write_all(fd, journal_head)
                if self.durable:
                    _fdatasync(fd)
            finally:
                os.close(fd)
        except OSError as err:
            with contextlib.suppress(OSError):
                dest.unlink(LOCK_TMP)
            raise self.write_error(err) from err
        self.generation = generation
        self.journal_unsynced = False
        self.snapshot_bytes = written
        self.journal_bytes = len(journal_head)

    def append(self, data: bytes, *, sync: bool) -> None:
        """Append one journal line (``b""`` with ``sync``: just sync what was appended).

        Raises `JournalGone` when the journal is missing or not Inlet's plain file any more."""
        dest = self.destination
        dest.check_present()
        try:
            fd = dest.open(JOURNAL_FILENAME, os.O_WRONLY | os.O_APPEND, single_link=True)
        except (FileNotFoundError, NotRegularFileError, EscapeError, SharedFileError) as err:
            raise JournalGone from err
        except OSError as err:
            raise self.write_error(err) from err
        try:
            if os.lseek(fd, 0, os.SEEK_END) != self.journal_bytes:
                os.ftruncate(fd, self.journal_bytes)  # drop a torn tail before appending
            _write_all(fd, data)
            if sync and self.durable:
                _fdatasync(fd)
        except OSError as err:
            with contextlib.suppress(OSError):
                os.ftruncate(fd, self.journal_bytes)
            raise self.write_error(err) from err
        finally:
            os.close(fd)
        self.journal_bytes += len(data)
        self.journal_unsynced = not sync

    def sync_folder(self) -> None:
        """Make a rename durable (POSIX); Windows cannot open a folder, and needs no such step."""
        if self.durable:
            self.destination.sync_folder()

    def remove(self) -> None:
        """Delete snapshot, journal and any temp file."""
        self.destination.unlink_all((LOCK_FILENAME, JOURNAL_FILENAME, LOCK_TMP))
        self.forget()

    def write_error(self, err: OSError) -> Exception:
        if is_disk_full(err):
            return DiskFullError(disk_full_message(self.dest_dir))
        return LockFileError(
            f"Inlet could not write its resume state in {self.dest_dir}: {err.strerror or err}.",
            hint="Check that you can write to the destination folder.",
        )


def disk_full_message(dest_dir: Path) -> str:
    return f"The disk holding {dest_dir} is full; the transfer stopped."


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]
