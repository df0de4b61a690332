"""What the window says when a receive ends: the banner's words and buttons, and the
notification's title. A pure function of how it ended, so every ending is tested apart from
the window (and the window only shows what it is given)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from inlet.core.errors import FolderNeededError
from inlet.core.events import TransferFinished
from inlet.core.progress import format_sizes_apart

from .widgets import BannerKind


@dataclass(frozen=True)
class Verdict:
    title: str  # the desktop notification's
    text: str
    kind: BannerKind
    resume: bool = False  # the banner offers Resume
    show_folder: bool = False
    no_room: bool = False  # Receive anyway / Choose another folder
    ask_folder: bool = False  # the form asks for a folder
    #: the status bar's line while the banner shows this and no row was listed ("" : the
    #: usual "Ready…" advice fits)
    status: str = ""


def verdict(
    finished: TransferFinished,
    *,
    folder: Path | None,
    rows: int,
    asked: frozenset[str] | None,
    cancelled: bool,
    wormhole: bool,
    stopped_rows: Callable[[], bool],
) -> Verdict:
    """The words for a receive of files (a text message has its own dialog) that ended as
    ``finished``: ``rows`` listed, ``asked`` the files a Retry asked for (None: every one),
    ``stopped_rows()`` whether some row stopped part-way (Resume would bring
    it; asked only for a failure, as it looks at every row)."""
    if finished.ok:
        total = rows if asked is None else len(asked)
        if asked is not None and total == 1:
            every = f"{next(iter(asked))} was"
        else:
            every = "The file was" if total == 1 else f"All {total:,} files were"
        text = f"{every} received into {folder}."
        return Verdict("Inlet: transfer complete", text, BannerKind.SUCCESS, show_folder=True)
    if cancelled and wormhole:
        text = (
            "Cancelled. Files completed before are kept; a wormhole code works once, so "
            "ask the sender for a new one to receive the rest."
        )
        return Verdict("Inlet: transfer cancelled", text, BannerKind.INFO)
    if cancelled:
        text = (
            "Cancelled. Everything received so far is kept: press Resume to continue "
            "(with a new code if the sender was restarted)."
        )
        return Verdict("Inlet: transfer cancelled", text, BannerKind.INFO, resume=True)
    if finished.needs_folder:
        said = (finished.error or "").removesuffix(FolderNeededError.hint).strip()
        text = (
            f"{said} Choose one (or drop it on this window), then press Receive: the "
            "sender keeps waiting."
        )
        return Verdict("Inlet: choose a folder", text, BannerKind.INFO, ask_folder=True)
    if finished.space is not None:
        need, have = format_sizes_apart(*finished.space)
        text = (
            f"Not enough space in {folder}: these files need {need} more, and its disk has "
            f"{have} free. Nothing was received yet."
        )
        return Verdict(
            "Inlet: not enough space",
            text,
            BannerKind.WARNING,
            no_room=True,
            status="Not enough space: nothing was received.",
        )
    text = finished.error or "The transfer failed."
    if finished.resumable:
        text += " The code above can be edited: a restarted sender prints a new one."
    # Resume brings every file not yet here; when each of them failed, their rows' Retry
    # (and Receive failed files again) say that better.
    resume = finished.resumable and (not rows or stopped_rows())
    return Verdict("Inlet: transfer failed", text, BannerKind.ERROR, resume=resume)
