"""The receiving side: drive a TCP socket with the sans-I/O protocol and land files on disk.

`Receiver.run()` connects to the sender named by a code, maps the stream onto `FileWriter`s
through the lock manager, verifies, retries, and returns a `TransferResult`. Everything a
person should see is reported as core events through ``on_event`` (the window listens to
exactly these) and, at the end, in the result's one-sentence ``error``.
"""

from __future__ import annotations

import contextlib
import gc
import json
import select
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import NoReturn

from . import wire
from .codes import TransferCode
from .connect import connect_first
from .crashlog import unexpected_error
from .errors import (
    ConnectionFailedError,
    InletError,
    PeerGoneError,
    TransferTimeoutError,
)
from .events import (
    TransferFinished,
)
from .paths import LOCK_FILENAME
from .receive.incoming import IncomingFile
from .receive.session import ReceiveSession

RECV_BUFFER = 1 << 20  # the most read from the socket at once (straight into the wire's buffer)


class CancelledError(InletError):
    """The person cancelled; everything received so far is kept."""

    hint = "Everything received so far is kept: receive again into the same folder to resume."


@dataclass
class ReceiverOptions:
    """How to receive; the defaults are what ``inlet receive CODE`` does."""

    overwrite: bool = False
    extension: bool = True
    require_tailscale: bool = False
    pod: bool = False
    max_attempts: int = 3
    connect_timeout: float = 30.0
    idle_timeout: float = 120.0
    #: Test seam: a fixed X25519 private key, so recorded ftransfer sessions can be replayed.
    private_key: object | None = None
    #: Where `tailscale status` peers come from (a seam for tests); None runs the real command.
    tailscale_peers: Callable[[], set[str]] | None = None
    #: How the destination compares names ("exact", "casefold", "nfd", "casefold+nfd"); None
    #: probes the folder. A seam for tests, and for folders the probe cannot write to.
    name_folding: str | None = None
    #: Ask for these files only (names as listed; a row's Retry), when the sender can send
    #: some files alone (core/receive/selection.py); None: every file not yet here.
    only: frozenset[str] | None = None
    #: Stop before any byte moves when what is missing does not fit on the destination's disk.
    check_space: bool = True
    #: Test seam: how the destination's free space is asked (``os.statvfs``'s shape).
    statvfs: Callable[[str], object] | None = None


@dataclass
class TransferResult:
    """What ``run()`` returns; ``ok`` only when every file is verified under its final name."""

    ok: bool = False
    error: str | None = None
    files: list[IncomingFile] = field(default_factory=list)
    bytes_on_wire: int = 0
    bytes_written: int = 0
    bytes_reused: int = 0
    seconds: float = 0.0
    resumed: bool = False
    message_text: str | None = None
    resumable: bool = False
    #: (bytes needed, bytes free) when the files did not fit and nothing was received
    space: tuple[int, int] | None = None
    #: files came, but there was no folder to save them in (a text message needs none)
    needs_folder: bool = False

    def to_json(self, *, files: bool = True) -> dict:
        return {
            "ok": self.ok,
            "files": [f.to_json() for f in self.files] if files else [],
            "bytes_on_wire": self.bytes_on_wire,
            "bytes_written": self.bytes_written,
            "bytes_reused": self.bytes_reused,
            "seconds": round(self.seconds, 3),
            "resumed": self.resumed,
            "message": self.message_text,
            "error": self.error,
        }

    def json_pieces(self, chunk: int = 1000) -> Iterator[str]:
        """``json.dumps(self.to_json())`` in pieces of ``chunk`` files: for 100,000 files the
        report as one list of dicts and one string was the receiver's largest memory peak."""
        head, tail = json.dumps(self.to_json(files=False)).split('"files": []', 1)
        yield head + '"files": ['
        for start in range(0, len(self.files), chunk):
            # one dumps per chunk: the same text as a dumps per file, at a fraction of the calls
            text = json.dumps([f.to_json() for f in self.files[start : start + chunk]])[1:-1]
            yield text if start == 0 else ", " + text
        yield "]" + tail


