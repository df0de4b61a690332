"""``transfer_warnings.log`` is for real problems only (issue 12): a routine keep-both rename
(a file of that name was already there) is no problem and writes nothing into the person's
folder; a prefix that does not verify on resume still does (test_transfer.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from inlet.core.paths import WARNINGS_LOG

from .test_transfer import receive_in_process

pytestmark = pytest.mark.timeout(60)


@pytest.mark.parametrize("sender_flags", [(), ("--no-ext",)])
def test_a_keep_both_rename_writes_no_warnings_log(senders, tmp_path: Path, sender_flags):
    src = tmp_path / "src"
    src.mkdir()
    (src / "notes.txt").write_text("the new notes\n")
    dest = tmp_path / "dest"
    (dest / "src").mkdir(parents=True)
    (dest / "src" / "notes.txt").write_text("the notes that were here\n")
    sender = senders(src, *sender_flags)
    receiver, _ = receive_in_process(sender.code, dest)
    assert receiver.result.ok, receiver.result.error
    assert (dest / "src" / "notes.txt").read_text() == "the notes that were here\n"
    assert (dest / "src" / "notes_1.txt").read_text() == "the new notes\n"
    assert not (dest / WARNINGS_LOG).exists()
    assert not list(dest.rglob(WARNINGS_LOG))
