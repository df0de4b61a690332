"""`IncomingFile`: one file of a transfer, from the file list to its outcome.

The receiver's session decides *when* a file changes (a chunk arrived, its hash matched, the
sender vouched for a prefix); the file's outcome changes only through the methods here, and the
``--json`` row is the file itself (`to_json`): one object per file, as a million-file list
made a record and a row each (208 bytes a file). Its disk side is its `FileWriter` (the lock
entry and the status events follow from the writer).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..events import FileInfo, FileStatus
from ..writer import FileWriter

_PENDING, _FAILED, _COMPLETED = (
    FileStatus.PENDING.value,
    FileStatus.FAILED.value,
    FileStatus.COMPLETED.value,
)


@dataclass(slots=True)
class IncomingFile:
    """The receiver's view of one file of the stream, and its outcome as ``--json`` reports it
    (``name``, ``size``, ``status``, ``path``, ``sha256``, ``reason``)."""

    info: FileInfo
    name: str  # normalized (the lock key)
    status: str = _PENDING  # a FileStatus value, as --json spells it
    path: str | None = None  # where it landed
    sha256: str | None = None
    reason: str | None = None  # why it failed
    writer: FileWriter | None = None
    #: where it lands relative to the destination, when that is not ``name`` (a name the folder
    #: considers the same as an earlier file's: kept apart as ``name_1.ext`` from the start)
    twin: str | None = None
    exists: bool = False  # something stood where it lands when the list arrived
    has_part: bool = False  # a ``.part`` stood beside it
    refused: str | None = None  # unsafe name etc.: bytes are consumed and dropped
    already_done: bool = False  # completed in an earlier session and proven still here
    #: SHA-256 of the file under its final name when an earlier session named it but was killed
    #: before its lock recorded "completed" (offered whole; the sender may vouch for it)
    named_earlier: str | None = None
    #: A fresh file (nothing held, no .part): its writer is made with its first byte or its
    #: hash, so 100,000 files waiting for their turn hold no writers.
    deferred: bool = False

    @classmethod
    def listed(cls, info: FileInfo) -> IncomingFile:
        return cls(info, info.name)  # (positional: faster)

    @property
    def size(self) -> int:
        return self.info.size

    def to_json(self) -> dict:
        return {
            "name": self.name,
            "path": self.path,
            "size": self.info.size,
            "sha256": self.sha256,
            "status": self.status,
        }

    @property
    def lands_at(self) -> str:
        """Where it lands, relative to the destination."""
        return self.twin or self.name

    @property
    def succeeded(self) -> bool:
        return self.status == _COMPLETED

    @property
    def failed(self) -> bool:
        return self.status == _FAILED

    # -- outcomes -------------------------------------------------------------------------------

    def refuse(self, reason: str) -> None:
        """Refused up front (an unsafe name...): its bytes are consumed and dropped."""
        self.refused = reason
        self._outcome(_FAILED, reason=reason)

    def already_here(self, sha256: str | None, path: str) -> None:
        """Its bytes are in the folder already, proven (an earlier session named them)."""
        self.already_done = True
        self.writer = None
        self.deferred = False
        self._outcome(_COMPLETED, sha256=sha256, path=path)

    def receive_again(self, writer: FileWriter, reason: str | None = None) -> None:
        """What the folder held turned out not to be this sender's file: received anew (failed
        with ``reason`` until a resend, when its bytes already went by)."""
        self.already_done = False
        self.writer = writer
        if reason is None:
            self._outcome(_PENDING)
        else:
            writer.mark_failed(reason)
            self._outcome(_FAILED, reason=writer.failed_reason)

    def named(self, sha256: str, path: str | None) -> None:
        """Verified and under its final name. Its writer is let go: one per named file would
        make memory grow with every file received rather than with the list."""
        self.writer = None
        self._outcome(_COMPLETED, sha256=sha256, path=path)

    def fail(self, reason: str) -> None:
        self._outcome(_FAILED, reason=reason)

    def waiting(self) -> None:
        """Asked for again (a retry): nothing held."""
        self._outcome(_PENDING)

    def message_shown(self, sha256: str) -> None:
        """A text message arrived whole (it is shown, not saved)."""
        self._outcome(_COMPLETED, sha256=sha256)

    def _outcome(
        self,
        status: str,
        *,
        reason: str | None = None,
        sha256: str | None = None,
        path: str | None = None,
    ) -> None:
        self.status, self.reason, self.sha256, self.path = status, reason, sha256, path
