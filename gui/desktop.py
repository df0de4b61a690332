"""What the window asks of the desktop: open a file, show it selected in its folder, notify.

Each can fail where the desktop has no opener, no file manager service or no notification
service; `Desktop.failed` lets the window say so with the path to copy, instead of only a line
on stderr. D-Bus calls (freedesktop ``FileManager1.ShowItems``, ``Notifications.Notify``) go
through jeepney in a short-lived thread, so a slow or missing service never blocks the window.
"""

from __future__ import annotations

import html
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QIcon
from PySide6.QtWidgets import QSystemTrayIcon, QWidget

from .qtcompat import emit

DBUS_TIMEOUT = 5.0  # seconds; a file manager started on demand may take a moment
NOTIFY_TIMEOUT_MS = 8000


def dbus_call(bus_name: str, path: str, method: str, signature: str, args: tuple) -> bool:
    """Call ``method`` on the session bus; True when it answered without an error."""
    try:
        from jeepney import DBusAddress, MessageType, new_method_call
        from jeepney.io.blocking import open_dbus_connection
    except ImportError:  # not on Linux: there is no session bus to ask
        return False
    address = DBusAddress(path, bus_name=bus_name, interface=bus_name)
    try:
        with open_dbus_connection(bus="SESSION") as connection:
            reply = connection.send_and_get_reply(
                new_method_call(address, method, signature, args), timeout=DBUS_TIMEOUT
            )
    except Exception:  # no bus, no service, a timeout: the caller falls back
        return False
    return reply.header.message_type != MessageType.error


def file_manager_show_items(uris: list[str]) -> bool:
    """Ask the freedesktop file manager to open the folders of ``uris`` and select them."""
    return dbus_call(
        "org.freedesktop.FileManager1", "/org/freedesktop/FileManager1", "ShowItems", "ass",
        (uris, ""),
    )  # fmt: skip


def desktop_notify(title: str, body: str) -> bool:
    """A notification through org.freedesktop.Notifications (``body`` is already escaped)."""
    return dbus_call(
        "org.freedesktop.Notifications", "/org/freedesktop/Notifications", "Notify",
        "susssasa{sv}i", ("Inlet", 0, "inlet", title, body, [], {}, NOTIFY_TIMEOUT_MS),
    )  # fmt: skip


def _in_background(job: Callable[[], object]) -> None:
    threading.Thread(target=job, name="inlet-desktop", daemon=True).start()


class Desktop(QObject):
    """Opens files and folders, and says when it could not."""

    #: (what was tried, the path): the desktop could not do it
    failed = Signal(str, str)
    _fall_back = Signal(str)  # from the D-Bus thread: open the folder instead

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        #: seams for tests: how a URL is opened, and how a file manager selects files
        self.opener: Callable[[QUrl], bool] = QDesktopServices.openUrl
        self.file_manager: Callable[[list[str]], bool] | None = (
            file_manager_show_items if sys.platform.startswith("linux") else None
        )
        self._fall_back.connect(lambda path: self.open(Path(path)))

    def open(self, path: Path) -> None:
        """Open a file or folder with the desktop's application for it."""
        if not self.opener(QUrl.fromLocalFile(str(path))):
            emit(self.failed, "open", str(path))

    def show_in_folder(self, path: Path) -> None:
        """Show ``path`` selected in its folder where the platform can; else open the folder."""
        if sys.platform == "win32":
            subprocess.Popen(["explorer", f"/select,{path}"])  # its exit status means nothing
            return
        if sys.platform == "darwin":
            subprocess.Popen(["open", "-R", str(path)])
            return
        show = self.file_manager
        if show is None:
            self.open(path.parent)
            return
        uri = QUrl.fromLocalFile(str(path)).toString()

        def ask() -> None:
            if not show([uri]):
                emit(self._fall_back, str(path.parent))

        _in_background(ask)


class Notifier:
    """A desktop notification: the tray's balloon where there is a tray, else the desktop's
    notification service (org.freedesktop.Notifications)."""

    def __init__(
        self,
        icon: QIcon,
        parent: QWidget | None = None,
        *,
        tray: bool | None = None,
        service: Callable[[str, str], bool] | None = None,
    ) -> None:
        self._tray: QSystemTrayIcon | None = None
        if tray is None:
            tray = QSystemTrayIcon.isSystemTrayAvailable() and QSystemTrayIcon.supportsMessages()
        if tray:
            self._tray = QSystemTrayIcon(icon, parent)
            self._tray.setToolTip("Inlet")
        self._service = service if service is not None else self._notify_in_background

    @staticmethod
    def _notify_in_background(title: str, body: str) -> bool:
        _in_background(lambda: desktop_notify(title, body))
        return True

    def notify(self, title: str, text: str, ok: bool = True) -> None:
        if self._tray is not None:
            self._tray.show()
            icon = (
                QSystemTrayIcon.MessageIcon.Information
                if ok
                else QSystemTrayIcon.MessageIcon.Warning
            )
            self._tray.showMessage(title, text, icon, NOTIFY_TIMEOUT_MS)
            return
        # The body may be shown as markup by the notification server; peer text is data.
        self._service(title, html.escape(text, quote=False))
