"""A wormhole sender's offer, asked as a question: Receive or Decline.

A stock ``wormhole send`` says what it sends before any byte moves, and waits for the answer;
the worker thread waits too, until `answered` reaches it. The offer's words are the peer's
text: the box shows them as plain text, never as markup.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QMessageBox, QWidget

from .qtcompat import emit


class OfferQuestion(QObject):
    """At most one open offer box; a new offer, a cancel or ``close()`` takes it away."""

    #: True: receive it; False: decline (closing the box is a decline)
    answered = Signal(bool)

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self._parent = parent
        self.box: QMessageBox | None = None

    def ask(self, offer: object, folder: Path | None) -> None:
        """Ask about ``offer`` (a `core.wormhole.offer.Offer`) going into ``folder``."""
        self.close()
        box = QMessageBox(
            QMessageBox.Icon.Question,
            "Inlet: receive through the wormhole?",
            f"The sender offers {offer.describe()}. Receive it into {folder}?",
            parent=self._parent,
        )
        box.setTextFormat(Qt.TextFormat.PlainText)  # the name is the peer's text
        receive = box.addButton("Receive", QMessageBox.ButtonRole.AcceptRole)
        box.addButton("Decline", QMessageBox.ButtonRole.RejectRole)
        box.setDefaultButton(receive)
        box.finished.connect(lambda _: self._answer(box, box.clickedButton() is receive))
        self.box = box
        box.open()

    def close(self) -> None:
        """Take the box away without an answer (the receive was cancelled or ended)."""
        box, self.box = self.box, None
        if box is not None:
            box.close()

    def _answer(self, box: QMessageBox, accept: bool) -> None:
        if self.box is box:  # not a box closed by `close()` or replaced by a newer offer
            self.box = None
            emit(self.answered, accept)
