"""The status bar: one line of totals, the overall bar, Cancel.

Every number comes from the model (its counts and bytes, kept as rows change) and from one
`RateWindow`; percentages use `rate.percent`, the rule every row's bar uses too.
"""

from __future__ import annotations

from PySide6.QtWidgets import QProgressBar, QStatusBar

from inlet.core.progress import summary_text

from .model import TransferModel
from .rate import RateWindow, percent
from .widgets import Button, plain_label


class TransferStatus:
    """The widgets a window puts into its `QStatusBar`, and what they say."""

    def __init__(self, bar: QStatusBar) -> None:
        self.summary_label = plain_label("", bar)
        self.summary_label.setAccessibleName("Transfer summary")
        self.summary_label.setContentsMargins(6, 0, 0, 0)
        self.summary_label.setMinimumWidth(1)  # a long summary is cut, never widens the window
        self.overall_bar = QProgressBar(bar)
        self.overall_bar.setRange(0, 100)
        self.overall_bar.setFormat("%v %")  # the model's percent (see rate.percent)
        self.overall_bar.setMaximumWidth(200)
        self.overall_bar.setAccessibleName("Overall progress")
        self.cancel_button = Button("Cancel", "Cancel the transfer", bar)
        self.cancel_button.setToolTip("Stop receiving; everything received so far is kept (Esc)")
        self.cancel_button.setEnabled(False)
        bar.addWidget(self.summary_label, 1)
        bar.addPermanentWidget(self.overall_bar)
        bar.addPermanentWidget(self.cancel_button)

    def say(self, text: str) -> None:
        """A sentence instead of totals (nothing listed, connecting, cancelling)."""
        self.summary_label.setText(text)

    def say_idle(self, *, message: bool, folder: bool, code: bool, ending: str) -> None:
        """What to do next when no receive runs and no row is listed: ``message`` a text
        message came; ``folder``/``code`` the form has one; ``ending`` the banner's last
        ending in a line ("" when the usual advice fits)."""
        if message:
            text = "A text message was received."
        elif not folder:
            text = (
                "Press Receive (files need a folder: choose one or drop it here)."
                if code
                else "Paste a code and choose a folder to start."
            )
        else:
            text = ending or "Ready: paste a code and press Receive."
        self.say(text)
        self.overall_bar.setValue(0)

    def show_totals(self, model: TransferModel, rate: RateWindow | None) -> int:
        """``3 of 10 files - 1.2 of 4.0 MB - 2.1 MB/s - 2 s left``; returns the percent shown."""
        done, failed, total = model.counts()
        held, size = model.held_bytes, model.total_bytes
        speed = rate.speed if rate is not None else 0.0
        eta = rate.eta_seconds(size) if rate is not None else None
        self.summary_label.setText(
            summary_text(done, total, held, size, failed=failed, speed=speed, eta=eta)
        )
        shown = percent(held, size)
        self.overall_bar.setValue(shown)
        return shown

    def set_busy(self, busy: bool) -> None:
        self.cancel_button.setEnabled(busy)
        if busy:
            self.cancel_button.setFocus()
