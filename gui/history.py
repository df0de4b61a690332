"""Past transfers: when, from which sender, how many files, where they went.

Kept as JSON lines in the app's data folder (``QStandardPaths.AppDataLocation``); one line per
finished transfer, appended by the worker thread (a disk write), read when the dialog opens.
Only the last ``KEEP`` entries are shown. Sender text is shown as plain text.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from PySide6.QtCore import QStandardPaths, Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from inlet.core.progress import format_size

from .widgets import plain_label

FILENAME = "history.jsonl"
KEEP = 500


@dataclass(frozen=True)
class HistoryEntry:
    when: float  # seconds since the epoch
    sender: str  # the address the code named
    files: int
    size: int
    folder: str
    outcome: str  # "received", "failed", "cancelled", "stopped"

    def when_text(self) -> str:
        return time.strftime("%Y-%m-%d %H:%M", time.localtime(self.when))


def default_path() -> Path:
    folder = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)
    return Path(folder) / FILENAME


def append(path: Path, entry: HistoryEntry) -> None:
    """Add one line (called in the worker thread)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as out:
        out.write(json.dumps(asdict(entry)) + "\n")


def read(path: Path) -> list[HistoryEntry]:
    """The last `KEEP` entries, newest first; lines that do not parse are skipped."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()[-KEEP:]
    except OSError:
        return []
    entries = []
    for line in reversed(lines):
        try:
            data = json.loads(line)
            entries.append(
                HistoryEntry(
                    when=float(data["when"]),
                    sender=str(data["sender"]),
                    files=int(data["files"]),
                    size=int(data["size"]),
                    folder=str(data["folder"]),
                    outcome=str(data["outcome"]),
                )
            )
        except (ValueError, KeyError, TypeError):
            continue
    return entries


class HistoryDialog(QDialog):
    """The list of past transfers, with Open folder."""

    COLUMNS = ("When", "From", "Files", "Size", "Saved in", "Result")

    def __init__(self, entries: list[HistoryEntry], open_folder, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Inlet: past transfers")
        self.entries = entries
        self.tree = QTreeWidget(self)
        self.tree.setAccessibleName("Past transfers")
        self.tree.setRootIsDecorated(False)
        self.tree.setHeaderLabels(list(self.COLUMNS))
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.tree.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        for entry in entries:
            item = QTreeWidgetItem(
                [
                    entry.when_text(),
                    entry.sender,
                    str(entry.files),
                    format_size(entry.size),
                    entry.folder,
                    entry.outcome.capitalize(),
                ]
            )
            item.setTextAlignment(2, Qt.AlignmentFlag.AlignRight)
            item.setTextAlignment(3, Qt.AlignmentFlag.AlignRight)
            self.tree.addTopLevelItem(item)
        header = self.tree.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(4, QHeaderView.ResizeMode.Stretch)
        for column in (0, 1, 2, 3, 5):
            self.tree.resizeColumnToContents(column)
        if entries:
            self.tree.setCurrentItem(self.tree.topLevelItem(0))
        buttons = QDialogButtonBox(self)
        self.open_button = buttons.addButton("&Open folder", QDialogButtonBox.ButtonRole.ActionRole)
        self.open_button.setAccessibleName("Open the folder of the selected transfer")
        self.open_button.setEnabled(bool(entries))
        close = buttons.addButton(QDialogButtonBox.StandardButton.Close)
        close.setAccessibleName("Close")
        buttons.rejected.connect(self.reject)
        self.open_button.clicked.connect(lambda: self._open(open_folder))
        self.tree.itemActivated.connect(lambda *_: self._open(open_folder))
        layout = QVBoxLayout(self)
        intro = "No transfers yet." if not entries else "The transfers this computer received:"
        layout.addWidget(plain_label(intro, self))
        layout.addWidget(self.tree)
        layout.addWidget(buttons)
        self.resize(820, 360)

    def selected(self) -> HistoryEntry | None:
        item = self.tree.currentItem()
        if item is None:
            return None
        return self.entries[self.tree.indexOfTopLevelItem(item)]

    def _open(self, open_folder) -> None:
        entry = self.selected()
        if entry is not None:
            open_folder(Path(entry.folder))
