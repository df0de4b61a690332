"""Errors a person can hit, each saying what happened and what to do about it.

Every error Inlet shows a person derives from `InletError`: `str(err)` is the whole sentence
(what happened, then what to do), so the CLI prints it on one line and the window shows it as is.
"""

from __future__ import annotations

import errno

from .progress import format_sizes_apart

#: errno values that mean "no room left": the transfer must stop, with its state kept.
DISK_FULL_ERRNOS = frozenset(
    e for e in (errno.ENOSPC, getattr(errno, "EDQUOT", None), errno.EFBIG) if e is not None
)


def is_disk_full(err: OSError) -> bool:
    """True when ``err`` means the disk (or quota, or file size limit) has no room left."""
    return err.errno in DISK_FULL_ERRNOS


class InletError(Exception):
    """Base of every user-facing error: a message plus a hint on what to do next."""

    hint: str = ""

    def __init__(self, message: str, hint: str | None = None) -> None:
        self.message = message
        if hint is not None:
            self.hint = hint
        super().__init__(self.message)

    def __str__(self) -> str:
        return f"{self.message} {self.hint}".strip() if self.hint else self.message


class UnsafeNameError(InletError):
    """The sender asked for a file name that could land outside the destination folder."""

    hint = "The file was refused; nothing was written outside the destination folder."


#: What a code looks like, in the window's placeholder and in `CodeError`'s hint alike: an
#: address, a number and four words (an Inlet code; docs/PROTOCOL.md, 2.2).
CODE_EXAMPLE = "100.64.1.123:7-ocean-tiger-piano-ruby"


class CodeError(InletError):
    """The transfer code a person typed or pasted cannot be parsed."""

    hint = f"Copy the whole code the sender printed, for example {CODE_EXAMPLE}."


class ProtocolError(InletError):
    """The peer sent something the ftransfer wire protocol does not allow."""

    hint = "The other side is not a compatible sender or receiver, or the connection is damaged."


class WrongTokenError(InletError):
    """The handshake failed: the two sides do not share the same token."""

    hint = "Either you or the sender typed the code wrong; check it and try again."


class ConnectionFailedError(InletError):
    """Nothing could be reached at the address in the code."""

    hint = "Check that the sender is still running and that the code's host and port are right."


class TransferTimeoutError(InletError):
    """The peer stopped answering for longer than the protocol allows."""

    hint = "Check the network and that the sender is still running; the transfer can be resumed."


class SenderBusyError(InletError):
    """The sender answered that it is serving another receiver (it serves one at a time)."""

    hint = (
        "Wait until that transfer has finished, then try again with the same code. If the other "
        "receiver was you and it was interrupted, the sender notices within a minute or two."
    )


class PeerGoneError(InletError):
    """The connection dropped in the middle of a transfer; everything received so far is kept."""

    hint = "The transfer can be resumed: start the sender again and receive into the same folder."


class DiskFullError(InletError):
    """The destination has no space left; everything received so far is kept for resume."""

    hint = "Free some space (or pick another folder) and resume: nothing received so far is lost."


class IntegrityError(InletError):
    """Files kept failing SHA-256 verification after every allowed attempt."""

    hint = "The failed files were kept as .part files; receive them again to retry."
    hint_one = "It was kept as a .part file; receive it again to retry."


class LockFileError(InletError):
    """The resume state in `.transfer_lock.json` is unreadable or inconsistent."""

    hint = "Discard the interrupted transfer (delete .transfer_lock.json) to start afresh."


class FolderNeededError(InletError):
    """Files came to a receive with no folder (only a text message needs none); nothing was
    taken, so the sender still offers them."""

    hint = "Choose a folder and receive again with the same code: the sender keeps waiting."


class NotEnoughSpaceError(InletError):
    """The files still to receive do not fit on the destination's disk (found before any byte
    moved: nothing was received)."""

    hint = (
        "Free some space or choose another folder; nothing was received. To start anyway (it "
        "stops when the disk is full, keeping what arrived), add --no-space-check."
    )

    def __init__(self, folder: object, needed: int, free: int) -> None:
        self.needed, self.free = needed, free
        need, have = format_sizes_apart(needed, free)
        super().__init__(
            f"Not enough space in {folder}: the files need {need} more, and its disk has "
            f"{have} free."
        )
