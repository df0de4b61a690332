"""Plain event objects the core reports through callbacks (the window turns them into signals).

They are frozen dataclasses so they can cross a thread boundary safely and compare in tests.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from itertools import repeat
from typing import NamedTuple


class FileStatus(StrEnum):
    """A file's state in the lock file; the values are the strings ftransfer writes there."""

    PENDING = "pending"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    FAILED = "failed"


@dataclass(frozen=True)
class FileStatusChanged:
    """A file moved from one lock status to another (``previous`` is None for a new entry)."""

    name: str
    status: FileStatus
    previous: FileStatus | None = None
    reason: str | None = None  # why it failed, in words a person understands
    final_path: str | None = None  # where a completed file landed (may be ``name_1.ext``)


@dataclass(frozen=True)
class FileProgress:
    """Bytes of ``name`` now held on disk (resumed bytes included), out of ``size``."""

    name: str
    held: int
    size: int


class FileInfo(NamedTuple):
    """One file of a transfer as listed in the sender's metadata.

    A named tuple rather than a frozen dataclass: as immutable, 8 bytes larger, and a million
    of them (one file list) are made in 0.3 s instead of 1.3 s (`many`): a frozen dataclass's
    ``__init__`` sets each field through ``object.__setattr__``."""

    name: str
    size: int
    offset: int = 0

    @classmethod
    def many(
        cls, names: Iterable[str], sizes: Iterable[int], offsets: Iterable[int]
    ) -> list[FileInfo]:
        """``[FileInfo(n, s, o) for n, s, o in zip(...)]``, made without a Python call each."""
        return list(map(tuple.__new__, repeat(cls), zip(names, sizes, offsets, strict=True)))


@dataclass(frozen=True)
class TransferStarted:
    """The sender's file list arrived and was accepted; ``resumed`` maps names to held bytes."""

    files: tuple[FileInfo, ...]
    total_size: int
    is_message: bool = False
    resumed: dict[str, int] = field(default_factory=dict)
    extension: bool = False
    #: names whose final path is already taken in the destination (the overwrite toggle shows)
    conflicts: frozenset[str] = frozenset()
    #: names completed in an earlier session and still verified ("already here")
    already_done: frozenset[str] = frozenset()
    #: the names this receive asked for (a row's Retry); None: every file. The others are
    #: left as they were: no event comes for them.
    selected: frozenset[str] | None = None
    #: the sender can send some of its files alone (a row's Retry gets that one file)
    selectable: bool = False
    #: how many files come when their rows come later (a wormhole folder's, as it streams)
    expected_files: int = 0


@dataclass(frozen=True)
class FilesAdded:
    """Files that became known after `TransferStarted`: a wormhole folder's zip entries appear
    one by one as its stream arrives (``conflicts``: those whose name is taken already)."""

    files: tuple[FileInfo, ...]
    conflicts: frozenset[str] = frozenset()
    #: names whose size only their end tells (a stock sender's zip): their size grows with them
    unsized: frozenset[str] = frozenset()


@dataclass(frozen=True)
class TransferFinished:
    """The session ended: ``ok`` only when every file is verified under its final name."""

    ok: bool
    error: str | None = None  # the whole user-facing sentence when not ok
    message_text: str | None = None  # the text of a text-message transfer
    resumable: bool = False  # state was kept and a new connection can continue it
    #: (bytes needed, bytes free): the files did not fit on the disk; nothing was received
    space: tuple[int, int] | None = None
    #: files came to a receive with no folder (a text message needs none); nothing was taken
    needs_folder: bool = False
