"""The main window: a form, a banner, the rows and a status bar, and the flow between them.

The window composes small widgets (`TransferForm` at the top, the `Banner`, `TransferView`
with the rows, `TransferStatus` in the status bar); the model is the one source of rows and
totals. The window itself only runs the flow: which folder a receive uses, starting and
cancelling, what a transfer's end says, what a row's action does, asking before data is lost.

It is the GUI thread's only actor. It asks the worker for everything that touches a disk or a
socket (receiving, reading a folder's resume state, creating or discarding) through queued
signals, and passes commands to a running receive through the worker's thread-safe methods.
"""

from __future__ import annotations

import itertools
import time
from pathlib import Path

from PySide6.QtCore import QSettings, Qt, QThread, QTimer, Signal
from PySide6.QtGui import (
    QCloseEvent,
    QGuiApplication,
    QKeySequence,
    QShortcut,
)
from PySide6.QtWidgets import QApplication, QMainWindow, QMessageBox, QVBoxLayout, QWidget

from inlet.core.codes import TransferCode, WormholeCode
from inlet.core.events import TransferFinished
from inlet.core.nearby import NearbySender

from . import history
from .coalesce import UpdateBatch
from .desktop import Desktop, Notifier
from .drain import BatchDrain
from .dropping import FolderDrop
from .form import TransferForm
from .model import Column, FileRow, RowAction, RowState, TransferModel
from .nearby import BrowserFactory, NearbyList
from .offer import OfferQuestion
from .qtcompat import emit
from .questions import discard_question, quit_question
from .rate import RateWindow
from .servers import ServersDialog, chosen_servers
from .statusbar import TransferStatus
from .transfer_view import TransferView
from .verdict import verdict
from .widgets import Banner, BannerKind, Button, DropOverlay, MessageDialog, app_icon
from .worker import FolderInfo, ReceiveRequest, ReceiverFactory, ReceiveWorker, SessionStart

SETTINGS_DESTINATION = "destination"
SETTINGS_GEOMETRY = "window/geometry"
SETTINGS_COLUMNS = "window/columns"  # "Size=80,Status=300": the widths a person dragged
STATUS_REFRESH_MS = 200
TICK_MS = 1000  # the speed and time left are refreshed at least this often while receiving
MINIMUM_SIZE = (640, 400)


