"""A scriptable sender on loopback for tests: the real handshake, then whatever a test needs.

It plays the ftransfer 1.0.1 sender by default (legacy stream, 1 MiB slices, then the hash
list), and can lie about hashes, close instead of answering a retry request, or send raw bytes.
"""

from __future__ import annotations

import hashlib
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from inlet.core import wire
from inlet.core.errors import InletError
from inlet.core.events import FileInfo

SLICE = 1 << 20


@dataclass
class FakeFile:
    name: str
    data: bytes


@dataclass
class FakeSender:
    """Serves one connection in a background thread; ``code`` is what a receiver needs."""

    files: list[FakeFile]
    token: str = "fake-token-for-tests"
    wrong_hashes: set[str] = field(default_factory=set)  # names whose hash is reported wrong
    close_on_retry: bool = False  # like ftransfer 1.0.1, whose retry path crashes
    is_message: bool = False
    extension: bool = False
    #: Replace the whole conversation after the handshake: gets the connection and socket.
    script: Callable[[wire.SenderConnection, socket.socket], None] | None = None
    replies: list[dict] = field(default_factory=list)
    error: BaseException | None = None
    ended_early: object = None  # what the receiver answered instead of a fresh READY

    def __post_init__(self) -> None:
        self._server = socket.create_server(("127.0.0.1", 0))
        self._server.settimeout(30)
        self.port = self._server.getsockname()[1]
        self.code = f"127.0.0.1:{self.port}:{self.token}"
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def join(self, timeout: float = 30) -> None:
        self._thread.join(timeout)
        self._server.close()
        assert not self._thread.is_alive(), "the fake sender did not finish"

    def _serve(self) -> None:
        try:
            sock, _ = self._server.accept()
        except OSError as err:
            self.error = err
            return
        with sock:
            sock.settimeout(30)
            try:
                self._converse(sock)
            except (OSError, InletError) as err:
                self.error = err

    def _converse(self, sock: socket.socket) -> None:
        conn = wire.SenderConnection(self.token, extension=self.extension)
        conn.start()
        if not isinstance(next_event(conn, sock), wire.Authenticated):
            return
        conn.send_metadata(
            [FileInfo(f.name, len(f.data)) for f in self.files], is_message=self.is_message
        )
        flush(conn, sock)
        ready = next_event(conn, sock)
        if self.script is not None:
            self.script(conn, sock)
            return
        if not (isinstance(ready, wire.ReceiverReady) and ready.plan is None):
            self.ended_early = ready  # the receiver stopped, or asked to resume: nothing sent
            return
        self._stream(conn, sock, self.files)
        while True:
            reply = next_event(conn, sock)
            if not isinstance(reply, wire.ReceiverReply):
                return
            self.replies.append(reply.body)
            if not reply.is_retry:
                return
            if self.close_on_retry:
                sock.shutdown(socket.SHUT_RDWR)
                return
            self.wrong_hashes.clear()
            wanted = set(reply.retry_files)
            self._stream(conn, sock, [f for f in self.files if f.name in wanted])

    def _stream(
        self, conn: wire.SenderConnection, sock: socket.socket, files: list[FakeFile]
    ) -> None:
        stream = b"".join(f.data for f in files)
        for at in range(0, len(stream), SLICE):
            conn.send_stream_slice(stream[at : at + SLICE])
            flush(conn, sock)
        hashes = {f.name: hashlib.sha256(f.data).hexdigest() for f in files}
        for name in self.wrong_hashes:
            hashes[name] = "0" * 64
        conn.send_hashes(hashes)
        conn.send_end()
        flush(conn, sock)


def flush(conn: wire.SenderConnection, sock: socket.socket) -> None:
    out = conn.data_to_send()
    if out:
        sock.sendall(out)


def next_event(conn: wire.SenderConnection, sock: socket.socket) -> object:
    while True:
        event = conn.next_event()
        if event is not wire.NEED_DATA:
            return event
        flush(conn, sock)
        conn.receive_data(sock.recv(1 << 16))
