"""The worker: runs `inlet.core.Receiver` in its own `QThread` and speaks to the window in signals.

Everything that touches a disk or a socket happens here, never in the GUI thread: receiving,
reading a folder's resume state, discarding it.

`Receiver.run()` blocks the worker thread for the whole transfer, so the worker's own event loop
cannot deliver commands or timers meanwhile. Two things make up for it:

* Commands bypass the event loop. `cancel()` only sets a flag and `set_overwrite()` only writes
  a choice into memory; both are safe from any thread (the receiver's contract). The socket is
  shut down by the *pump* thread, which sees the flag within one tick, so the GUI thread never
  touches the socket.
* The pump thread also delivers the receiver's events: the receiver's callback only buffers them
  in an `EventCoalescer`, and the pump emits what gathered as one `updates` batch every
  ``TICK_SECONDS`` (at most ~20 updates a second whatever the rate of events).
* The rows of a new file list are built here, in the receiver's callback, after the receiver
  has sent its accept (the sender streams while 100,000 rows are made). The conflicts and the
  files already here come from the core's `TransferStarted`, which resolved them against the
  destination; the worker does not look at the destination again.
"""

from __future__ import annotations

import contextlib
import gc
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtCore import QObject, Signal, Slot

from inlet.core.codes import TransferCode, WormholeCode
from inlet.core.errors import InletError
from inlet.core.events import FilesAdded, TransferFinished, TransferStarted

from . import history
from .coalesce import EventCoalescer
from .model import RowSet
from .qtcompat import emit
from .resume import InterruptedTransfer, discard_interrupted, read_interrupted

TICK_SECONDS = 0.05

ReceiverFactory = Callable[..., object]


@dataclass(frozen=True)
class ReceiveRequest:
    """Everything one receive needs, decided in the GUI thread before it starts."""

    code: TransferCode | WormholeCode
    dest: Path | None  # None: no folder (enough for a text message)
    overwrite_default: bool = False
    overwrite: dict[str, bool] = field(default_factory=dict)
    #: ask for these files only (a row's Retry); None: every file not yet here
    only: frozenset[str] | None = None
    #: stop before receiving when the files do not fit on the disk
    check_space: bool = True
    #: the wormhole's mailbox server and transit relay (the window's choice: gui/servers.py)
    mailbox: str | None = None
    relay: str | None = None


@dataclass(frozen=True)
class FolderInfo:
    """What the worker found at a path a person chose or dropped."""

    requested: str
    folder: Path | None  # the folder to receive into (a dropped file means its folder)
    interrupted: InterruptedTransfer | None = None
    error: str | None = None
    rows: RowSet | None = None  # the interrupted transfer's rows, built off the GUI thread
    missing: bool = False  # the folder does not exist yet (the window offers to create it)


@dataclass(frozen=True)
class SessionStart:
    """A transfer's file list was accepted: the event, and its rows built off the GUI thread."""

    event: TransferStarted
    rows: RowSet


def _default_factory() -> ReceiverFactory:
    from inlet.core.receiver import Receiver

    return Receiver


def _receiver_options(request: ReceiveRequest) -> object:
    from inlet.core.receiver import ReceiverOptions

    return ReceiverOptions(
        overwrite=request.overwrite_default, only=request.only, check_space=request.check_space
    )