class Receiver:
    """One receive: connect, handshake, land files, verify, retry, report.

    Thread-safe controls for the window: `cancel()` and `set_overwrite()` may be called from
    another thread while `run()` is blocked on the network.
    """

    def __init__(
        self,
        code: TransferCode,
        dest_dir: Path | None,
        options: ReceiverOptions | None = None,
        on_event: Callable[[object], None] | None = None,
        transport: Callable[[], tuple[socket.socket, str]] | None = None,
    ) -> None:
        self.code = code
        #: How the sender is reached: a connected socket and what to call it (a tunnel, such
        #: as a wormhole's transit); None dials the code's addresses.
        self._transport = transport
        #: None: no folder (enough for a text message; files stop with FolderNeededError)
        self.dest_dir = Path(dest_dir).expanduser().absolute() if dest_dir is not None else None
        self.options = options or ReceiverOptions()
        self._emit_callback = on_event
        self._cancelled = threading.Event()
        self._sock: socket.socket | None = None
        self._sock_lock = threading.Lock()
        self._overwrite: dict[str, bool] = {}
        self.result = TransferResult()

    # -- controls (any thread) ------------------------------------------------------------------

    def cancel(self) -> None:
        """Stop as soon as possible; everything received so far stays for resume."""
        self._cancelled.set()
        with self._sock_lock:
            if self._sock is not None:
                with contextlib.suppress(OSError):
                    self._sock.shutdown(socket.SHUT_RDWR)

    def set_overwrite(self, name: str, overwrite: bool) -> None:
        """Choose, for one file, whether an existing file of that name is replaced."""
        self._overwrite[name] = overwrite

    def overwrite_for(self, name: str) -> bool:
        return self._overwrite.get(name, self.options.overwrite)

    # -- the run ----------------------------------------------------------------------------------

    def run(self) -> TransferResult:
        """Receive everything; never raises for a failure a person can hit (see ``.error``)."""
        started = time.monotonic()
        result = self.result
        session: ReceiveSession | None = None
        try:
            self._check_peer()
            self._check_destination()
            link = _SocketLink(self, self._connect())
            session = ReceiveSession(
                link.conn,
                link,
                dest_dir=self.dest_dir,
                options=self.options,
                result=result,
                sender_ip=self.code.host,
                emit=self._emit,
                overwrite_for=self.overwrite_for,
            )
            link.run(session)
        except InletError as err:
            result.ok = False
            result.error = str(err)
        except OSError as err:  # anything the network or disk raised that we did not foresee
            result.ok = False
            result.error = f"The transfer stopped: {err.strerror or err}. " + PeerGoneError.hint
        except Exception as err:  # a bug: one clear sentence, the traceback in a log file
            result.ok = False
            result.error = unexpected_error(err)
        finally:
            if session is not None:
                try:
                    session.close()
                except InletError as err:  # e.g. no room left to save the resume state
                    result.ok = False
                    result.error = result.error or str(err)
                except Exception as err:
                    result.ok = False
                    result.error = result.error or unexpected_error(err)
            with self._sock_lock:
                if self._sock is not None:
                    self._sock.close()
                    self._sock = None
            result.seconds = time.monotonic() - started
        if self._cancelled.is_set() and not result.ok and result.message_text is None:
            result.error = str(CancelledError("The transfer was cancelled."))
        # Resumable: a new connection can continue from the state kept on disk (written by
        # this session, or by an earlier one when this one failed before the file list).
        result.resumable = not result.ok and (
            bool(session and session.lock_created)
            or (self.dest_dir is not None and (self.dest_dir / LOCK_FILENAME).exists())
        )
        self._emit(
            TransferFinished(
                ok=result.ok,
                error=result.error,
                message_text=result.message_text,
                resumable=result.resumable,
                space=result.space,
                needs_folder=result.needs_folder,
            )
        )
        return result

    def _check_destination(self) -> None:
        dest = self.dest_dir
        if dest is None:
            return  # a text message needs no folder; files are stopped at the file list
        if dest.exists() and not dest.is_dir():
            raise InletError(
                f"The destination {dest} is a file, not a folder.", "Choose a folder to save into."
            )
        for parent in (dest, *dest.parents):
            if parent.exists():
                if not parent.is_dir():
                    raise InletError(
                        f"The destination {dest} cannot be created: {parent} is a file.",
                        "Choose a folder to save into.",
                    )
                break

    def _emit(self, event: object) -> None:
        if self._emit_callback is not None:
            self._emit_callback(event)

    def _check_peer(self) -> None:
        """Which of the code's addresses may be tried (``peer_hosts``): with
        --require-tailscale only those listed by ``tailscale status`` (or this host in pod
        mode)."""
        self.peer_hosts = self.code.hosts
        if not self.options.require_tailscale:
            return
        local = ("127.0.0.1", "::1", "localhost")
        if self.options.pod and any(host in local for host in self.code.hosts):
            self.peer_hosts = tuple(h for h in self.code.hosts if h in local)
            return
        peers = (self.options.tailscale_peers or tailscale_peers)()
        allowed = []
        for host in self.code.hosts:
            try:
                addresses = {info[4][0] for info in socket.getaddrinfo(host, None)}
            except OSError:
                addresses = {host}
            if addresses & peers:
                allowed.append(host)
        if not allowed:
            raise ConnectionFailedError(
                f"{', '.join(self.code.hosts)} is not a peer in 'tailscale status', and "
                "--require-tailscale is on.",
                "Use the sender's Tailscale address, or drop --require-tailscale.",
            )
        self.peer_hosts = tuple(allowed)

    def _connect(self) -> socket.socket:
        """Connect to the first of the code's addresses that answers (core/connect.py); it is
        kept in ``connected_to``."""
        if self._cancelled.is_set():
            raise CancelledError("The transfer was cancelled.")
        if self._transport is not None:
            sock, self.connected_to = self._transport()
        else:
            sock, self.connected_to = connect_first(
                self.peer_hosts, self.code.port, self.options.connect_timeout
            )
        sock.settimeout(self.options.idle_timeout)
        with self._sock_lock:
            self._sock = sock
        if self._cancelled.is_set():
            raise CancelledError("The transfer was cancelled.")
        return sock


