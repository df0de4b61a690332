"""The form at the top of the window: the code, the destination folder, Receive.

It checks the code as it is typed and shows what is wrong with the folder, but it decides
nothing about a transfer: the window listens to its signals. Its hints keep their line while
hidden, so the rows below never move while a person aims at them.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFileDialog, QGridLayout, QLabel, QLineEdit, QSizePolicy, QWidget

from inlet.core.codes import TransferCode, WormholeCode, parse_code, wormhole_code
from inlet.core.errors import CODE_EXAMPLE, CodeError

from .colors import hint_style
from .widgets import Button, plain_label

WORDS_NEXT = "Now type the words the sender shows after its address."


def _address_only(text: str) -> bool:
    """The field holds a code's address part and nothing after it (the words come next)."""
    if not text.rstrip().endswith(":"):
        return False
    try:
        parse_code(text.rstrip() + "0-x")
    except CodeError:
        return False
    return True


def _hint(parent: QWidget, accessible: str) -> QLabel:
    label = plain_label("", parent)
    label.setStyleSheet(hint_style())
    label.setWordWrap(True)
    label.setAccessibleName(accessible)
    policy = label.sizePolicy()
    policy.setRetainSizeWhenHidden(True)  # showing a hint moves nothing below it
    label.setSizePolicy(policy)
    label.hide()
    return label


