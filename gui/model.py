"""The table of incoming files: one `FileRow` per file, changed only by the worker's signals.

Shaped after Transmission's ``TorrentModel``: the model owns the rows, hands each one out
through a custom role, and turns a burst of changes into a few ``dataChanged`` spans (contiguous
rows as one span) instead of one signal per event, so 10,000 small files stay smooth.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from enum import IntEnum, StrEnum
from pathlib import Path

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt
from PySide6.QtCore import Signal as _Signal

from inlet.core.errors import UnsafeNameError
from inlet.core.events import FileProgress, FileStatus, FileStatusChanged, TransferStarted
from inlet.core.paths import split_name
from inlet.core.progress import format_size

from .coalesce import UpdateBatch
from .colors import status_colors
from .qtcompat import emit
from .rate import percent_text
from .resume import InterruptedTransfer

Index = QModelIndex | QPersistentModelIndex


class Column(IntEnum):
    NAME = 0
    SIZE = 1
    PROGRESS = 2
    STATUS = 3
    OVERWRITE = 4
    ACTION = 5


HEADERS = {
    Column.NAME: "Name",
    Column.SIZE: "Size",
    Column.PROGRESS: "Progress",
    Column.STATUS: "Status",
    Column.OVERWRITE: "Replace",
    Column.ACTION: "Action",
}


class Role(IntEnum):
    """Custom roles: the delegate and the window read rows through these, never by position."""

    ROW = Qt.ItemDataRole.UserRole + 1  # the FileRow itself
    FRACTION = Qt.ItemDataRole.UserRole + 2  # 0.0 .. 1.0
    STATE = Qt.ItemDataRole.UserRole + 3  # RowState
    ACTIONS = Qt.ItemDataRole.UserRole + 4  # tuple[RowAction, ...]


class RowState(StrEnum):
    """What a person sees in the Status column (the lock status plus what it implies)."""

    WAITING = "waiting"
    RECEIVING = "receiving"
    VERIFYING = "verifying"  # every byte is here, the SHA-256 is being checked
    DONE = "done"
    FAILED = "failed"
    ALREADY_HERE = "already here"  # completed in an earlier session and still verified
    INTERRUPTED = "interrupted"  # saved state of an interrupted transfer, part of it held
    STOPPED = "stopped"  # the session ended before this file was verified


class RowAction(StrEnum):
    OPEN = "Open"
    SHOW = "Show in folder"
    #: a new receive of this one file from the same sender (an Inlet sender sends it alone)
    RETRY = "Retry"
    #: what Retry is with a sender that cannot send one file alone (ftransfer, --no-ext): a new
    #: receive of every file not yet here, so the button says what it does
    RECEIVE_AGAIN = "Receive again"
    COPY_PATH = "Copy path"  # context menu only


#: Why a failed row's button receives more than its file, in its tooltip.
RECEIVE_AGAIN_WHY = (
    "This sender (ftransfer, or inlet send --no-ext) cannot send one file alone: this receives "
    "every file not yet here again; the verified ones stay."
)
RETRY_TIP = "Receive this file again from the sender; the other rows stay as they are."


@dataclass(slots=True)
class FileRow:
    """One incoming file as the window shows it."""

    name: str
    size: int
    held: int = 0
    status: FileStatus = FileStatus.PENDING
    reason: str | None = None
    final_path: str | None = None
    #: a file of this name already exists in the destination: the overwrite toggle shows
    conflict: bool = False
    #: this row's overwrite choice; None follows the window-wide default
    overwrite: bool | None = None
    already_here: bool = False
    #: shown from a lock file, not part of a running transfer
    saved: bool = False
    #: the session ended before this file was verified; ``resumable``: its state was kept
    stopped: bool = False
    resumable: bool = False
    #: False while only the file's end will tell its size (a stock wormhole sender's folder):
    #: ``size`` is then what arrived so far
    size_known: bool = True

    @property
    def fraction(self) -> float:
        if not self.size_known:
            return 0.0
        if self.size <= 0:
            return 1.0 if self.state in (RowState.DONE, RowState.ALREADY_HERE) else 0.0
        return max(0.0, min(1.0, self.held / self.size))

    @property
    def state(self) -> RowState:
        if self.already_here:
            return RowState.ALREADY_HERE
        if self.status == FileStatus.COMPLETED:
            return RowState.DONE
        if self.status == FileStatus.FAILED:
            return RowState.FAILED
        if self.stopped:
            return RowState.STOPPED
        if self.saved:
            return RowState.INTERRUPTED if self.held > 0 else RowState.WAITING
        if self.status == FileStatus.IN_PROGRESS:
            if self.size_known and self.held >= self.size:
                return RowState.VERIFYING
            return RowState.RECEIVING
        return RowState.WAITING

    def status_text(self) -> str:
        state = self.state
        if state == RowState.FAILED:
            return f"Failed: {self.reason}" if self.reason else "Failed"
        if (
            state == RowState.DONE
            and self.final_path
            and Path(self.final_path).name != (self.name.rsplit("/", 1)[-1])
        ):
            return f"Saved as {Path(self.final_path).name}"  # done: the name first, a cut keeps it
        if state == RowState.WAITING and self.conflict:
            return "Waiting (exists)"
        if state == RowState.INTERRUPTED:
            return f"Interrupted at {self.percent_text()}"
        if state == RowState.STOPPED:
            if self.held <= 0:
                text = "Not received"
            elif self.held >= self.size:
                text = "Stopped at 100 % (not verified)"
            else:
                text = f"Stopped at {self.percent_text()}"
            return f"{text} — can resume" if self.resumable else text
        return state.value.capitalize()

    def percent_text(self) -> str:
        """The row's share in the window's one rounding rule (see `rate.percent`)."""
        if not self.size_known:
            return format_size(self.held)  # no share of an unknown size: what arrived
        if self.size <= 0:
            return "100 %" if self.state in (RowState.DONE, RowState.ALREADY_HERE) else "0 %"
        return percent_text(self.held, self.size)

    def actions(self) -> tuple[RowAction, ...]:
        """The actions this row's state allows (qutebrowser's rule: offer only what makes sense)."""
        state = self.state
        if state in (RowState.DONE, RowState.ALREADY_HERE):
            return (RowAction.OPEN, RowAction.SHOW)
        if state == RowState.FAILED:
            return (RowAction.RETRY,)
        return ()

    def overwrite_effective(self, default: bool) -> bool:
        return default if self.overwrite is None else self.overwrite


_DISPLAY = int(Qt.ItemDataRole.DisplayRole)
_ACCESSIBLE = int(Qt.ItemDataRole.AccessibleTextRole)
_TOOLTIP = int(Qt.ItemDataRole.ToolTipRole)
_CHECK = int(Qt.ItemDataRole.CheckStateRole)
_ALIGN = int(Qt.ItemDataRole.TextAlignmentRole)
_FOREGROUND = int(Qt.ItemDataRole.ForegroundRole)
_ANSWERED_ROLES = frozenset(
    {_DISPLAY, _ACCESSIBLE, _TOOLTIP, _CHECK, _ALIGN, _FOREGROUND, *(int(r) for r in Role)}
)
_RIGHT = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)


def plain_tooltip(text: str) -> str:
    """A tooltip that shows ``text`` as it is: Qt renders a tooltip that looks like HTML as
    rich text, and names and reasons come from the peer."""
    return "<qt>" + html.escape(text, quote=False) + "</qt>"


def contiguous_spans(rows: set[int] | list[int]) -> list[tuple[int, int]]:
    """``{1, 2, 3, 7, 9, 10}`` -> ``[(1, 3), (7, 7), (9, 10)]``: one dataChanged per span."""
    spans: list[tuple[int, int]] = []
    for row in sorted(rows):
        if spans and row == spans[-1][1] + 1:
            spans[-1] = (spans[-1][0], row)
        else:
            spans.append((row, row))
    return spans


def _key(name: str) -> str:
    """The lock key of a name (``a\\b`` and ``a/b`` are the same file); raw if it is unsafe.

    Only a name with a backslash can differ from its key (the core refuses every other unusual
    name), so the common case costs nothing: this runs for every event of every file.
    """
    if "\\" not in name:
        return name
    try:
        return "/".join(split_name(name))  # the core's normalized form, the lock's key
    except UnsafeNameError:
        return name


@dataclass
class RowSet:
    """Rows ready to be swapped into the model, with their running totals.

    Built by the worker thread (plain Python, no Qt), so listing 10,000 files costs the GUI
    thread a pointer swap rather than tens of milliseconds of object creation.
    """

    rows: list[FileRow] = field(default_factory=list)
    index: dict[str, int] = field(default_factory=dict)
    is_message: bool = False

    def add(self, row: FileRow) -> None:
        if row.name not in self.index:  # a duplicate is refused by the core; one row is enough
            self.index[row.name] = len(self.rows)
            self.rows.append(row)

    @classmethod
    def for_transfer(cls, started: TransferStarted) -> RowSet:
        """One row per listed file, with resumed bytes, conflicts and files already here."""
        rowset = cls(is_message=started.is_message)
        if started.is_message:
            return rowset
        conflicts = {_key(n) for n in started.conflicts}
        done = {_key(n) for n in started.already_done}
        resumed = {_key(n): held for n, held in started.resumed.items()}
        pending = FileStatus.PENDING
        for info in started.files:
            key = _key(info.name)
            if key in done:
                row = FileRow(key, info.size, info.size, FileStatus.COMPLETED, already_here=True)
            else:
                row = FileRow(
                    key, info.size, resumed.get(key, 0), pending, conflict=key in conflicts
                )
            rowset.add(row)
        return rowset

    @classmethod
    def for_saved(cls, saved: InterruptedTransfer) -> RowSet:
        """The files of an interrupted transfer with their saved state."""
        rowset = cls()
        for file in saved.files:
            rowset.add(
                FileRow(
                    name=_key(file.name),
                    size=file.size,
                    held=file.held,
                    status=file.status,
                    reason=file.reason,
                    final_path=file.final_path,
                    saved=True,
                )
            )
        return rowset


class TransferModel(QAbstractTableModel):
    """Rows of the current (or interrupted) transfer.

    Changed only through `start`, `show_saved` and `apply`, which the window connects to the
    worker's signals, and through `setData` on the overwrite toggle, which reports the choice with
    `overwriteChanged` so the window can pass it on to the running receiver.
    """

    #: (name, replace) — a row's effective overwrite choice changed
    overwriteChanged = _Signal(str, bool)
    #: counts changed (done, failed, total): the status bar and "Retry all failed" follow this
    countsChanged = _Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._rows: list[FileRow] = []
        self._index: dict[str, int] = {}
        self._default_overwrite = False
        self._busy = False
        #: choices survive a new session (retry, resume) for the same names
        self._choices: dict[str, bool] = {}
        self.is_message = False
        #: the last session's sender can send one file alone (a row's Retry gets just it)
        self.selectable = False
        self._done = self._failed = self._held = self._size = 0
        self._expected = 0  # the transfer's size as its start said (rows may still come)
        self._expected_files = 0  # and its number of files
        #: rows changed by `stage` and not yet announced; `publish` turns them into signals
        self._dirty: set[int] = set()
        self._counts_dirty = False

    # -- reading --------------------------------------------------------------------------------

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(Column)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = 0) -> object:
        if orientation == Qt.Orientation.Horizontal and 0 <= section < len(Column):
            column = Column(section)
            if role == Qt.ItemDataRole.DisplayRole:
                return HEADERS[column]
            if role == Qt.ItemDataRole.ToolTipRole and column == Column.OVERWRITE:
                return (
                    "For files that already exist here: checked replaces the existing file, "
                    "unchecked keeps both (the new file is saved as name_1.ext)."
                )
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        # Called for every role of every painted cell: answer the roles nobody here uses at once.
        if role not in _ANSWERED_ROLES or not index.isValid():
            return None
        i = index.row()
        if not 0 <= i < len(self._rows):
            return None
        row = self._rows[i]
        column = index.column()
        if role in (_DISPLAY, _ACCESSIBLE):
            return self._text(row, column, accessible=role == _ACCESSIBLE)
        if role == Role.FRACTION:
            return row.fraction
        if role == Role.STATE:
            return row.state
        if role == Role.ACTIONS:
            return self._actions(row)
        if role == Role.ROW:
            return row
        if role == _FOREGROUND:
            if column == Column.STATUS:
                state = row.state
                if state == RowState.FAILED:
                    return status_colors().failed
                if state in (RowState.DONE, RowState.ALREADY_HERE):
                    return status_colors().done
            return None
        if role == _TOOLTIP:
            return self._tooltip(row, column)
        if role == _CHECK:
            if column == Column.OVERWRITE and row.conflict and self._can_toggle(row):
                checked = row.overwrite_effective(self._default_overwrite)
                return Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked
            return None
        if role == _ALIGN and column == Column.SIZE:
            return _RIGHT
        return None

    def _text(self, row: FileRow, column: int, accessible: bool) -> str | None:
        if column == Column.NAME:
            return row.name
        if column == Column.SIZE:
            return format_size(row.size) if row.size_known else "—"
        if column == Column.PROGRESS:
            return row.percent_text()
        if column == Column.STATUS:
            return row.status_text()
        if column == Column.OVERWRITE:
            if not row.conflict:
                return "" if not accessible else "no existing file"
            replace = row.overwrite_effective(self._default_overwrite)
            if not self._can_toggle(row):  # decided: say what happened
                return "Replaced" if replace else "Kept both"
            if accessible:
                return "replaces the existing file" if replace else "keeps both files"
            # A checkbox's label names what checking it does; its state shows the choice.
            return "Replace"
        if column == Column.ACTION:
            return ", ".join(a.value for a in self._actions(row)) if accessible else ""
        return None

    def _actions(self, row: FileRow) -> tuple[RowAction, ...]:
        """While a receive runs, no Retry (the engine retries by itself); Open still works.
        With a sender that cannot send one file alone, Retry says what it does instead."""
        actions = row.actions()
        if RowAction.RETRY not in actions:
            return actions
        if self._busy:
            return tuple(a for a in actions if a != RowAction.RETRY)
        if self.selectable:
            return actions
        return tuple(RowAction.RECEIVE_AGAIN if a == RowAction.RETRY else a for a in actions)

    def _tooltip(self, row: FileRow, column: int) -> str | None:
        text = None
        if column == Column.OVERWRITE and row.conflict:
            text = (
                f"A file named {row.name} already exists here. Checked: replace it. "
                "Unchecked: keep both (the new file gets a _1 suffix)."
            )
        elif column == Column.STATUS and row.final_path:
            text = f"Saved as {row.final_path}"
        elif column == Column.STATUS and row.reason:
            text = row.reason
        elif column == Column.STATUS:
            text = row.status_text()  # whole, when a narrow column cuts it
        elif column == Column.NAME:
            text = row.name
        elif column == Column.ACTION:
            actions = self._actions(row)
            if RowAction.RETRY in actions:
                text = RETRY_TIP
            elif RowAction.RECEIVE_AGAIN in actions:
                text = RECEIVE_AGAIN_WHY
        return None if text is None else plain_tooltip(text)

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        flags = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        row = self._rows[index.row()]
        if index.column() == Column.OVERWRITE and row.conflict and self._can_toggle(row):
            flags |= Qt.ItemFlag.ItemIsUserCheckable
        return flags

    @staticmethod
    def _can_toggle(row: FileRow) -> bool:
        """The choice matters until the file gets its final name."""
        return row.state not in (RowState.DONE, RowState.ALREADY_HERE)

    def row(self, row: int) -> FileRow:
        return self._rows[row]

    def rows(self) -> list[FileRow]:
        return list(self._rows)

    def find(self, name: str) -> int | None:
        i = self._index.get(name)
        return i if i is not None else self._index.get(_key(name))

    @property
    def default_overwrite(self) -> bool:
        return self._default_overwrite

    def overwrite_choices(self) -> dict[str, bool]:
        """Per-file choices a person made (the default covers the rest)."""
        return dict(self._choices)

    def counts(self) -> tuple[int, int, int]:
        """(done, failed, total), where "already here" counts as done. Kept up to date as rows
        change, so the status bar can ask often whatever the number of rows."""
        return self._done, self._failed, max(len(self._rows), self._expected_files)

    @property
    def held_bytes(self) -> int:
        return self._held

    @property
    def total_bytes(self) -> int:
        return max(self._size, self._expected)

    def _tally(self, row: FileRow, sign: int) -> None:
        """Add (``sign`` 1) or remove (-1) a row's share of the running totals."""
        state = row.state
        if state in (RowState.DONE, RowState.ALREADY_HERE):
            self._done += sign
        elif state == RowState.FAILED:
            self._failed += sign
        self._held += sign * row.held

    def _recount(self) -> None:
        done = failed = held = size = 0
        finished = (FileStatus.COMPLETED, FileStatus.FAILED)
        for row in self._rows:
            size += row.size
            held += row.held
            if row.status in finished or row.already_here:  # cheap pre-check before .state
                state = row.state
                done += state in (RowState.DONE, RowState.ALREADY_HERE)
                failed += state == RowState.FAILED
        self._done, self._failed, self._held, self._size = done, failed, held, size

    # -- changing -------------------------------------------------------------------------------

    def setData(self, index: Index, value: object, role: int = Qt.ItemDataRole.EditRole) -> bool:
        if (
            role != Qt.ItemDataRole.CheckStateRole
            or index.column() != Column.OVERWRITE
            or not self.flags(index) & Qt.ItemFlag.ItemIsUserCheckable
        ):
            return False
        row = self._rows[index.row()]
        replace = _as_check_state(value) == Qt.CheckState.Checked
        row.overwrite = replace
        self._choices[_key(row.name)] = replace
        self._changed({index.row()}, Column.STATUS, Column.OVERWRITE)
        emit(self.overwriteChanged, row.name, replace)
        return True

    def set_default_overwrite(self, replace: bool) -> None:
        """The header-level default: every conflicting row without its own choice follows it."""
        if replace == self._default_overwrite:
            return
        self._default_overwrite = replace
        changed = set()
        for i, row in enumerate(self._rows):
            if row.conflict and row.overwrite is None and self._can_toggle(row):
                changed.add(i)
                emit(self.overwriteChanged, row.name, replace)
        self._changed(changed, Column.OVERWRITE, Column.OVERWRITE)

    def set_busy(self, busy: bool) -> None:
        """While a receive runs, rows offer no Retry (see `_actions`)."""
        if busy != self._busy:
            self._busy = busy
            self._changed(set(range(len(self._rows))), Column.ACTION, Column.ACTION)

    def clear(self) -> None:
        self._swap(RowSet())

    @property
    def has_saved(self) -> bool:
        """The rows are an interrupted transfer's saved state (not a session's)."""
        return any(row.saved for row in self._rows[:1])

    def clear_finished(self) -> None:
        """Drop the rows of files that are done; the others stay as they are."""
        kept = RowSet(is_message=self.is_message)
        for row in self._rows:
            if row.state not in (RowState.DONE, RowState.ALREADY_HERE):
                kept.add(row)
        self._swap(kept)

    def stop(self, resumable: bool) -> None:
        """The session ended: every file not yet done or failed says it stopped, and where."""
        changed = set()
        for i, row in enumerate(self._rows):
            if row.state in (RowState.WAITING, RowState.RECEIVING, RowState.VERIFYING):
                row.stopped, row.resumable = True, resumable
                changed.add(i)
        self._changed(changed, Column.NAME, Column.ACTION)

    def add_rows(self, rows: list[FileRow]) -> None:
        """Files that became known mid-transfer (a wormhole folder's entries) join the end."""
        new = [row for row in rows if row.name not in self._index]
        if not new:
            return
        first = len(self._rows)
        self.beginInsertRows(QModelIndex(), first, first + len(new) - 1)
        for row in new:
            if row.conflict:
                row.overwrite = self._choices.get(row.name)
            self._index[row.name] = len(self._rows)
            self._rows.append(row)
            self._size += row.size
            self._tally(row, 1)
        self.endInsertRows()
        emit(self.countsChanged)

    def start(self, started: TransferStarted, rowset: RowSet | None = None) -> None:
        """A session began: its rows (built by the worker when it can) replace the old ones.

        A row this receive did not ask for (a Retry of another row) stays as it was, and so
        does a row that was done before and is "already here" now: it is the same file."""
        rowset = rowset if rowset is not None else RowSet.for_transfer(started)
        if not started.is_message:
            self.selectable = started.selectable
        selected = started.selected
        old = {row.name: row for row in self._rows} if self._rows else {}
        rows = rowset.rows
        for i, row in enumerate(rows):
            before = old.get(row.name)
            if before is not None and (
                (selected is not None and row.name not in selected)
                or (row.already_here and before.state == RowState.DONE)
            ):
                rows[i] = row = before
            elif row.conflict:  # choices made for these names in an earlier session stay
                row.overwrite = self._choices.get(row.name)
        self._swap(rowset)
        self._expected = started.total_size
        self._expected_files = started.expected_files

    def show_saved(self, saved: InterruptedTransfer, rowset: RowSet | None = None) -> None:
        """List the files of an interrupted transfer with their saved state (before Resume)."""
        self._swap(rowset if rowset is not None else RowSet.for_saved(saved))

    def _swap(self, rowset: RowSet) -> None:
        self._expected = self._expected_files = 0
        self._dirty.clear()  # the reset repaints every row and announces the counts
        self._counts_dirty = False
        self.beginResetModel()
        self._rows, self._index, self.is_message = rowset.rows, rowset.index, rowset.is_message
        self._recount()
        self.endResetModel()
        emit(self.countsChanged)

    def apply(self, batch: UpdateBatch) -> None:
        """Apply a worker batch and announce it at once (`stage`, then `publish`)."""
        self.stage(batch)
        self.publish()

    def stage(self, batch: UpdateBatch) -> None:
        """Apply a worker batch, events in order, then the latest byte counts, without telling
        the view: every announcement repaints the visible rows, so the window's drain stages
        many slices and publishes a few times a second (see `BatchDrain`)."""
        changed = self._dirty
        for event in batch.events:
            if isinstance(event, FileProgress):
                i = self._apply_progress(event.name, event.held)
            else:
                i = self._apply_status(event)
                self._counts_dirty = self._counts_dirty or i is not None
            if i is not None:
                changed.add(i)
        for name, held in batch.progress.items():
            i = self._apply_progress(name, held)
            if i is not None:
                changed.add(i)

    def publish(self) -> None:
        """Announce what `stage` changed since the last time: ``dataChanged`` spans, then the
        counts."""
        changed, self._dirty = self._dirty, set()
        if len(self._rows) <= max(changed, default=-1):  # rows went away meanwhile
            changed = {i for i in changed if i < len(self._rows)}
        self._changed(changed, Column.PROGRESS, Column.ACTION)
        if self._counts_dirty:
            self._counts_dirty = False
            emit(self.countsChanged)

    def _apply_progress(self, name: str, held: int) -> int | None:
        i = self.find(name)
        if i is None:
            return None
        row = self._rows[i]
        if row.status in (FileStatus.COMPLETED, FileStatus.FAILED) or row.held == held:
            return None
        if not row.size_known and held > row.size:  # its size is what arrived so far
            self._size += held - row.size
            row.size = held
        self._held += held - row.held  # a progress change moves no file counter
        row.held = held
        if row.status == FileStatus.PENDING:
            row.status = FileStatus.IN_PROGRESS  # bytes flow before the lock says so
        return i

    def _apply_status(self, event: FileStatusChanged) -> int | None:
        i = self.find(event.name)
        if i is None:
            return None
        row = self._rows[i]
        self._tally(row, -1)
        row.saved = row.stopped = False
        if event.previous is not None and (
            event.status == FileStatus.PENDING
            or event.previous in (FileStatus.FAILED, FileStatus.COMPLETED)
        ):
            row.held = 0  # reset for a retry: the bytes come again
        row.status = event.status
        row.already_here = False
        if event.status == FileStatus.COMPLETED:
            row.size_known = True  # its last progress was its size
            row.held = row.size
            row.reason = None
            if event.final_path:
                row.final_path = event.final_path
        elif event.status == FileStatus.FAILED:
            row.reason = event.reason
        else:
            row.reason = None
        self._tally(row, 1)
        return i

    def _changed(self, rows: set[int], first: Column, last: Column) -> None:
        for top, bottom in contiguous_spans(rows):
            emit(self.dataChanged, self.index(top, first), self.index(bottom, last))


def _as_check_state(value: object) -> Qt.CheckState:
    if isinstance(value, Qt.CheckState):
        return value
    return Qt.CheckState(int(value))  # type: ignore[call-overload]
