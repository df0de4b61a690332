"""A focus ring that does not look like the default button's frame.

Fusion marks the button that has the keyboard focus with the same blue frame it gives the
default button (Receive, which Enter presses), so a person moving through the window with Tab
cannot tell the two apart. `FocusRingStyle` keeps the platform's style and adds a ring of its
own to the focused button: 2 px in the palette's highlight colour, just inside the frame.
"""

from __future__ import annotations

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QPainter, QPalette, QPen
from PySide6.QtWidgets import QProxyStyle, QStyle, QStyleOption, QWidget

RING_WIDTH = 2.0
RING_INSET = 3.0  # inside the frame, so it never merges with the default button's outline


class FocusRingStyle(QProxyStyle):
    """The application's style with a focus ring on push buttons (see the module's doc)."""

    def drawControl(
        self,
        element: QStyle.ControlElement,
        option: QStyleOption,
        painter: QPainter,
        widget: QWidget | None = None,
    ) -> None:
        super().drawControl(element, option, painter, widget)
        state = option.state
        if (
            element == QStyle.ControlElement.CE_PushButton
            and state & QStyle.StateFlag.State_HasFocus
            and state & QStyle.StateFlag.State_KeyboardFocusChange
        ):
            draw_ring(painter, option)


def draw_ring(painter: QPainter, option: QStyleOption) -> None:
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    pen = QPen(option.palette.color(QPalette.ColorRole.Highlight), RING_WIDTH)
    painter.setPen(pen)
    painter.setBrush(Qt.BrushStyle.NoBrush)
    half = RING_INSET + RING_WIDTH / 2
    ring = QRectF(option.rect).adjusted(half, half, -half, -half)
    painter.drawRoundedRect(ring, 2.0, 2.0)
    painter.restore()


def install(app) -> None:
    """Wrap the application's style (once) in `FocusRingStyle`."""
    if not isinstance(app.style(), FocusRingStyle):
        app.setStyle(FocusRingStyle(app.style().name()))
