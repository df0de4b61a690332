"""TransferModel fed with synthetic core events: rows, words, toggles, coalesced updates."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from inlet.core.events import FileProgress, FileStatus, FileStatusChanged
from inlet.core.lock import LockSummary
from inlet.gui.coalesce import UpdateBatch
from inlet.gui.model import (
    Column,
    FileRow,
    Role,
    RowAction,
    RowState,
    TransferModel,
    contiguous_spans,
)
from inlet.gui.resume import InterruptedTransfer, SavedFile

from .conftest import started

FILES = [("photos/a.jpg", 1000), ("photos/b.jpg", 2000), ("notes/todo.txt", 10), ("empty", 0)]


@pytest.fixture
def model(qtbot) -> TransferModel:
    m = TransferModel()
    m.start(started(*FILES, conflicts=frozenset({"notes/todo.txt"})))
    return m


def text(model: TransferModel, row: int, column: Column) -> str:
    return model.data(model.index(row, column))


def status(name, new, old=None, **kw) -> FileStatusChanged:
    return FileStatusChanged(name, new, old, **kw)


@pytest.mark.timeout(10)
def test_one_row_per_file_with_name_size_and_words(model):
    assert model.rowCount() == 4
    assert model.columnCount() == len(Column)
    assert text(model, 0, Column.NAME) == "photos/a.jpg"
    assert text(model, 1, Column.SIZE) == "2.0 KB"
    assert text(model, 0, Column.PROGRESS) == "0 %"
    assert text(model, 0, Column.STATUS) == "Waiting"
    assert text(model, 2, Column.STATUS) == "Waiting (exists)"
    assert model.headerData(Column.OVERWRITE, Qt.Orientation.Horizontal) == "Replace"


@pytest.mark.timeout(10)
def test_status_words_follow_the_lock_and_the_bytes(model):
    model.apply(UpdateBatch((status("photos/a.jpg", FileStatus.IN_PROGRESS, FileStatus.PENDING),)))
    assert text(model, 0, Column.STATUS) == "Receiving"
    model.apply(UpdateBatch(progress={"photos/a.jpg": 1000}))
    assert text(model, 0, Column.STATUS) == "Verifying"  # every byte here, hash not yet checked
    assert text(model, 0, Column.PROGRESS) == "100 %"
    model.apply(
        UpdateBatch(
            (
                status("photos/a.jpg", FileStatus.COMPLETED, FileStatus.IN_PROGRESS),
                status("photos/b.jpg", FileStatus.FAILED, FileStatus.IN_PROGRESS, reason="hash"),
            )
        )
    )
    assert text(model, 0, Column.STATUS) == "Done"
    assert text(model, 1, Column.STATUS) == "Failed: hash"
    assert model.data(model.index(1, 0), Role.STATE) == RowState.FAILED
    assert model.counts() == (1, 1, 4)


@pytest.mark.timeout(10)
def test_done_under_another_name_says_so(model):
    model.apply(
        UpdateBatch(
            (
                status(
                    "notes/todo.txt",
                    FileStatus.COMPLETED,
                    FileStatus.IN_PROGRESS,
                    final_path="/x/notes/todo_1.txt",
                ),
            )
        )
    )
    assert text(model, 2, Column.STATUS) == "Saved as todo_1.txt"
    # decided: the toggle gives way to what happened
    overwrite = model.index(2, Column.OVERWRITE)
    assert model.data(overwrite) == "Kept both"
    assert model.data(overwrite, Qt.ItemDataRole.CheckStateRole) is None


@pytest.mark.timeout(10)
def test_already_here_and_resumed_bytes(qtbot):
    m = TransferModel()
    m.start(started(("a", 100), ("b", 100), already_done=frozenset({"a"}), resumed={"b": 40}))
    assert text(m, 0, Column.STATUS) == "Already here"
    assert text(m, 0, Column.PROGRESS) == "100 %"
    assert text(m, 1, Column.PROGRESS) == "40 %"
    assert m.counts() == (1, 0, 2)
    assert m.data(m.index(0, 0), Role.ACTIONS) == (RowAction.OPEN, RowAction.SHOW)


@pytest.mark.timeout(10)
def test_a_failed_file_shows_how_far_it_got(model):
    model.apply(
        UpdateBatch(
            (
                FileProgress("photos/b.jpg", 500, 2000),
                status("photos/b.jpg", FileStatus.FAILED, FileStatus.IN_PROGRESS, reason="disk"),
            )
        )
    )
    assert text(model, 1, Column.PROGRESS) == "25 %"
    assert text(model, 1, Column.STATUS) == "Failed: disk"


@pytest.mark.timeout(10)
def test_a_retry_resets_the_bytes(model):
    model.apply(UpdateBatch(progress={"photos/b.jpg": 2000}))
    model.apply(UpdateBatch((status("photos/b.jpg", FileStatus.FAILED, FileStatus.IN_PROGRESS),)))
    model.apply(UpdateBatch((status("photos/b.jpg", FileStatus.PENDING, FileStatus.FAILED),)))
    assert text(model, 1, Column.PROGRESS) == "0 %"
    assert text(model, 1, Column.STATUS) == "Waiting"


@pytest.mark.timeout(10)
def test_overwrite_toggle_only_on_conflicting_rows(model, qtbot):
    plain, conflict = model.index(0, Column.OVERWRITE), model.index(2, Column.OVERWRITE)
    assert not model.flags(plain) & Qt.ItemFlag.ItemIsUserCheckable
    assert model.data(plain, Qt.ItemDataRole.CheckStateRole) is None
    assert model.flags(conflict) & Qt.ItemFlag.ItemIsUserCheckable
    assert model.data(conflict, Qt.ItemDataRole.CheckStateRole) == Qt.CheckState.Unchecked
    assert model.data(conflict) == "Replace"  # the label says what checking does
    assert model.data(conflict, Qt.ItemDataRole.AccessibleTextRole) == "keeps both files"
    with qtbot.waitSignal(model.overwriteChanged) as blocker:
        assert model.setData(conflict, Qt.CheckState.Checked, Qt.ItemDataRole.CheckStateRole)
    assert blocker.args == ["notes/todo.txt", True]
    assert model.data(conflict, Qt.ItemDataRole.CheckStateRole) == Qt.CheckState.Checked
    assert model.data(conflict, Qt.ItemDataRole.AccessibleTextRole) == "replaces the existing file"
    assert model.overwrite_choices() == {"notes/todo.txt": True}
    assert not model.setData(plain, Qt.CheckState.Checked, Qt.ItemDataRole.CheckStateRole)


@pytest.mark.timeout(10)
def test_header_default_applies_to_rows_without_their_own_choice(qtbot):
    m = TransferModel()
    m.start(started(("a", 1), ("b", 1), ("c", 1), conflicts=frozenset({"a", "b"})))
    m.setData(m.index(1, Column.OVERWRITE), Qt.CheckState.Unchecked, Qt.ItemDataRole.CheckStateRole)
    seen = []
    m.overwriteChanged.connect(lambda name, value: seen.append((name, value)))
    m.set_default_overwrite(True)
    assert seen == [("a", True)]  # b keeps its own choice, c has nothing to overwrite
    check = Qt.ItemDataRole.CheckStateRole
    assert m.data(m.index(0, Column.OVERWRITE), check) == Qt.CheckState.Checked
    assert m.data(m.index(1, Column.OVERWRITE), check) == Qt.CheckState.Unchecked


@pytest.mark.timeout(10)
def test_choices_survive_a_new_session_and_lock_once_done(model):
    conflict = model.index(2, Column.OVERWRITE)
    model.setData(conflict, Qt.CheckState.Checked, Qt.ItemDataRole.CheckStateRole)
    model.start(started(*FILES, conflicts=frozenset({"notes/todo.txt"})))  # a retry
    check = Qt.ItemDataRole.CheckStateRole
    assert model.data(model.index(2, Column.OVERWRITE), check) == Qt.CheckState.Checked
    model.apply(UpdateBatch((status("notes/todo.txt", FileStatus.COMPLETED, FileStatus.PENDING),)))
    assert not model.flags(model.index(2, Column.OVERWRITE)) & Qt.ItemFlag.ItemIsUserCheckable


@pytest.mark.timeout(10)
def test_actions_follow_the_state_and_hide_while_busy(model):
    model.apply(
        UpdateBatch(
            (
                status("photos/a.jpg", FileStatus.COMPLETED, FileStatus.IN_PROGRESS),
                status("photos/b.jpg", FileStatus.FAILED, FileStatus.IN_PROGRESS, reason="disk"),
            )
        )
    )
    actions = [model.data(model.index(r, Column.ACTION), Role.ACTIONS) for r in range(4)]
    # A sender that cannot send one file alone: the button says what it does, and why.
    assert actions == [(RowAction.OPEN, RowAction.SHOW), (RowAction.RECEIVE_AGAIN,), (), ()]
    tip = model.data(model.index(1, Column.ACTION), Qt.ItemDataRole.ToolTipRole)
    assert "cannot send one file alone" in tip
    model.selectable = True  # an Inlet sender: Retry gets that one file
    assert model.data(model.index(1, Column.ACTION), Role.ACTIONS) == (RowAction.RETRY,)
    accessible = model.data(model.index(0, Column.ACTION), Qt.ItemDataRole.AccessibleTextRole)
    assert accessible == "Open, Show in folder"
    model.set_busy(True)  # while receiving: no Retry, but a done file can be opened
    assert model.data(model.index(1, Column.ACTION), Role.ACTIONS) == ()
    assert model.data(model.index(0, Column.ACTION), Role.ACTIONS) == (
        RowAction.OPEN,
        RowAction.SHOW,
    )


@pytest.mark.timeout(10)
def test_contiguous_spans():
    assert contiguous_spans({9, 1, 2, 3, 7, 10}) == [(1, 3), (7, 7), (9, 10)]
    assert contiguous_spans([]) == []


@pytest.mark.timeout(10)
def test_a_burst_of_updates_becomes_a_few_data_changed_spans(qtbot):
    m = TransferModel()
    m.start(started(*[(f"f{i:04}", 100) for i in range(1000)]))
    spans = []
    m.dataChanged.connect(lambda top, bottom, roles: spans.append((top.row(), bottom.row())))
    progress = {f"f{i:04}": 50 for i in range(1000) if i not in (500, 501)}
    m.apply(UpdateBatch(progress=progress))
    assert spans == [(0, 499), (502, 999)]


@pytest.mark.timeout(10)
def test_windows_separators_reach_the_same_row(qtbot):
    m = TransferModel()
    m.start(started(("dir\\file.txt", 10)))
    assert text(m, 0, Column.NAME) == "dir/file.txt"
    m.apply(UpdateBatch((status("dir/file.txt", FileStatus.COMPLETED, FileStatus.PENDING),)))
    assert text(m, 0, Column.STATUS) == "Done"


@pytest.mark.timeout(10)
def test_events_for_unknown_names_are_ignored(model):
    model.apply(UpdateBatch((status("nope", FileStatus.COMPLETED),), {"nope": 5}))
    assert model.counts() == (0, 0, 4)


@pytest.mark.timeout(10)
def test_saved_state_of_an_interrupted_transfer(qtbot):
    files = (
        SavedFile("a", 100, FileStatus.COMPLETED, 100),
        SavedFile("b", 100, FileStatus.IN_PROGRESS, 61),
        SavedFile("c", 100, FileStatus.PENDING, 0),
        SavedFile("d", 100, FileStatus.FAILED, 0, reason="hash mismatch"),
    )
    summary = LockSummary(1, 1, 1, 1, 4, 400, 161, "127.0.0.1", datetime.now(), "s")
    m = TransferModel()
    m.show_saved(InterruptedTransfer(Path("/x"), files, summary))
    assert [text(m, r, Column.STATUS) for r in range(4)] == [
        "Done",
        "Interrupted at 61 %",
        "Waiting",
        "Failed: hash mismatch",
    ]
    m.apply(UpdateBatch((status("b", FileStatus.IN_PROGRESS, FileStatus.IN_PROGRESS),)))
    assert text(m, 1, Column.STATUS) == "Receiving"


@pytest.mark.timeout(10)
def test_a_text_message_has_no_rows(qtbot):
    m = TransferModel()
    m.start(started(("message.txt", 5), is_message=True))
    assert m.rowCount() == 0 and m.is_message


@pytest.mark.timeout(10)
def test_file_row_fraction_of_an_empty_file():
    assert FileRow("e", 0).fraction == 0.0
    assert FileRow("e", 0, status=FileStatus.COMPLETED).fraction == 1.0


@pytest.mark.timeout(10)
def test_a_folder_whose_rows_come_as_it_streams_counts_the_files_it_offered(qtbot) -> None:
    """A wormhole folder starts with no rows; the count says the offer's files from the start."""
    m = TransferModel()
    m.start(started(expected_files=10))
    assert m.counts() == (0, 0, 10)
    m.add_rows([FileRow(name="album/1.jpg", size=5)])
    m.apply(UpdateBatch(events=(status("album/1.jpg", FileStatus.COMPLETED, FileStatus.PENDING),)))
    assert m.counts() == (1, 0, 10)