def tailscale_peers() -> set[str]:
    """IP addresses in the first column of ``tailscale status`` (ftransfer's peer check)."""
    try:
        out = subprocess.run(
            ["tailscale", "status"], capture_output=True, text=True, timeout=10, check=True
        ).stdout
    except (OSError, subprocess.SubprocessError) as err:
        raise ConnectionFailedError(
            "--require-tailscale is on, but 'tailscale status' could not be read.",
            "Start Tailscale, or receive without --require-tailscale.",
        ) from err
    return {line.split()[0] for line in out.splitlines() if line.strip() and line[0].isalnum()}


class _SocketLink:
    """The socket under one session: moves the wire machine's bytes both ways, reading
    straight into its buffer (no copy on the way), and turns socket errors into the
    person's words. Verified files waiting to be named are named before a wait for more
    bytes gets long."""

    def __init__(self, receiver: Receiver, sock: socket.socket) -> None:
        self._cancelled = receiver._cancelled
        self._idle_timeout = receiver.options.idle_timeout
        self._result = receiver.result
        self.sock = sock
        self.conn = wire.ReceiverConnection(
            receiver.code.token,
            private_key=receiver.options.private_key,
            extension=receiver.options.extension,
            reuse_buffers=True,  # each chunk is written and hashed before the next event
            pake=receiver.code.pake,  # the code's form says which handshake (PROTOCOL.md, 2)
        )

    def send(self) -> None:
        out = self.conn.data_to_send()
        if out:
            try:
                self.sock.sendall(out)
            except OSError as err:
                self.gone(err)

    def end_sending(self) -> None:
        self.sock.shutdown(socket.SHUT_WR)

    def gone(self, err: OSError | None = None) -> NoReturn:
        if self._cancelled.is_set():
            raise CancelledError("The transfer was cancelled.")
        detail = f" ({err.strerror or err})" if err else ""
        raise PeerGoneError(
            f"The sender closed the connection in the middle of the transfer{detail}."
        )

    def run(self, session: ReceiveSession) -> None:
        """Feed the session every event until the conversation is over."""
        pause = _CollectorPause()
        try:
            for event in self._events(session):
                done = session.handle(event)
                if isinstance(event, wire.Metadata):
                    pause.end(freeze=True)
                if done:
                    return
        finally:
            pause.end(freeze=False)
            pause.restore()

    def _events(self, session: ReceiveSession) -> Iterator[object]:
        conn, cancelled = self.conn, self._cancelled
        while True:
            if cancelled.is_set():
                raise CancelledError("The transfer was cancelled.")
            event = conn.next_event()
            if event is not wire.NEED_DATA:
                yield event
                continue
            self.send()
            commits = session.commits
            while commits is not None and (wait := commits.seconds_left()) is not None:
                try:
                    readable = wait and select.select([self.sock], [], [], wait)[0]
                except (OSError, ValueError):
                    readable = True  # let recv report what is wrong with the socket
                if readable:
                    break
                commits.commit()  # nothing to read yet: name what waits
            try:
                n = self.sock.recv_into(conn.get_buffer(RECV_BUFFER)[:RECV_BUFFER])
            except TimeoutError as err:
                raise TransferTimeoutError(
                    f"The sender sent nothing for {self._idle_timeout:.0f} s."
                ) from err
            except OSError as err:
                self.gone(err)
            if cancelled.is_set():
                raise CancelledError("The transfer was cancelled.")
            self._result.bytes_on_wire += n
            conn.buffer_updated(n)


class _CollectorPause:
    """Python's cyclic garbage collector stays off until the file list is in place, which is
    then frozen (``gc.freeze``): the list's objects (100,000 files make about a million) live
    as long as the transfer, yet every full collection would walk them all, each walk holding
    the GIL for 0.05-0.15 s: CPU time for the command line, a frozen window for the GUI (whose
    thread shares the interpreter). Collection resumes, for what is made afterwards, with the
    youngest generation collected every `YOUNG_THRESHOLD` new objects instead of 700 until
    `restore`: each small file makes a writer, events and a lock record, and 10,000 files ran
    about 170 young collections (2-4 % of the receive); at most that many young objects wait.
    """

    YOUNG_THRESHOLD = 10_000

    def __init__(self) -> None:
        self._was_enabled: bool | None = gc.isenabled()
        self._thresholds = gc.get_threshold()
        gc.disable()

    def end(self, *, freeze: bool) -> None:
        if self._was_enabled is None:
            return
        if freeze:
            gc.freeze()
            young, *older = self._thresholds
            gc.set_threshold(max(young, self.YOUNG_THRESHOLD), *older)
        if self._was_enabled:
            gc.enable()
        self._was_enabled = None

    def restore(self) -> None:
        gc.set_threshold(*self._thresholds)
