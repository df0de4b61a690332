"""A loopback TCP proxy (threads) that damages the sender-to-receiver direction on purpose.

Put it between a real ``inlet send`` and a receiver: the receiver connects to the proxy's port,
the proxy connects to the sender. For each new connection, ``plan(k)`` (k = 0, 1, ...) picks a
`Fault`: cut both directions after N bytes from the sender, stop forwarding after N bytes (a
stall: the sockets stay open), or flip one bit of byte N. Every byte forwarded is counted, so a
test knows what really crossed the wire, including on connections that were cut.

Everything is loopback; `close()` ends every connection and joins every thread.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

CHUNK = 64 * 1024


@dataclass(frozen=True)
class Fault:
    """What to do to one connection, by offset in the sender-to-receiver stream."""

    cut_at: int | None = None  # close both sides once this many bytes went through
    stall_at: int | None = None  # forward this many bytes, then nothing (sockets stay open)
    flip_at: int | None = None  # flip bit ``flip_bit`` of this byte
    flip_bit: int = 0


NO_FAULT = Fault()


@dataclass
class Link:
    """One proxied connection and what happened on it."""

    fault: Fault
    down: int = 0  # bytes forwarded sender -> receiver
    up: int = 0  # bytes forwarded receiver -> sender
    cut: bool = False
    stalled: threading.Event = field(default_factory=threading.Event)
    closed: threading.Event = field(default_factory=threading.Event)
    pumps_done: int = 0


class FaultyProxy:
    """Forwards ``127.0.0.1:port`` to ``target``, applying ``plan(k)`` to the k-th connection."""

    def __init__(
        self, target: tuple[str, int], plan: Callable[[int], Fault], rate: float | None = None
    ) -> None:
        self.target = target
        self.plan = plan
        self.rate = rate  # bytes per second, sender to receiver (None: as fast as it goes)
        self.links: list[Link] = []
        self._server = socket.create_server(("127.0.0.1", 0))
        self.port = self._server.getsockname()[1]
        self._sockets: list[socket.socket] = []
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._accepter = threading.Thread(target=self._accept_loop, name="proxy-accept")
        self._accepter.start()

    def code_for(self, code: str) -> str:
        """The sender's ``HOST:PORT:TOKEN`` code, pointed at the proxy."""
        return f"127.0.0.1:{self.port}:{code.rsplit(':', 1)[1]}"

    @property
    def bytes_down(self) -> int:
        return sum(link.down for link in self.links)

    def close(self) -> None:
        self._closing.set()
        with contextlib.suppress(OSError):
            self._server.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept()
        self._server.close()
        self._accepter.join(10)
        with self._lock:
            sockets = list(self._sockets)
            for link in self.links:
                link.closed.set()  # release a stalled pump
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        for thread in self._threads:
            thread.join(10)
        for sock in sockets:
            sock.close()
        assert not any(t.is_alive() for t in [self._accepter, *self._threads]), "proxy threads"

    def __enter__(self) -> FaultyProxy:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the threads -----------------------------------------------------------------------------

    def _accept_loop(self) -> None:
        while not self._closing.is_set():
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=10)
                upstream.settimeout(None)
            except OSError:
                client.close()
                continue
            with self._lock:
                link = Link(self.plan(len(self.links)))
                self.links.append(link)
                self._sockets += [client, upstream]
                for args in ((upstream, client, link, True), (client, upstream, link, False)):
                    thread = threading.Thread(target=self._pump, args=args, name="proxy-pump")
                    self._threads.append(thread)
                    thread.start()

    def _pump(self, src: socket.socket, dst: socket.socket, link: Link, down: bool) -> None:
        fault = link.fault if down else NO_FAULT
        started = time.monotonic()
        try:
            while True:
                if down and self.rate:  # pace the stream (a slow link), not a synchronisation
                    ahead = link.down / self.rate - (time.monotonic() - started)
                    if ahead > 0:
                        time.sleep(ahead)
                data = src.recv(CHUNK)
                if not data:
                    break
                at = link.down if down else link.up
                limit = fault.cut_at if fault.cut_at is not None else fault.stall_at
                if limit is not None and at + len(data) >= limit:
                    data = data[: max(limit - at, 0)]
                if fault.flip_at is not None and at <= fault.flip_at < at + len(data):
                    damaged = bytearray(data)
                    damaged[fault.flip_at - at] ^= 1 << fault.flip_bit
                    data = bytes(damaged)
                dst.sendall(data)
                if down:
                    link.down += len(data)
                else:
                    link.up += len(data)
                if fault.cut_at is not None and link.down >= fault.cut_at:
                    link.cut = True
                    break
                if fault.stall_at is not None and link.down >= fault.stall_at:
                    link.stalled.set()
                    link.closed.wait()  # hold the line open, forward nothing more
                    break
        except OSError:
            pass
        finally:
            # Either side gone (or a cut): end the whole connection, both ways. The shutdown
            # wakes the other pump; the last pump out closes both sockets, so a sender still
            # writing gets a reset instead of filling a buffer nobody reads.
            link.closed.set()
            for sock in (src, dst):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
            with self._lock:
                link.pumps_done += 1
                last = link.pumps_done == 2
            if last:
                src.close()
                dst.close()
