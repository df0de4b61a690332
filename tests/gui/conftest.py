"""Fixtures for the window's tests: isolated settings, scripted receivers, real senders."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QCoreApplication, QSettings

from inlet.core.events import (
    FileInfo,
    FileProgress,
    FileStatus,
    FileStatusChanged,
    TransferFinished,
    TransferStarted,
)


@pytest.fixture(autouse=True)
def isolated_settings(tmp_path_factory: pytest.TempPathFactory, monkeypatch) -> Iterator[None]:
    """No test reads or writes the real user's settings or data (the history), whatever
    QSettings() it builds."""
    folder = tmp_path_factory.mktemp("qsettings")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path_factory.mktemp("data")))
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    for scope in (QSettings.Scope.UserScope, QSettings.Scope.SystemScope):
        QSettings.setPath(QSettings.Format.IniFormat, scope, str(folder))
    QCoreApplication.setOrganizationName("InletTests")
    QCoreApplication.setApplicationName("InletTests")
    yield


@pytest.fixture
def settings(tmp_path: Path) -> QSettings:
    return QSettings(str(tmp_path / "inlet.ini"), QSettings.Format.IniFormat)


def record_opened(window) -> None:
    """What the window asks the desktop to open lands in ``window.opened`` (no file manager
    service: Show in folder opens the folder)."""
    window.opened = []
    window.desktop.opener = lambda url: window.opened.append(url) or True
    window.desktop.file_manager = None


class ScriptedReceiver:
    """Stands in for `inlet.core.receiver.Receiver`: runs a script of events, honours cancel."""

    def __init__(self, script, code, dest, options, on_event) -> None:
        self.script = script
        self.code = code
        self.dest = Path(dest) if dest is not None else None
        self.options = options
        self.on_event = on_event
        self.cancelled = threading.Event()
        self.cancel_thread: str | None = None
        self.overwrite: dict[str, bool] = {}
        self.run_thread: str | None = None

    def cancel(self) -> None:
        self.cancel_thread = threading.current_thread().name
        self.cancelled.set()

    def set_overwrite(self, name: str, value: bool) -> None:
        self.overwrite[name] = value

    def emit(self, event: object) -> None:
        self.on_event(event)

    def run(self):
        self.run_thread = threading.current_thread().name
        self.script(self)
        return None


class ReceiverFactory:
    """Builds `ScriptedReceiver`s with one script and remembers them."""

    def __init__(self, script: Callable[[ScriptedReceiver], None]) -> None:
        self.script = script
        self.created: list[ScriptedReceiver] = []

    def __call__(self, code, dest, options, on_event) -> ScriptedReceiver:
        receiver = ScriptedReceiver(self.script, code, dest, options, on_event)
        self.created.append(receiver)
        return receiver


def started(*files: tuple[str, int], **kwargs) -> TransferStarted:
    infos = tuple(FileInfo(name, size) for name, size in files)
    return TransferStarted(files=infos, total_size=sum(s for _, s in files), **kwargs)


def complete_all(files: list[tuple[str, int]], dest: Path | None = None):
    """A script receiving ``files`` in order, ending well: the events the real receiver emits
    for a fresh transfer (pinned by tests/gui/test_contract.py)."""

    def script(r: ScriptedReceiver) -> None:
        r.emit(started(*files))
        for name, size in files:
            r.emit(FileStatusChanged(name, FileStatus.IN_PROGRESS, FileStatus.PENDING))
            r.emit(FileProgress(name, size // 2, size))
            r.emit(FileProgress(name, size, size))
            final = str((dest or r.dest) / name)
            r.emit(
                FileStatusChanged(
                    name, FileStatus.COMPLETED, FileStatus.IN_PROGRESS, final_path=final
                )
            )
        r.emit(TransferFinished(ok=True))

    return script


def block_until_cancelled(files: list[tuple[str, int]]):
    """A script that starts, sends half of the first file, then waits for cancel."""

    def script(r: ScriptedReceiver) -> None:
        r.emit(started(*files))
        name, size = files[0]
        r.emit(FileStatusChanged(name, FileStatus.IN_PROGRESS, FileStatus.PENDING))
        r.emit(FileProgress(name, size // 2, size))
        assert r.cancelled.wait(20), "never cancelled"
        r.emit(
            TransferFinished(
                ok=False, error="The transfer was cancelled. Resume later.", resumable=True
            )
        )

    return script


SAMPLE_FILES = [("photos/a.jpg", 1000), ("photos/b.jpg", 3000), ("notes/todo.txt", 10)]


class RecordingNotifier:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str, bool]] = []

    def notify(self, title: str, text: str, ok: bool = True) -> None:
        self.sent.append((title, text, ok))


@pytest.fixture
def make_window(qtbot, settings):
    """MainWindow(s) with scripted receivers that confirm every question (no modal dialog)."""
    from inlet.gui.window import MainWindow

    windows: list[MainWindow] = []

    def make(script=None, **kwargs) -> tuple[MainWindow, ReceiverFactory]:
        factory = ReceiverFactory(script or complete_all(SAMPLE_FILES))
        kwargs.setdefault("settings", settings)
        kwargs.setdefault("notifier", RecordingNotifier())
        window = MainWindow(receiver_factory=factory, **kwargs)
        window._confirm = lambda *args: True  # no modal dialogs unless a test asks for them
        qtbot.addWidget(window)
        windows.append(window)
        return window, factory

    yield make
    for window in windows:
        window._confirm = lambda *args: True
        window.shutdown()


@pytest.fixture
def window(qtbot, settings):
    """The real window, shown (offscreen), with real receivers; every question confirmed."""
    from inlet.gui.window import MainWindow

    win = MainWindow(settings=settings, notifier=RecordingNotifier())
    record_opened(win)
    win._confirm = lambda *args: True
    qtbot.addWidget(win)
    win.resize(1000, 500)
    win.show()
    qtbot.waitExposed(win)
    yield win
    win.shutdown()
