"""Small pieces of the window: the banner, the drop highlight, the message dialog."""

from __future__ import annotations

from enum import StrEnum
from importlib import resources

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QGuiApplication, QIcon, QKeyEvent, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from .colors import status_colors


class Button(QPushButton):
    """A push button that Enter presses too (outside dialogs, Qt's buttons take only Space)."""

    def __init__(self, text: str, accessible: str, parent: QWidget | None = None) -> None:
        super().__init__(text, parent)
        self.setAccessibleName(accessible)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.isEnabled():
            self.animateClick()
            return
        super().keyPressEvent(event)


def plain_label(text: str = "", parent: QWidget | None = None) -> QLabel:
    """A label that shows its text as it is: never rich text (peer text is data)."""
    label = QLabel(text, parent)
    label.setTextFormat(Qt.TextFormat.PlainText)
    return label


def app_icon() -> QIcon:
    """Inlet's icon from the installed resources (SVG, with the PNG as a fallback)."""
    icon = QIcon()
    folder = resources.files("inlet.resources")
    for name in ("inlet.svg", "inlet.png"):
        path = folder / name
        if path.is_file():
            icon.addFile(str(path))
    return icon


class BannerKind(StrEnum):
    INFO = "info"
    SUCCESS = "success"
    WARNING = "warning"
    ERROR = "error"


_BANNER_MARK = {
    BannerKind.INFO: "i",
    BannerKind.SUCCESS: "✓",
    BannerKind.WARNING: "!",
    BannerKind.ERROR: "✕",
}


class Banner(QFrame):
    """A line across the window that says what happened and offers what to do next.

    It has a fixed set of buttons (shown as the situation needs) so they have stable names for
    keyboard users, screen readers and tests.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("banner")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.kind = BannerKind.INFO
        self.mark = plain_label("", self)
        self.mark.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.mark.setFixedWidth(22)
        self.label = plain_label("", self)  # names and errors come from the peer
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        # Alt+R is Receive's; Resume takes Alt+U
        self.resume_button = self._button("Res&ume", "Resume the interrupted transfer")
        self.discard_button = self._button(
            "&Discard", "Discard the interrupted transfer's unfinished files"
        )
        self.show_folder_button = self._button("Show &folder", "Show the destination folder")
        self.copy_button = self._button("Copy &path", "Copy the path to the clipboard")
        self.anyway_button = self._button(
            "Receive &anyway", "Start although the files do not fit (stops when the disk is full)"
        )
        self.choose_button = self._button("Choose a&nother folder", "Choose another folder")
        self.message_button = self._button("Show &message", "Show the text message again")
        self.copy_text = ""
        self.dismiss_button = self._button("Dismiss", "Dismiss this message")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 6)
        layout.addWidget(self.mark)
        layout.addWidget(self.label, 1)
        for button in (
            self.resume_button,
            self.discard_button,
            self.show_folder_button,
            self.copy_button,
            self.anyway_button,
            self.choose_button,
            self.message_button,
            self.dismiss_button,
        ):
            layout.addWidget(button)
        self.dismiss_button.clicked.connect(self.hide)
        self.copy_button.clicked.connect(self._copy)
        self.hide()

    def _button(self, text: str, accessible: str) -> QPushButton:
        button = Button(text, text.replace("&", ""), self)
        button.setAccessibleDescription(accessible)
        button.setToolTip(accessible)
        button.hide()
        return button

    def show_message(
        self,
        kind: BannerKind,
        text: str,
        resume: bool = False,
        discard: bool = False,
        show_folder: bool = False,
        copy: str | None = None,
        no_room: bool = False,
        message: bool = False,
    ) -> None:
        """Say ``text``; ``copy`` offers a Copy path button that copies it; ``no_room`` offers
        Receive anyway and Choose another folder; ``message`` Show message."""
        self.kind = kind
        colors = status_colors(self.palette())
        background, accent = colors.banner[kind.value]
        self.setStyleSheet(
            f"#banner {{ background: {background}; border: 1px solid {accent}; "
            f"border-radius: 4px; }} #banner QLabel {{ color: {colors.banner_text}; }}"
        )
        self.mark.setText(_BANNER_MARK[kind])
        self.mark.setStyleSheet(
            f"color: {background}; background: {accent}; border-radius: 10px; font-weight: bold;"
        )
        self.label.setText(text)
        self.setAccessibleName(f"{kind.value}: {text}")
        self.resume_button.setVisible(resume)
        self.discard_button.setVisible(discard)
        self.show_folder_button.setVisible(show_folder)
        self.copy_text = copy or ""
        self.copy_button.setText("Copy &path")
        self.copy_button.setVisible(copy is not None)
        self.anyway_button.setVisible(no_room)
        self.choose_button.setVisible(no_room)
        self.message_button.setVisible(message)
        self.dismiss_button.setVisible(True)
        self.show()

    def text(self) -> str:
        return "" if self.isHidden() else self.label.text()

    def _copy(self) -> None:
        QGuiApplication.clipboard().setText(self.copy_text)
        self.copy_button.setText("Copied")


class DropOverlay(QWidget):
    """The highlight over the window while a folder is dragged over it."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.text = "Drop a folder to save the files there"
        self.hide()

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        accent = self.palette().highlight().color()
        fill = QColor(accent)
        fill.setAlpha(40)
        rect = QRectF(self.rect()).adjusted(4, 4, -4, -4)
        painter.setBrush(fill)
        painter.setPen(QPen(accent, 3, Qt.PenStyle.DashLine))
        painter.drawRoundedRect(rect, 10, 10)
        font = painter.font()
        font.setPointSizeF(font.pointSizeF() * 1.5)
        font.setBold(True)
        painter.setFont(font)
        painter.setPen(accent.darker(130))
        painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, self.text)


class MessageDialog(QDialog):
    """A text message from the sender, selectable, with a Copy button."""

    def __init__(self, text: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Message from the sender")
        self.text = text
        self.view = QPlainTextEdit(text, self)
        self.view.setReadOnly(True)
        self.view.setAccessibleName("Message text")
        buttons = QDialogButtonBox(self)
        self.copy_button = buttons.addButton("&Copy", QDialogButtonBox.ButtonRole.ActionRole)
        self.copy_button.setAccessibleName("Copy the message")
        self.close_button = buttons.addButton(QDialogButtonBox.StandardButton.Close)
        self.close_button.setAccessibleName("Close")
        self.copy_button.clicked.connect(self.copy)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(plain_label("The sender sent this text:", self))
        layout.addWidget(self.view)
        layout.addWidget(buttons)
        self.resize(480, 280)
        self.copy_button.setFocus()

    def copy(self) -> None:
        QGuiApplication.clipboard().setText(self.text)
        self.copy_button.setText("Copied")