class MainWindow(QMainWindow):
    """Inlet's window. ``receiver_factory`` and ``notifier`` are seams for tests; ``nearby``
    builds the browser for nearby senders (None: the window does not look for them)."""

    #: queued to the worker thread
    receiveRequested = Signal(object)
    inspectRequested = Signal(str)
    createRequested = Signal(str)
    discardRequested = Signal(str)
    historyRecorded = Signal(str, object)
    #: the window is idle again after a receive (for tests and the demo)
    transferDone = Signal(object)

    def __init__(
        self,
        settings: QSettings | None = None,
        code: str | None = None,
        destination: str | None = None,
        receiver_factory: ReceiverFactory | None = None,
        notifier: Notifier | None = None,
        history_path: Path | None = None,
        remember_destination: bool = True,
        nearby: BrowserFactory | None = None,
    ) -> None:
        super().__init__()
        self.settings = settings if settings is not None else QSettings()
        self.setWindowTitle("Inlet")
        self.setWindowIcon(app_icon())
        self.setMinimumSize(*MINIMUM_SIZE)
        self.resize(920, 560)
        self.model = TransferModel(self)
        self.rate = RateWindow()
        self.desktop = Desktop(self)
        self.running = False
        self.cancel_requested = False
        self.last_finished: TransferFinished | None = None
        self._ending = ""  # the status bar's line for the last ending (see Verdict.status)
        self.message_dialog: MessageDialog | None = None
        self._folder: Path | None = None
        self._interrupted = False
        #: the field's text a Receive waits for the worker to look at (then it starts)
        self._receive_when_inspected: str | None = None
        #: where the running (or last) receive saves its files
        self._receiving_into: Path | None = None
        #: asks a person to confirm a step that loses data (a seam for tests)
        self._confirm = self._ask
        #: False for the demo: its temporary folder must not become the next start's folder
        self.remember_destination = remember_destination
        self.history_path = history_path if history_path is not None else history.default_path()
        self._code: TransferCode | WormholeCode | None = None  # the running (or last) one's
        self._asked: frozenset[str] | None = None  # the files it asked for (None: every one)
        self.history_dialog: history.HistoryDialog | None = None
        self.servers_dialog: ServersDialog | None = None

        self._build_ui()
        self.notifier = notifier if notifier is not None else Notifier(app_icon(), self)
        self._start_worker(receiver_factory)
        self._connect()
        if nearby is not None:
            self.nearby.start(nearby)
        else:
            self.nearby.hide()

        self.table.set_preferred(_read_widths(self.settings.value(SETTINGS_COLUMNS, "", type=str)))
        geometry = self.settings.value(SETTINGS_GEOMETRY)
        if geometry is not None:
            self.restoreGeometry(geometry)
        if code:
            self.code_edit.setText(code)
        destination = destination or self.settings.value(SETTINGS_DESTINATION, "", type=str)
        if destination:
            self.set_destination(destination)
        self._refresh_status()

    # -- building ----------------------------------------------------------------------------------

    def _build_ui(self) -> None:
        central = QWidget(self)
        self.setCentralWidget(central)
        self.nearby = NearbyList(central)
        self.form = TransferForm(central)
        self.banner = Banner(central)
        self.view = TransferView(self.model, central)
        self.status = TransferStatus(self.statusBar())
        outer = QVBoxLayout(central)
        outer.addWidget(self.nearby)
        outer.addWidget(self.form)
        outer.addWidget(self.view, 1)
        # Below the rows: a banner that comes and goes never moves a row a person aims at.
        outer.addWidget(self.banner)
        self.overlay = DropOverlay(central)
        self.offer = OfferQuestion(self)  # a wormhole sender's, waiting for Receive or Decline
        self.drop = FolderDrop(self, self.overlay, self.centralWidget, lambda: not self.running)
        self.history_button = Button("&Past transfers…", "Past transfers", central)
        self.history_button.setToolTip("When, from whom and where files were received (Ctrl+H)")
        self.view.tools.addWidget(self.history_button)
        self.servers_button = Button("&Wormhole servers…", "Wormhole servers", central)
        self.servers_button.setToolTip(
            "The mailbox server and transit relay wormhole codes use (default: the public ones)"
        )
        self.view.tools.addWidget(self.servers_button)

        # The parts a person (and a test) reaches through the window.
        form, view, status = self.form, self.view, self.status
        self.code_edit, self.code_hint = form.code_edit, form.code_hint
        self.dest_edit, self.dest_hint = form.dest_edit, form.dest_hint
        self.receive_button, self.choose_button = form.receive_button, form.choose_button
        self.create_folder_button = form.create_folder_button
        self.overwrite_default, self.retry_all_button = (
            view.overwrite_default,
            view.retry_all_button,
        )
        self.table, self.delegate = view.table, view.delegate
        self.summary_label, self.overall_bar = status.summary_label, status.overall_bar
        self.cancel_button = status.cancel_button

        order = [
            self.nearby.list,
            self.code_edit, self.receive_button, self.dest_edit, self.choose_button,
            self.create_folder_button, self.overwrite_default, view.clear_button,
            self.retry_all_button, self.table, self.banner.resume_button,
            self.banner.discard_button, self.banner.show_folder_button, self.banner.copy_button,
            self.banner.dismiss_button, self.cancel_button,
        ]  # fmt: skip
        for first, second in itertools.pairwise(order):
            self.setTabOrder(first, second)

        self.drain = BatchDrain(
            lambda batch: self.model.stage(batch), lambda: self.model.publish(), self
        )
        self._pending_finish: TransferFinished | None = None
        self._status_timer = QTimer(self)
        self._status_timer.setSingleShot(True)
        self._status_timer.setInterval(STATUS_REFRESH_MS)
        self._tick_timer = QTimer(self)
        self._tick_timer.setInterval(TICK_MS)

    def _start_worker(self, receiver_factory: ReceiverFactory | None) -> None:
        self.thread_ = QThread(self)
        self.thread_.setObjectName("inlet-worker")
        self.worker = ReceiveWorker(receiver_factory)
        self.worker.moveToThread(self.thread_)
        self.thread_.finished.connect(self.worker.deleteLater)
        self.thread_.start()

    def _connect(self) -> None:
        self.receiveRequested.connect(self.worker.receive)
        self.drop.dropped.connect(self.set_destination)
        self.inspectRequested.connect(self.worker.inspect)
        self.createRequested.connect(self.worker.create_folder)
        self.discardRequested.connect(self.worker.discard)
        self.historyRecorded.connect(self.worker.record_history)
        self.worker.transferStarted.connect(self._on_started)
        self.worker.updates.connect(self._on_updates)
        self.worker.transferFinished.connect(self._on_finished)
        self.worker.folderInspected.connect(self._on_folder)
        self.worker.filesAdded.connect(self.model.add_rows)
        self.worker.offerReceived.connect(self._on_offer)
        self.offer.answered.connect(self._answer_offer)
        self.worker.discarded.connect(self._on_discarded)

        self.form.receiveRequested.connect(self.start_receive)
        self.nearby.picked.connect(self._nearby_picked)
        self.form.destinationChosen.connect(self.set_destination)
        self.form.createRequested.connect(self.create_folder)
        self.view.actionRequested.connect(self.run_action)
        self.view.retryAllRequested.connect(self.retry_failed)
        self.desktop.failed.connect(self._desktop_failed)
        self.cancel_button.clicked.connect(self.cancel)
        # Not a queued connection (a slot of the worker would be: it lives in the worker thread,
        # which may be blocked in the receiver); set_overwrite is thread-safe, memory only.
        self.model.overwriteChanged.connect(self._overwrite_changed)
        self.model.countsChanged.connect(self._schedule_status)
        self.banner.resume_button.clicked.connect(lambda: self.start_receive())
        self.banner.discard_button.clicked.connect(self.discard)
        self.banner.anyway_button.clicked.connect(lambda: self.start_receive(check_space=False))
        self.banner.choose_button.clicked.connect(self.form.choose)
        self.banner.message_button.clicked.connect(self._reshow_message)
        self.banner.show_folder_button.clicked.connect(self._show_destination)
        self._status_timer.timeout.connect(self._refresh_status)
        self._tick_timer.timeout.connect(self._refresh_status)
        self.drain.applied.connect(self._refresh_status)  # the model's counts: O(1)
        self.drain.drained.connect(self._on_drained)
        QShortcut(QKeySequence(Qt.Key.Key_Escape), self, activated=self._escape)
        QShortcut(QKeySequence("Ctrl+L"), self, activated=self.form.focus_code)
        QShortcut(QKeySequence("Ctrl+O"), self, activated=self.form.choose)
        QShortcut(QKeySequence("Ctrl+H"), self, activated=self.show_history)
        self.history_button.clicked.connect(self.show_history)
        self.servers_button.clicked.connect(self.choose_servers)
        self.table.widthsChanged.connect(self._remember_widths)

    # -- the destination ---------------------------------------------------------------------------

    @property
    def destination(self) -> Path | None:
        return self._folder

    def set_destination(self, path: str) -> None:
        """Show ``path`` in Save to and ask the worker what is there (a file means its folder;
        resume state is read)."""
        if self.running:
            self.banner.show_message(
                BannerKind.WARNING, "Cancel the running transfer before choosing another folder."
            )
            return
        self.form.show_destination(path)
        emit(self.inspectRequested, path.strip())

    def _dest_text(self) -> str:
        return self.form.dest_text()

    def create_folder(self, path: str) -> None:
        """Create the missing folder Save to shows (in the worker thread)."""
        if path and not self.running:
            emit(self.createRequested, path)

    def _on_folder(self, info: FolderInfo) -> None:
        """The worker looked at a path. The field is the truth: an answer about a path the
        field no longer shows is stale, and a Receive that waited for this answer starts now
        (or not at all, when the path is not a folder)."""
        if self.running or info.requested != self._dest_text():
            return
        receive = self._receive_when_inspected == info.requested
        self._receive_when_inspected = None
        previous = self._folder
        if info.folder is None:
            self._folder = None
            self.form.show_dest_problem(info.error or "", can_create=info.missing)
            if self._interrupted:
                self._interrupted = False
                self.model.clear()
                self.banner.hide()
            self._refresh_status()
            return
        self._folder = info.folder
        self.form.confirm_destination(info.folder)
        if self.remember_destination:
            self.settings.setValue(SETTINGS_DESTINATION, str(info.folder))
        if previous != info.folder and self.banner.kind == BannerKind.SUCCESS:
            self.banner.hide()  # "received into <the old folder>" no longer describes this one
        if info.error:  # a lock file that cannot be read
            self._interrupted = True
            self.model.clear()
            self.banner.show_message(BannerKind.ERROR, info.error, discard=True)
        elif info.interrupted is not None:
            self._interrupted = True
            self.model.show_saved(info.interrupted, info.rows)
            self.banner.show_message(
                BannerKind.WARNING,
                f"Interrupted transfer found here: {info.interrupted.describe()}. Paste the "
                "sender's code (a restarted sender prints a new one) and resume, or discard it.",
                resume=True,
                discard=True,
            )
        elif self._interrupted:  # the previous folder's resume offer no longer applies
            self._interrupted = False
            self.model.clear()
            self.banner.hide()
        self._refresh_status()
        if receive:
            self.start_receive()

    def discard(self) -> None:
        """Delete the interrupted transfer's unfinished files, once the person confirms."""
        if self._folder is None or self.running:
            return
        if not self._confirm(
            "Discard the interrupted transfer?",
            discard_question(self.model.rows(), self._folder),
            "Discard",
        ):
            return
        emit(self.discardRequested, str(self._folder))

    def _on_discarded(self, folder: str, error: str) -> None:
        if error:
            self.banner.show_message(BannerKind.ERROR, error)
            return
        if self._folder is not None and Path(folder) == self._folder:
            self._interrupted = False
            self.model.clear()
            self.code_hint.hide()
            self.banner.show_message(
                BannerKind.INFO, "The interrupted transfer was discarded; completed files stay."
            )
            self._refresh_status()

    # -- receiving ---------------------------------------------------------------------------------

    def start_receive(self, only: frozenset[str] | None = None, check_space: bool = True) -> bool:
        """Receive (or resume) with the code and the folder shown; ``only``: just those files
        (a Retry), when the sender can send some files alone; ``check_space``: stop first when
        they do not fit on the disk (Receive anyway turns it off).

        True when a receive starts, or starts as soon as the worker has confirmed that the
        folder the field shows (typed since it was last looked at) is one.
        """
        if self.running:
            return False
        code = self.form.check_code()
        if code is None:
            self.form.ask_for_code()
            return False
        text = self._dest_text()
        if not text and isinstance(code, WormholeCode):
            self.form.ask_for_destination()
            return False
        # No folder: enough for a text message (files stop at their list and ask for one).
        if text and (self._folder is None or Path(text).expanduser() != self._folder):
            self._receive_when_inspected = text  # `_on_folder` starts it, or explains
            emit(self.inspectRequested, text)
            return True
        folder = self._folder if text else None
        if self._receiving_into not in (None, folder) and not self.model.has_saved:
            self.model.clear()  # another folder's rows say nothing about this one
        request = ReceiveRequest(
            code=code,
            dest=folder,
            overwrite_default=self.overwrite_default.isChecked(),
            overwrite=self.model.overwrite_choices(),
            only=only if self.model.selectable else None,
            check_space=check_space,
            **(vars(chosen_servers(self.settings)) if isinstance(code, WormholeCode) else {}),
        )
        self._asked = None
        self.running = True
        self._code = code
        self.cancel_requested = False
        self.last_finished = None
        self._receiving_into = folder
        self.rate.clear()
        self._tick_timer.start()
        self.banner.hide()
        self._set_busy(True)
        if isinstance(code, WormholeCode):
            self.status.say("Waiting for the sender at the wormhole mailbox…")
        else:
            self.status.say(f"Connecting to {code.host}:{code.port}…")
        self.worker.prepare()
        emit(self.receiveRequested, request)
        return True

    def cancel(self) -> None:
        if self.running:
            self.cancel_requested = True
            self.cancel_button.setEnabled(False)
            self.status.say("Cancelling… everything received so far is kept.")
            self.offer.close()
            self.worker.cancel()

    def _on_offer(self, offer: object) -> None:
        """A wormhole sender's offer: Receive or Decline (the worker waits for the answer)."""
        self.offer.ask(offer, self._receiving_into)
        self.status.say(f"The sender offers {offer.describe()}.")

    def _answer_offer(self, accept: bool) -> None:
        self.worker.answer_offer(accept)
        if accept:
            self.status.say("Receiving through the wormhole…")

    @property
    def offer_box(self) -> QMessageBox | None:
        """The open offer's box, if any (for tests and the screenshots)."""
        return self.offer.box

    def _escape(self) -> None:
        if self.running:
            self.cancel()
        elif self.banner.isVisible():
            self.banner.hide()

    def _overwrite_changed(self, name: str, replace_existing: bool) -> None:
        self.worker.set_overwrite(name, replace_existing)

    def _nearby_picked(self, sender: NearbySender) -> None:
        """A nearby sender was picked: its address goes in, the person types the words."""
        if not self.running:
            self.form.fill_address(sender.address, sender.name)

    def _set_busy(self, busy: bool) -> None:
        self.nearby.setEnabled(not busy)
        self.form.set_busy(busy)
        self.view.set_busy(busy)
        self.status.set_busy(busy)

    def _on_started(self, start: SessionStart) -> None:
        self._interrupted = False
        self._asked = start.event.selected
        self.rate.clear()
        self.model.start(start.event, start.rows)
        self._refresh_status()

    def _on_updates(self, batch: UpdateBatch) -> None:
        """Queue a batch; the drain applies it in slices so no turn of the event loop stalls."""
        self.drain.add(batch)

    def _on_drained(self) -> None:
        if self._pending_finish is not None:
            finished, self._pending_finish = self._pending_finish, None
            self._on_finished(finished)

    def _on_finished(self, finished: TransferFinished) -> None:
        if self.drain.pending:  # the rows first, then the verdict
            self._pending_finish = finished
            return
        self.running = False
        self.last_finished = finished
        self._tick_timer.stop()
        if not finished.ok:
            self.model.stop(resumable=finished.resumable)
        self._set_busy(False)
        self._ending = ""
        if finished.message_text is not None:
            self._show_message(finished.message_text)
            title, text = "Inlet: message received", finished.message_text[:200]
        else:
            said = verdict(
                finished,
                folder=self._receiving_into,
                rows=self.model.rowCount(),
                asked=self._asked,
                cancelled=self.cancel_requested,
                wormhole=isinstance(self._code, WormholeCode),
                stopped_rows=lambda: any(r.state == RowState.STOPPED for r in self.model.rows()),
            )
            if said.ask_folder:
                self.form.ask_for_destination()
            self.banner.show_message(
                said.kind,
                said.text,
                resume=said.resume,
                show_folder=said.show_folder,
                no_room=said.no_room,
            )
            title, text = said.title, said.text
            self._ending = said.status
        self._refresh_status()
        if finished.message_text is None and not finished.needs_folder:
            self._record(finished)
        if not self.isActiveWindow():
            QApplication.alert(self)  # the taskbar entry asks for attention
            self.notifier.notify(title, text, ok=finished.ok)
        emit(self.transferDone, finished)

    def _record(self, finished: TransferFinished) -> None:
        """One line in the history for a transfer of files (in the worker: a disk write)."""
        if finished.ok:
            outcome = "received"
        elif self.cancel_requested:
            outcome = "cancelled"
        else:
            outcome = "failed"
        entry = history.HistoryEntry(
            when=time.time(),
            sender=self._code.host if self._code else "",
            files=self.model.rowCount(),
            size=self.model.total_bytes,
            folder=str(self._receiving_into or ""),
            outcome=outcome,
        )
        emit(self.historyRecorded, str(self.history_path), entry)

    def choose_servers(self) -> None:
        """Self-hosted wormhole servers (kept in the settings); the next receive uses them."""
        self.servers_dialog = ServersDialog(self.settings, self)
        self.servers_dialog.open()

    def show_history(self) -> None:
        """The past transfers, newest first, with Open folder."""
        entries = history.read(self.history_path)
        self.history_dialog = history.HistoryDialog(entries, self.desktop.open, self)
        self.history_dialog.show()

    def _show_message(self, text: str) -> None:
        self.banner.show_message(BannerKind.INFO, "A text message arrived.", message=True)
        self.message_dialog = MessageDialog(text, self)
        self.message_dialog.setModal(False)
        self.message_dialog.show()

    def _reshow_message(self) -> None:
        """The banner's Show message: the dialog again, for a person who closed it."""
        if self.message_dialog is not None:
            self.message_dialog.show()
            self.message_dialog.raise_()
            self.message_dialog.activateWindow()

    # -- rows --------------------------------------------------------------------------------------

    def run_action(self, row: int, action: RowAction) -> None:
        """Do a row's action: Retry receives again; Open and Show go through the desktop."""
        if not 0 <= row < self.model.rowCount():
            return
        file = self.model.row(row)
        if action not in self.view.menu_actions(row) or self.running:
            return
        if action == RowAction.RETRY:
            self.start_receive(only=frozenset({file.name}))
            return
        if action == RowAction.RECEIVE_AGAIN:
            self.start_receive()
            return
        path = self._path_of(file)
        if action == RowAction.OPEN:
            self.desktop.open(path)
        elif action == RowAction.SHOW:
            self.desktop.show_in_folder(path)
        else:
            QGuiApplication.clipboard().setText(str(path))

    def retry_failed(self) -> bool:
        """Receive the failed files again (only them, when the sender can send some alone)."""
        failed = frozenset(r.name for r in self.model.rows() if r.state == RowState.FAILED)
        return bool(failed) and self.start_receive(only=failed)

    def _path_of(self, file: FileRow) -> Path:
        """Where a row's file is: its final path (absolute, or relative to the folder)."""
        assert self._folder is not None
        name = file.final_path or file.name
        path = Path(name)
        return path if path.is_absolute() else self._folder.joinpath(*name.split("/"))

    def _show_destination(self) -> None:
        folder = self._receiving_into or self._folder
        if folder is not None:
            self.desktop.open(folder)

    def _desktop_failed(self, what: str, path: str) -> None:
        self.banner.show_message(
            BannerKind.WARNING,
            f"Could not open {path}: this desktop has no application set up to open it. "
            "Copy the path and open it in your file manager.",
            copy=path,
        )

    # -- status bar --------------------------------------------------------------------------------

    def _schedule_status(self) -> None:
        """Recount at most every STATUS_REFRESH_MS (Transmission defers its recounts too)."""
        if not self._status_timer.isActive():
            self._status_timer.start()

    def _refresh_status(self) -> None:
        """The status bar and the title, from the model's counts (kept as rows change)."""
        self.view.update_tools()
        total = self.model.rowCount()
        self.overall_bar.setVisible(total > 0)  # no 0 % bar for a message, or before a list
        if not self.running:
            self.setWindowTitle("Inlet")
            if total == 0:
                self.status.say_idle(
                    message=self.model.is_message,
                    folder=self._folder is not None,
                    code=bool(self.code_edit.text().strip()),
                    ending=self._ending if not self.banner.isHidden() else "",
                )
            else:
                self.status.show_totals(self.model, None)
            return
        if total == 0 or self.cancel_requested:
            return  # "Connecting to…", "Cancelling…" stay until there is something to count
        self.rate.add(time.monotonic(), self.model.held_bytes)
        shown = self.status.show_totals(self.model, self.rate)
        self.setWindowTitle(f"{shown} % — Inlet")

    # -- closing -----------------------------------------------------------------------------------

    def _remember_widths(self) -> None:
        widths = ",".join(f"{c.name}={w}" for c, w in self.table.preferred.items())
        self.settings.setValue(SETTINGS_COLUMNS, widths)

    def closeEvent(self, event: QCloseEvent) -> None:
        done, _, total = self.model.counts()
        question = quit_question(done, total, self._receiving_into)
        if self.running and not self._confirm("Quit Inlet?", question, "Quit"):
            event.ignore()
            return
        self.settings.setValue(SETTINGS_GEOMETRY, self.saveGeometry())
        self.shutdown()
        super().closeEvent(event)

    def _ask(self, title: str, text: str, yes: str) -> bool:
        """A question with a button that does it and one that does not (the default)."""
        box = QMessageBox(QMessageBox.Icon.Warning, title, text, parent=self)
        box.setTextFormat(Qt.TextFormat.PlainText)
        doit = box.addButton(yes, QMessageBox.ButtonRole.DestructiveRole)
        keep = box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(keep)
        box.exec()
        return box.clickedButton() is doit

    def shutdown(self, timeout_ms: int = 15_000) -> None:
        """Cancel a running receive (kept for resume) and stop the worker thread."""
        if self.running:
            self.cancel()
        self.nearby.stop()
        self.thread_.quit()
        self.thread_.wait(timeout_ms)


def _read_widths(text: str) -> dict[Column, int]:
    """``Size=80,Status=300`` as `_remember_widths` wrote it; anything else is ignored."""
    widths: dict[Column, int] = {}
    for item in text.split(","):
        name, _, value = item.partition("=")
        if name in Column.__members__ and value.isdigit():
            widths[Column[name]] = min(int(value), 2000)
    return widths
