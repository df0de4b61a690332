"""The main window: code, destination, one row per file, and what to do when things go wrong.

The window is the GUI thread's only actor. It asks the worker for everything that touches a disk
or a socket (receiving, reading a folder's resume state, discarding it) through queued signals,
and passes commands to a running receive through the worker's thread-safe methods.
"""

from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import QModelIndex, QPoint, QSettings, Qt, QThread, QTimer, Signal
from PySide6.QtGui import (
    QAction,
    QCloseEvent,
    QDragEnterEvent,
    QDragLeaveEvent,
    QDragMoveEvent,
    QDropEvent,
    QKeySequence,
    QResizeEvent,
    QShortcut,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QCheckBox,
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QMainWindow,
    QMenu,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from inlet.core.codes import TransferCode, parse_code
from inlet.core.errors import CodeError
from inlet.core.events import TransferFinished
from inlet.core.progress import format_size, summary_text

from .coalesce import UpdateBatch
from .delegate import TransferDelegate
from .desktop import Desktop, Notifier
from .drain import BatchDrain
from .model import Column, FileRow, Role, RowAction, RowState, TransferModel
from .qtcompat import emit
from .rate import RateWindow, percent
from .widgets import Banner, BannerKind, DropOverlay, MessageDialog, app_icon, plain_label
from .worker import FolderInfo, ReceiveRequest, ReceiverFactory, ReceiveWorker, SessionStart

SETTINGS_DESTINATION = "destination"
STATUS_REFRESH_MS = 200
TICK_MS = 1000  # the speed and time left are refreshed at least this often while receiving
HINT_STYLE = "color: #c62828;"


class MainWindow(QMainWindow):
    """Inlet's window. ``receiver_factory`` and ``notifier`` are seams for tests."""

    #: queued to the worker thread
    receiveRequested = Signal(object)
    inspectRequested = Signal(str)
    createRequested = Signal(str)
    discardRequested = Signal(str)
    #: the window is idle again after a receive (for tests and the demo)
    transferDone = Signal(object)

    def __init__(
        self,
        settings: QSettings | None = None,
        code: str | None = None,
        destination: str | None = None,
        receiver_factory: ReceiverFactory | None = None,
        notifier: Notifier | None = None,
    ) -> None:
        super().__init__()
        self.settings = settings if settings is not None else QSettings()
        self.setWindowTitle("Inlet")
        self.setWindowIcon(app_icon())
        self.setAcceptDrops(True)
        self.resize(920, 560)
        self.model = TransferModel(self)
        self.rate = RateWindow()
        self.desktop = Desktop(self)
        self.running = False
        self.cancel_requested = False
        self.last_finished: TransferFinished | None = None
        self.message_dialog: MessageDialog | None = None
        self._folder: Path | None = None
        self._interrupted = False
        #: the field's text a Receive waits for the worker to look at (then it starts)
        self._receive_when_inspected: str | None = None
        #: where the running (or last) receive saves its files
        self._receiving_into: Path | None = None
        #: asks a person to confirm a step that loses data (a seam for tests)
        self._confirm = self._ask

        self._build_ui()
        self.notifier = notifier if notifier is not None else Notifier(app_icon(), self)
        self._start_worker(receiver_factory)
        self._connect()

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
        outer = QVBoxLayout(central)

        form = QGridLayout()
        code_label = plain_label("&Code", central)
        self.code_edit = QLineEdit(central)
        self.code_edit.setPlaceholderText(
            "Paste the code the sender printed, e.g. 100.64.1.123:ocean-tiger-piano-ruby"
        )
        self.code_edit.setAccessibleName("Transfer code")
        self.code_edit.setAccessibleDescription("The code the sender printed, HOST:TOKEN")
        self.code_edit.setClearButtonEnabled(True)
        self.code_edit.setAcceptDrops(False)  # a folder dropped anywhere sets the destination
        code_label.setBuddy(self.code_edit)
        self.receive_button = QPushButton("&Receive", central)
        self.receive_button.setAccessibleName("Receive")
        self.receive_button.setToolTip("Connect to the sender and receive its files (Enter)")
        self.receive_button.setDefault(True)
        self.code_hint = plain_label("", central)
        self.code_hint.setStyleSheet(HINT_STYLE)
        self.code_hint.setWordWrap(True)
        self.code_hint.setAccessibleName("Code problem")
        self.code_hint.hide()

        dest_label = plain_label("Save &to", central)
        self.dest_edit = QLineEdit(central)
        self.dest_edit.setPlaceholderText("Choose a folder, or drop one anywhere on this window")
        self.dest_edit.setAccessibleName("Destination folder")
        self.dest_edit.setAcceptDrops(False)
        dest_label.setBuddy(self.dest_edit)
        self.choose_button = QPushButton("C&hoose…", central)
        self.choose_button.setAccessibleName("Choose destination folder")
        self.choose_button.setToolTip("Choose the folder to save the files in")
        drop_hint = plain_label("or drop a folder anywhere on this window", central)
        drop_hint.setEnabled(False)
        self.dest_hint = plain_label("", central)
        self.dest_hint.setStyleSheet(HINT_STYLE)
        self.dest_hint.setWordWrap(True)
        self.dest_hint.setAccessibleName("Destination problem")
        self.dest_hint.hide()
        self.create_folder_button = QPushButton("Cr&eate folder", central)
        self.create_folder_button.setAccessibleName("Create the folder")
        self.create_folder_button.setToolTip("Create the folder shown in Save to")
        self.create_folder_button.hide()

        form.addWidget(code_label, 0, 0)
        form.addWidget(self.code_edit, 0, 1)
        form.addWidget(self.receive_button, 0, 2)
        form.addWidget(self.code_hint, 1, 1, 1, 2)
        form.addWidget(dest_label, 2, 0)
        form.addWidget(self.dest_edit, 2, 1)
        form.addWidget(self.choose_button, 2, 2)
        form.addWidget(drop_hint, 3, 1)
        form.addWidget(self.dest_hint, 4, 1)
        form.addWidget(self.create_folder_button, 4, 2)
        form.setColumnStretch(1, 1)
        outer.addLayout(form)

        self.banner = Banner(central)
        outer.addWidget(self.banner)

        tools = QHBoxLayout()
        self.overwrite_default = QCheckBox(
            "Replace e&xisting files (default for every row)", central
        )
        self.overwrite_default.setAccessibleName("Replace existing files by default")
        self.overwrite_default.setToolTip(
            "Unchecked: a file that already exists here is kept and the new one is saved as "
            "name_1.ext. Each row's Overwrite box can differ."
        )
        self.retry_all_button = QPushButton("Retry all &failed", central)
        self.retry_all_button.setAccessibleName("Retry all failed files")
        self.retry_all_button.hide()
        tools.addWidget(self.overwrite_default)
        tools.addStretch(1)
        tools.addWidget(self.retry_all_button)
        outer.addLayout(tools)

        self.table = QTableView(central)
        self.table.setModel(self.model)
        # Only the painted columns go through Python; text and check boxes stay in C++.
        self.delegate = TransferDelegate(self.table)
        self.table.setItemDelegateForColumn(Column.PROGRESS, self.delegate)
        self.table.setItemDelegateForColumn(Column.ACTION, self.delegate)
        self.table.setAccessibleName("Incoming files")
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.setShowGrid(False)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(self.table.fontMetrics().height() + 14)
        self.table.setMouseTracking(True)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(Column.NAME, QHeaderView.ResizeMode.Stretch)
        for column, width in (
            (Column.SIZE, 80),
            (Column.PROGRESS, 150),
            (Column.STATUS, 190),
            (Column.OVERWRITE, 100),
            (Column.ACTION, 170),
        ):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.Interactive)
            header.resizeSection(column, width)
        header.setHighlightSections(False)
        outer.addWidget(self.table, 1)

        status = self.statusBar()
        self.summary_label = plain_label("", self)
        self.summary_label.setAccessibleName("Transfer summary")
        self.overall_bar = QProgressBar(self)
        self.overall_bar.setRange(0, 100)
        self.overall_bar.setFormat("%v %")  # the model's percent (see rate.percent)
        self.overall_bar.setMaximumWidth(220)
        self.overall_bar.setAccessibleName("Overall progress")
        self.cancel_button = QPushButton("Cancel", self)
        self.cancel_button.setAccessibleName("Cancel the transfer")
        self.cancel_button.setToolTip("Stop receiving; everything received so far is kept (Esc)")
        self.cancel_button.setEnabled(False)
        self.summary_label.setContentsMargins(6, 0, 0, 0)
        status.addWidget(self.summary_label, 1)
        status.addPermanentWidget(self.overall_bar)
        status.addPermanentWidget(self.cancel_button)

        self.overlay = DropOverlay(central)

        self.setTabOrder(self.code_edit, self.receive_button)
        self.setTabOrder(self.receive_button, self.dest_edit)
        self.setTabOrder(self.dest_edit, self.choose_button)
        self.setTabOrder(self.choose_button, self.banner.resume_button)
        self.setTabOrder(self.banner.resume_button, self.banner.discard_button)
        self.setTabOrder(self.banner.discard_button, self.banner.show_folder_button)
        self.setTabOrder(self.banner.show_folder_button, self.banner.dismiss_button)
        self.setTabOrder(self.banner.dismiss_button, self.overwrite_default)
        self.setTabOrder(self.overwrite_default, self.retry_all_button)
        self.setTabOrder(self.retry_all_button, self.table)
        self.setTabOrder(self.table, self.cancel_button)

        self.open_action = QAction("&Open", self)
        self.show_action = QAction("&Show in folder", self)
        self.retry_action = QAction("&Retry", self)
        self.open_action.setShortcut(QKeySequence("Ctrl+O"))
        self.show_action.setShortcut(QKeySequence("Ctrl+Shift+O"))
        for action in (self.open_action, self.show_action):
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            self.table.addAction(action)
        self.drain = BatchDrain(lambda batch: self.model.apply(batch), self)
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
        self.inspectRequested.connect(self.worker.inspect)
        self.createRequested.connect(self.worker.create_folder)
        self.discardRequested.connect(self.worker.discard)
        self.worker.transferStarted.connect(self._on_started)
        self.worker.updates.connect(self._on_updates)
        self.worker.transferFinished.connect(self._on_finished)
        self.worker.folderInspected.connect(self._on_folder)
        self.worker.discarded.connect(self._on_discarded)

        self.code_edit.textChanged.connect(self._check_code)
        self.code_edit.returnPressed.connect(self.start_receive)
        self.receive_button.clicked.connect(self.start_receive)
        self.dest_edit.editingFinished.connect(self._dest_edited)
        self.choose_button.clicked.connect(self.choose_destination)
        self.create_folder_button.clicked.connect(self.create_folder)
        self.desktop.failed.connect(self._desktop_failed)
        self.cancel_button.clicked.connect(self.cancel)
        self.retry_all_button.clicked.connect(self.start_receive)
        self.overwrite_default.toggled.connect(self.model.set_default_overwrite)
        # Not a queued connection: the worker thread may be blocked in the receiver; the worker's
        # set_overwrite is thread-safe and only writes memory.
        self.model.overwriteChanged.connect(self._overwrite_changed)
        self.model.countsChanged.connect(self._schedule_status)
        self.banner.resume_button.clicked.connect(self.start_receive)
        self.banner.discard_button.clicked.connect(self.discard)
        self.banner.show_folder_button.clicked.connect(self._show_destination)
        self.delegate.actionTriggered.connect(self._on_row_action)
        self.table.customContextMenuRequested.connect(self._context_menu)
        self.table.activated.connect(self._on_activated)
        self.open_action.triggered.connect(lambda: self._current_action(RowAction.OPEN))
        self.show_action.triggered.connect(lambda: self._current_action(RowAction.SHOW))
        self._status_timer.timeout.connect(self._refresh_status)
        self._tick_timer.timeout.connect(self._refresh_status)
        self.drain.applied.connect(self._refresh_status)  # the model's counts: O(1)
        self.drain.drained.connect(self._on_drained)
        QShortcut(QKeySequence(Qt.Key.Key_Escape), self, activated=self._escape)
        QShortcut(QKeySequence("Ctrl+L"), self, activated=self._focus_code)

    # -- the code ----------------------------------------------------------------------------------

    def _check_code(self) -> TransferCode | None:
        """Validate as the person types; an empty field is not an error yet."""
        text = self.code_edit.text()
        if not text.strip():
            self.code_hint.hide()
            return None
        try:
            code = parse_code(text)
        except CodeError as err:
            self.code_hint.setText(str(err))
            self.code_hint.show()
            return None
        self.code_hint.hide()
        return code

    def _focus_code(self) -> None:
        self.code_edit.setFocus()
        self.code_edit.selectAll()

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
        self.dest_edit.setText(path.strip())
        emit(self.inspectRequested, path.strip())

    def _dest_text(self) -> str:
        return self.dest_edit.text().strip()

    def _dest_edited(self) -> None:
        text = self._dest_text()
        if text and (self._folder is None or Path(text).expanduser() != self._folder):
            self.set_destination(text)

    def choose_destination(self) -> None:
        start = str(self._folder) if self._folder else str(Path.home())
        folder = QFileDialog.getExistingDirectory(self, "Save the files in", start)
        if folder:
            self.set_destination(folder)

    def create_folder(self) -> None:
        """Create the missing folder Save to shows (in the worker thread)."""
        text = self._dest_text()
        if text and not self.running:
            emit(self.createRequested, text)

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
            self.dest_hint.setText(info.error or "")
            self.dest_hint.show()
            self.create_folder_button.setVisible(info.missing)
            if self._interrupted:
                self._interrupted = False
                self.model.clear()
                self.banner.hide()
            self._refresh_status()
            return
        self.dest_hint.hide()
        self.create_folder_button.hide()
        self._folder = info.folder
        self.dest_edit.setText(str(info.folder))
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
            "Discard the interrupted transfer?", self._discard_question(), "Discard"
        ):
            return
        emit(self.discardRequested, str(self._folder))

    def _discard_question(self) -> str:
        rows = self.model.rows()
        if not rows:  # a lock file that cannot be read: nothing listed
            return (
                f"The unfinished (.part) files and the resume state in {self._folder} will be "
                "deleted; completed files stay."
            )
        unfinished = [r for r in rows if r.state not in (RowState.DONE, RowState.ALREADY_HERE)]
        held = sum(r.held for r in unfinished)
        got = f"{format_size(held)} received so far" if held else "nothing received yet"
        done = len(rows) - len(unfinished)
        stays = "stays" if done == 1 else "stay"
        return (
            f"{plural(len(unfinished), 'unfinished file')} ({got}) will be deleted from "
            f"{self._folder}; receiving them again starts from the beginning. "
            f"{plural(done, 'completed file')} {stays}."
        )

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

    # -- drag and drop -----------------------------------------------------------------------------

    @staticmethod
    def _dropped_path(event: QDropEvent | QDragEnterEvent | QDragMoveEvent) -> str | None:
        mime = event.mimeData()
        if not mime.hasUrls():
            return None
        for url in mime.urls():
            if url.isLocalFile():
                return url.toLocalFile()
        return None

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if not self.running and self._dropped_path(event):
            event.acceptProposedAction()
            self.overlay.setGeometry(self.centralWidget().rect())
            self.overlay.raise_()
            self.overlay.show()
        else:
            event.ignore()

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        if not self.running and self._dropped_path(event):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragLeaveEvent(self, event: QDragLeaveEvent) -> None:
        self.overlay.hide()

    def dropEvent(self, event: QDropEvent) -> None:
        self.overlay.hide()
        path = self._dropped_path(event)
        if path is None or self.running:
            event.ignore()
            return
        event.acceptProposedAction()
        self.set_destination(path)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if self.overlay.isVisible():
            self.overlay.setGeometry(self.centralWidget().rect())

    # -- receiving ---------------------------------------------------------------------------------

    def start_receive(self) -> bool:
        """Receive (or resume, or retry: the same thing) with the code and the folder shown.

        True when a receive starts, or starts as soon as the worker has confirmed that the
        folder the field shows (typed since it was last looked at) is one.
        """
        if self.running:
            return False
        code = self._check_code()
        if code is None:
            if not self.code_edit.text().strip():
                self.code_hint.setText("Paste the code the sender printed first.")
                self.code_hint.show()
            self._focus_code()
            return False
        text = self._dest_text()
        if not text:
            self.dest_hint.setText("Choose a folder to save the files in, or drop one here.")
            self.dest_hint.show()
            self.choose_button.setFocus()
            return False
        if self._folder is None or Path(text).expanduser() != self._folder:
            self._receive_when_inspected = text  # `_on_folder` starts it, or explains
            emit(self.inspectRequested, text)
            return True
        request = ReceiveRequest(
            code=code,
            dest=self._folder,
            overwrite_default=self.overwrite_default.isChecked(),
            overwrite=self.model.overwrite_choices(),
        )
        self.running = True
        self.cancel_requested = False
        self.last_finished = None
        self._receiving_into = self._folder
        self.rate.clear()
        self._tick_timer.start()
        self.banner.hide()
        self._set_busy(True)
        self.summary_label.setText(f"Connecting to {code.host}:{code.port}…")
        self.worker.prepare()
        emit(self.receiveRequested, request)
        return True

    def cancel(self) -> None:
        if self.running:
            self.cancel_requested = True
            self.cancel_button.setEnabled(False)
            self.summary_label.setText("Cancelling… everything received so far is kept.")
            self.worker.cancel()

    def _escape(self) -> None:
        if self.running:
            self.cancel()
        elif self.banner.isVisible():
            self.banner.hide()

    def _set_busy(self, busy: bool) -> None:
        for widget in (self.code_edit, self.dest_edit, self.choose_button, self.receive_button):
            widget.setEnabled(not busy)
        self.cancel_button.setEnabled(busy)
        self.model.set_busy(busy)
        self._update_retry_all()
        if busy:
            self.cancel_button.setFocus()

    def _overwrite_changed(self, name: str, replace_existing: bool) -> None:
        self.worker.set_overwrite(name, replace_existing)

    def _on_started(self, start: SessionStart) -> None:
        self._interrupted = False
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
        self._refresh_status()
        folder = self._receiving_into
        if finished.message_text is not None:
            self._show_message(finished.message_text)
            title, text = "Inlet: message received", finished.message_text[:200]
        elif finished.ok:
            total = self.model.rowCount()
            every = "The file was" if total == 1 else f"All {total} files were"
            text = f"{every} received into {folder}."
            self.banner.show_message(BannerKind.SUCCESS, text, show_folder=True)
            title = "Inlet: transfer complete"
        elif self.cancel_requested:
            text = (
                "Cancelled. Everything received so far is kept: press Resume to continue "
                "(with a new code if the sender was restarted)."
            )
            self.banner.show_message(BannerKind.INFO, text, resume=True)
            title = "Inlet: transfer cancelled"
        else:
            text = finished.error or "The transfer failed."
            if finished.resumable:
                text += " The code above can be edited: a restarted sender prints a new one."
            self.banner.show_message(
                BannerKind.ERROR, text, resume=finished.resumable, show_folder=False
            )
            title = "Inlet: transfer failed"
        if not self.isActiveWindow():
            QApplication.alert(self)  # the taskbar entry asks for attention
            self.notifier.notify(title, text, ok=finished.ok)
        emit(self.transferDone, finished)

    def _show_message(self, text: str) -> None:
        self.banner.show_message(BannerKind.INFO, "A text message arrived.")
        self.message_dialog = MessageDialog(text, self)
        self.message_dialog.setModal(False)
        self.message_dialog.show()

    # -- rows --------------------------------------------------------------------------------------

    def _on_row_action(self, row: int, action: str) -> None:
        self.run_action(row, RowAction(action))

    def run_action(self, row: int, action: RowAction) -> None:
        """Do a row's action: Retry receives again; Open and Show go through the desktop."""
        if not 0 <= row < self.model.rowCount():
            return
        file = self.model.row(row)
        if action not in file.actions() or self.running:
            return
        if action == RowAction.RETRY:
            self.start_receive()
            return
        path = self._path_of(file)
        if action == RowAction.OPEN:
            self.desktop.open(path)
        else:
            self.desktop.show_in_folder(path)

    def _path_of(self, file: FileRow) -> Path:
        """Where a row's file is: its final path (absolute, or relative to the folder)."""
        assert self._folder is not None
        name = file.final_path or file.name
        path = Path(name)
        return path if path.is_absolute() else self._folder.joinpath(*name.split("/"))

    def _current_action(self, action: RowAction) -> None:
        index = self.table.currentIndex()
        if index.isValid():
            self.run_action(index.row(), action)

    def _on_activated(self, index: QModelIndex) -> None:
        """Enter or double-click: the row's first action (Open, or Retry)."""
        actions = index.data(Role.ACTIONS) or ()
        if actions:
            self.run_action(index.row(), actions[0])

    def _context_menu(self, pos: QPoint) -> None:
        index = self.table.indexAt(pos)
        if not index.isValid():
            return
        actions = index.data(Role.ACTIONS) or ()
        if not actions:
            return
        menu = QMenu(self)
        row = index.row()
        for action in actions:
            item = menu.addAction(action.value)
            item.triggered.connect(lambda _=False, a=action: self.run_action(row, a))
        menu.popup(self.table.viewport().mapToGlobal(pos))

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
        self._update_retry_all()
        done, failed, total = self.model.counts()
        held, size = self.model.held_bytes, self.model.total_bytes
        if self.running:
            self.rate.add(time.monotonic(), held)
            self.setWindowTitle(f"{percent(held, size)} % — Inlet" if total else "Inlet")
        else:
            self.setWindowTitle("Inlet")
        if total == 0 and not self.running:
            if self.model.is_message:
                self.summary_label.setText("A text message was received.")
            elif self._folder is None:
                self.summary_label.setText("Paste a code and choose a folder to start.")
            else:
                self.summary_label.setText("Ready: paste a code and press Receive.")
            self.overall_bar.setValue(0)
            return
        if self.running:
            speed, eta = self.rate.speed, self.rate.eta_seconds(size)
        else:
            speed, eta = 0.0, None
        text = summary_text(done, total, held, size, failed=failed, speed=speed, eta=eta)
        self.summary_label.setText(text)
        self.overall_bar.setValue(percent(held, size))

    def _update_retry_all(self) -> None:
        _, failed, _ = self.model.counts()
        self.retry_all_button.setVisible(failed > 1 and not self.running)

    # -- closing -----------------------------------------------------------------------------------

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.running and not self._confirm("Quit Inlet?", self._quit_question(), "Quit"):
            event.ignore()
            return
        self.shutdown()
        super().closeEvent(event)

    def _quit_question(self) -> str:
        done, _, total = self.model.counts()
        return (
            f"A transfer is still running ({done} of {plural(total, 'file')} received). If you "
            f"quit, everything received so far is kept in {self._receiving_into}: receive "
            "again into that folder with the sender's code to resume. The files still missing "
            "arrive only then."
        )

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
        self.thread_.quit()
        self.thread_.wait(timeout_ms)


def plural(n: int, noun: str) -> str:
    """``1 file``, ``3 files``."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"