class TransferForm(QWidget):
    """Code, Save to, Choose…, Create folder and Receive, with their hints."""

    #: Receive was pressed (or Enter in the code field)
    receiveRequested = Signal()
    #: a folder was chosen with Choose…, or typed and confirmed (Enter, leaving the field)
    destinationChosen = Signal(str)
    #: Create folder was pressed for the folder the field shows
    createRequested = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        code_label = plain_label("&Code", self)
        self.code_edit = QLineEdit(self)
        self.code_edit.setPlaceholderText(f"Paste the code the sender printed, e.g. {CODE_EXAMPLE}")
        self.code_edit.setAccessibleName("Transfer code")
        self.code_edit.setAccessibleDescription("The code the sender printed, HOST:TOKEN")
        self.code_edit.setClearButtonEnabled(True)
        self.code_edit.setAcceptDrops(False)  # a folder dropped anywhere sets the destination
        code_label.setBuddy(self.code_edit)
        self.receive_button = Button("&Receive", "Receive", self)
        self.receive_button.setToolTip("Connect to the sender and receive its files (Enter)")
        self.receive_button.setDefault(True)
        self.code_hint = _hint(self, "Code problem")

        dest_label = plain_label("Save &to", self)
        self.dest_edit = QLineEdit(self)
        self.dest_edit.setPlaceholderText("The folder to save into")  # the line below: or drop one
        self.dest_edit.setAccessibleName("Destination folder")
        self.dest_edit.setAcceptDrops(False)
        dest_label.setBuddy(self.dest_edit)
        self.choose_button = Button("C&hoose…", "Choose destination folder", self)
        self.choose_button.setToolTip("Choose the folder to save the files in (Ctrl+O)")
        self.drop_hint = plain_label("or drop a folder anywhere on this window", self)
        self.drop_hint.setEnabled(False)
        self.dest_hint = _hint(self, "Destination problem")
        self.create_folder_button = Button("Cr&eate folder", "Create the folder", self)
        self.create_folder_button.setToolTip("Create the folder shown in Save to")
        policy = self.create_folder_button.sizePolicy()
        policy.setRetainSizeWhenHidden(True)
        self.create_folder_button.setSizePolicy(policy)
        self.create_folder_button.hide()

        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.addWidget(code_label, 0, 0)
        grid.addWidget(self.code_edit, 0, 1)
        grid.addWidget(self.receive_button, 0, 2)
        grid.addWidget(self.code_hint, 1, 1, 1, 2)
        grid.addWidget(dest_label, 2, 0)
        grid.addWidget(self.dest_edit, 2, 1)
        grid.addWidget(self.choose_button, 2, 2)
        # The drop hint and a problem with the folder share one line: the rows stay put.
        grid.addWidget(self.drop_hint, 3, 1)
        grid.addWidget(self.dest_hint, 3, 1)
        grid.addWidget(self.create_folder_button, 3, 2)
        grid.setColumnStretch(1, 1)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)

        self.code_edit.textChanged.connect(self.check_code)
        self.code_edit.returnPressed.connect(self.receiveRequested)
        self.receive_button.clicked.connect(self.receiveRequested)
        self.dest_edit.editingFinished.connect(self._dest_edited)
        self.choose_button.clicked.connect(self.choose)
        self.create_folder_button.clicked.connect(
            lambda: self.createRequested.emit(self.dest_text())
        )
        self._confirmed: Path | None = None

    # -- the code ----------------------------------------------------------------------------------

    def check_code(self) -> TransferCode | WormholeCode | None:
        """The code, checked as the person types; an empty field is not an error yet."""
        text = self.code_edit.text()
        if not text.strip():
            self.code_hint.hide()
            return None
        if (wormhole := wormhole_code(text)) is not None:
            self.code_hint.hide()
            return WormholeCode(wormhole)
        try:
            code = parse_code(text)
        except CodeError as err:
            if _address_only(text):
                self._say_next(WORDS_NEXT)
            else:
                self._say_problem(str(err))
            return None
        self.code_hint.hide()
        return code

    def fill_address(self, address: str, sender: str) -> None:
        """A nearby sender was picked: its address goes in, and the cursor waits after it for
        the words (``sender`` is its display name, already made safe)."""
        self.code_edit.setText(address)
        self.code_edit.setFocus()
        self.code_edit.end(False)
        self._say_next(f"Now type the words {sender} shows after its address.")

    def _say_problem(self, text: str) -> None:
        self.code_hint.setStyleSheet(hint_style())
        self.code_hint.setText(text)
        self.code_hint.show()

    def _say_next(self, text: str) -> None:
        """Guidance, not a problem: in the window's own text colour."""
        self.code_hint.setStyleSheet("")
        self.code_hint.setText(text)
        self.code_hint.show()

    def ask_for_code(self) -> None:
        """Receive was pressed without a usable code: say what is missing, and go there."""
        if not self.code_edit.text().strip():
            self._say_problem("Paste the code the sender printed first.")
        self.focus_code()

    def focus_code(self) -> None:
        self.code_edit.setFocus()
        self.code_edit.selectAll()

    # -- the destination ---------------------------------------------------------------------------

    def dest_text(self) -> str:
        return self.dest_edit.text().strip()

    def show_destination(self, path: str) -> None:
        self.dest_edit.setText(path.strip())

    def confirm_destination(self, folder: Path) -> None:
        """The worker found a folder at what the field shows: show it, no problem."""
        self._confirmed = folder
        self.dest_edit.setText(str(folder))
        self.clear_dest_problem()

    def show_dest_problem(self, text: str, can_create: bool = False) -> None:
        self._confirmed = None
        self.dest_hint.setText(text)
        self.dest_hint.show()
        self.drop_hint.hide()
        self.create_folder_button.setVisible(can_create)

    def clear_dest_problem(self) -> None:
        self.dest_hint.hide()
        self.create_folder_button.hide()
        self.drop_hint.show()

    def ask_for_destination(self) -> None:
        self.show_dest_problem("Choose a folder to save the files in, or drop one here.")
        self.choose_button.setFocus()

    def _dest_edited(self) -> None:
        text = self.dest_text()
        if text and (self._confirmed is None or Path(text).expanduser() != self._confirmed):
            self.destinationChosen.emit(text)

    def choose(self) -> None:
        start = str(self._confirmed) if self._confirmed else str(Path.home())
        folder = QFileDialog.getExistingDirectory(self, "Save the files in", start)
        if folder:
            self.destinationChosen.emit(folder)

    # -- while receiving ---------------------------------------------------------------------------

    def set_busy(self, busy: bool) -> None:
        for widget in (self.code_edit, self.dest_edit, self.choose_button, self.receive_button):
            widget.setEnabled(not busy)
        if busy:
            self.create_folder_button.hide()