class ReceiveWorker(QObject):
    """Lives in a worker `QThread`; its slots run there and may block."""

    #: SessionStart (the core's TransferStarted, and its rows)
    transferStarted = Signal(object)
    #: UpdateBatch — status changes and progress since the last batch
    updates = Signal(object)
    #: TransferFinished — the session is over (ok, error, message_text, resumable)
    transferFinished = Signal(object)
    #: list[FileRow] — files that became known mid-transfer (a wormhole folder's entries)
    filesAdded = Signal(object)
    #: Offer — a wormhole sender's offer: the window asks, then calls `answer_offer`
    offerReceived = Signal(object)
    #: FolderInfo — answer to `inspect`
    folderInspected = Signal(object)
    #: (folder, error or "") — answer to `discard`
    discarded = Signal(str, str)

    def __init__(
        self,
        receiver_factory: ReceiverFactory | None = None,
        options_factory: Callable[[ReceiveRequest], object] | None = None,
    ) -> None:
        super().__init__()
        self._factory = receiver_factory
        self._options_factory = options_factory or _receiver_options
        self._coalescer = EventCoalescer()
        self._emit_lock = threading.Lock()  # a batch and the event after it leave in order
        self._state_lock = threading.Lock()
        self._receiver = None
        self._cancel = threading.Event()
        self._overwrite: dict[str, bool] = {}
        self._started = False
        self._finished: TransferFinished | None = None
        self._answered = threading.Event()
        self._accepted = False

    # -- commands: safe from any thread ---------------------------------------------------------

    def prepare(self) -> None:
        """Forget a previous cancel; call before asking for a new receive."""
        self._cancel.clear()

    def cancel(self) -> None:
        """Ask the running (or the next queued) receive to stop; what arrived is kept."""
        self._cancel.set()
        self._answered.set()  # an offer waiting for its answer is declined

    def answer_offer(self, accept: bool) -> None:
        """The person's answer to `offerReceived`."""
        self._accepted = accept
        self._answered.set()

    def set_overwrite(self, name: str, replace_existing: bool) -> None:
        """A row's overwrite toggle changed; it applies until that file is finalized."""
        with self._state_lock:
            self._overwrite[name] = replace_existing
            receiver = self._receiver
        if receiver is not None:
            receiver.set_overwrite(name, replace_existing)  # memory only, thread-safe

    # -- slots: run in the worker thread --------------------------------------------------------

    @Slot(object)
    def receive(self, request: ReceiveRequest) -> None:
        """Run one receive to its end (blocks this thread), reporting through the signals."""
        factory = self._factory or _default_factory()
        code, options = request.code, None
        if isinstance(code, WormholeCode):
            from inlet.core.wormhole.receiver import WormholeReceiver

            factory, code, options = WormholeReceiver, code.code, self._wormhole_options(request)
        with self._state_lock:
            self._overwrite = dict(request.overwrite)
        self._started = False
        self._finished = None
        stop_pump = threading.Event()
        try:
            receiver = factory(
                code,
                request.dest,
                options or self._options_factory(request),
                on_event=self._on_event,
            )
            with self._state_lock:
                for name, value in self._overwrite.items():
                    receiver.set_overwrite(name, value)
                self._receiver = receiver
            pump = threading.Thread(
                target=self._pump, args=(stop_pump, receiver), name="inlet-pump", daemon=True
            )
            pump.start()
            try:
                if self._cancel.is_set():
                    receiver.cancel()
                receiver.run()
            finally:
                stop_pump.set()
                pump.join()
        except Exception as err:  # a bug must still end the session in the window
            traceback.print_exc()
            self._finished = TransferFinished(
                ok=False,
                error=(
                    f"Inlet hit an unexpected error ({type(err).__name__}: {err}). Everything "
                    "received so far is kept; try Resume, and report this if it happens again."
                ),
                resumable=True,
            )
        finally:
            with self._state_lock:
                self._receiver = None
        finished = self._finished or TransferFinished(
            ok=False, error="The transfer ended without a result.", resumable=True
        )
        with self._emit_lock:
            self._flush_locked()
            emit(self.transferFinished, finished)

    @Slot(str)
    def inspect(self, path: str) -> None:
        """Resolve a chosen or dropped path to a folder and read any interrupted transfer there."""
        emit(self.folderInspected, inspect_folder(path))

    @Slot(str)
    def create_folder(self, path: str) -> None:
        """Create the folder a person typed, then report it as `inspect` does."""
        folder = Path(path).expanduser()
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            emit(
                self.folderInspected,
                FolderInfo(
                    path,
                    None,
                    error=f"Could not create {folder}: {err.strerror or err}. "
                    "Choose another folder.",
                ),
            )
            return
        emit(self.folderInspected, inspect_folder(path))

    @Slot(str, object)
    def record_history(self, path: str, entry: object) -> None:
        """Append a finished transfer to the history (a lost line is no reason to bother
        anyone: the transfer itself is done)."""
        with contextlib.suppress(OSError):
            history.append(Path(path), entry)

    @Slot(str)
    def discard(self, folder: str) -> None:
        """Delete the interrupted transfer's unfinished files and resume state in ``folder``."""
        try:
            discard_interrupted(Path(folder))
        except OSError as err:
            emit(
                self.discarded,
                folder,
                f"Could not discard the interrupted transfer: {err.strerror or err}. "
                "Check the folder's permissions.",
            )
            return
        emit(self.discarded, folder, "")

    def _wormhole_options(self, request: ReceiveRequest) -> object:
        """The wormhole servers the window chose (its preferences, else the environment as for
        the ``wormhole`` command, else the public ones); offers are asked about in the window."""
        from inlet.core.wormhole.receiver import WormholeOptions
        from inlet.core.wormhole.servers import mailbox_url, relay_hint

        return WormholeOptions(
            mailbox_url=mailbox_url(request.mailbox),
            relay=relay_hint(request.relay),
            overwrite=request.overwrite_default,
            accept=self._ask_offer,
        )

    def _ask_offer(self, offer: object) -> bool:
        """Called by the wormhole receiver in this thread: wait for the window's answer (a
        cancel answers no)."""
        self._answered.clear()
        self._accepted = False
        if self._cancel.is_set():
            return False
        emit(self.offerReceived, offer)
        self._answered.wait()
        return self._accepted and not self._cancel.is_set()

    # -- the receiver's side --------------------------------------------------------------------

    def _on_event(self, event: object) -> None:
        """Called by the receiver in the worker thread for every event."""
        if self._coalescer.add(event):
            return
        if isinstance(event, TransferStarted):
            start = SessionStart(event, RowSet.for_transfer(event))
            # A big file list means many long-lived objects (rows here, lock entries in the
            # core). Python's full collections scan all of them while holding the GIL, which
            # stalls the GUI thread too; frozen objects are no longer scanned (they are still
            # freed as usual when their last reference goes).
            gc.freeze()
            with self._emit_lock:
                # Statuses the lock reported while preparing refer to these rows: rows first.
                self._started = True
                emit(self.transferStarted, start)
                self._flush_locked()
        elif isinstance(event, FilesAdded):
            rows = RowSet.for_transfer(
                TransferStarted(files=event.files, total_size=0, conflicts=event.conflicts)
            ).rows
            for row in rows:
                row.size_known = row.name not in event.unsized
            with self._emit_lock:  # the statuses before them first, theirs after
                self._flush_locked()
                emit(self.filesAdded, rows)
        elif isinstance(event, TransferFinished):
            self._finished = event

    def _pump(self, stop: threading.Event, receiver: object) -> None:
        """Tick until the receive ends: deliver batches, pass a cancel on to the receiver."""
        cancelled = False
        while not stop.wait(TICK_SECONDS):
            if self._cancel.is_set() and not cancelled:
                cancelled = True
                receiver.cancel()
            with self._emit_lock:
                if self._started:
                    self._flush_locked()
        if self._cancel.is_set() and not cancelled:
            receiver.cancel()

    def _flush_locked(self) -> None:
        batch = self._coalescer.take()
        if batch:
            emit(self.updates, batch)


def inspect_folder(path: str) -> FolderInfo:
    """What `ReceiveWorker.inspect` reports; a plain function so it is tested without threads."""
    given = Path(path).expanduser()
    folder = given if given.is_dir() or not given.exists() else given.parent
    if not folder.exists():
        return FolderInfo(
            path,
            None,
            error=f"The folder {folder} does not exist. Create it, or choose another one.",
            missing=True,
        )
    if not folder.is_dir():
        return FolderInfo(path, None, error=f"{folder} is not a folder. Choose or drop a folder.")
    try:
        interrupted = read_interrupted(folder)
    except InletError as err:
        return FolderInfo(path, folder, error=str(err))
    if interrupted is None or not interrupted.files:
        return FolderInfo(path, folder)
    return FolderInfo(path, folder, interrupted, rows=RowSet.for_saved(interrupted))
