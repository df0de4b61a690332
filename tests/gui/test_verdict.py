"""What the window says at the end of a receive, for every way one ends."""

from __future__ import annotations

from pathlib import Path

import pytest

from inlet.core.errors import FolderNeededError
from inlet.core.events import TransferFinished
from inlet.gui.verdict import verdict
from inlet.gui.widgets import BannerKind

FOLDER = Path("/home/ann/Downloads")


def say(finished: TransferFinished, **kw):
    args = dict(
        folder=FOLDER, rows=3, asked=None, cancelled=False, wormhole=False,
        stopped_rows=lambda: False,
    )  # fmt: skip
    args.update(kw)
    return verdict(finished, **args)


@pytest.mark.parametrize(
    ("rows", "asked", "words"),
    [
        (3, None, "All 3 files were received into /home/ann/Downloads."),
        (20_000, None, "All 20,000 files were received into /home/ann/Downloads."),
        (1, None, "The file was received into /home/ann/Downloads."),
        (3, frozenset({"b.txt"}), "b.txt was received into /home/ann/Downloads."),
    ],
)
def test_success_names_what_came_and_where(rows, asked, words) -> None:
    said = say(TransferFinished(ok=True), rows=rows, asked=asked)
    assert (said.kind, said.text, said.show_folder) == (BannerKind.SUCCESS, words, True)


def test_a_cancel_offers_resume_except_through_the_wormhole() -> None:
    lan = say(TransferFinished(ok=False, resumable=True), cancelled=True)
    hole = say(TransferFinished(ok=False), cancelled=True, wormhole=True)
    assert lan.resume and "press Resume" in lan.text
    assert not hole.resume and "ask the sender for a new one" in hole.text


def test_files_without_a_folder_ask_for_one_and_keep_the_sender_waiting() -> None:
    error = f"The sender is sending 2 files (3 KB), not a text message. {FolderNeededError.hint}"
    said = say(TransferFinished(ok=False, error=error, needs_folder=True), folder=None)
    assert said.ask_folder and said.kind is BannerKind.INFO
    assert said.text.startswith("The sender is sending 2 files") and "keeps waiting" in said.text
    assert FolderNeededError.hint not in said.text


def test_no_room_says_how_much_is_needed_and_free() -> None:
    said = say(TransferFinished(ok=False, space=(2_500_000, 1_000_000)))
    assert said.no_room and said.kind is BannerKind.WARNING
    assert "need 2.5 MB more" in said.text and "1.0 MB free" in said.text


def test_a_failure_offers_resume_only_when_a_row_stopped_part_way() -> None:
    failed = TransferFinished(ok=False, error="The sender went away.", resumable=True)
    assert say(failed, stopped_rows=lambda: True).resume
    only_failed = say(failed, stopped_rows=lambda: False)
    assert not only_failed.resume and only_failed.kind is BannerKind.ERROR
    assert only_failed.text.startswith("The sender went away. The code above can be edited")
