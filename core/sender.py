"""The sending side: listen, print a code, stream files to one receiver with the protocol.

With an Inlet receiver (the extension) only the bytes it misses travel and every file's hash
follows its last byte; with an ftransfer receiver, or with ``extension=False``, it behaves like
the ftransfer 1.0.1 sender: the whole unified stream in 1 MiB slices, then all hashes.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import select
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from . import wire
from .addresses import Interfaces, code_addresses, system_interfaces
from .codes import DEFAULT_PORT, TransferCode, generate_token, is_pake_token
from .errors import InletError, PeerGoneError, ProtocolError, TransferTimeoutError, WrongTokenError
from .events import FileInfo
from .peertext import safe_text
from .progress import plural
from .sources import SourceFile, collect_sources

SLICE = 1 << 20  # ftransfer's data message size
#: Frames of small files gather until this many bytes are queued, then go in one system call.
FLUSH_AT = 256 * 1024
_IOV_MAX = 512  # buffers per sendmsg (POSIX guarantees at least 16, Linux takes 1024)
MESSAGE_NAME = "message.txt"
#: The whole handshake must be over within this (not each read): a peer trickling a byte now
#: and then cannot hold a slot for long.
HANDSHAKE_DEADLINE = 10.0
#: Unauthenticated handshakes served side by side.
MAX_HANDSHAKES = 32
#: A connection that arrives during a session waits this long for it to end before it is told
#: "busy": a receiver that reconnects at once after a drop is served instead of turned away.
BUSY_GRACE = 2.0
#: Each file is resent at most this many times in one session (docs/PROTOCOL.md, 4).
MAX_RESENDS = 3
#: How a failed handshake's slot is held (see `penalty`): 1 s, doubling past 3 failures of one
#: address, at most 8 s; an address quiet for 10 minutes is forgiven.
MIN_HOLD = 1.0
MAX_HOLD = 8.0
FREE_FAILURES = 3
FORGIVE_AFTER = 600.0
#: Addresses remembered before the forgiven ones are dropped (memory stays bounded).
MAX_OFFENDERS = 10_000


@dataclass
class SenderOptions:
    port: int = DEFAULT_PORT
    bind: str = ""
    compress: bool = False
    token: str | None = None
    pod: bool = False
    extension: bool = True
    ready_timeout: float | None = None  # None: ftransfer's 60/120/180 s by file count
    reply_timeout: float = 120.0
    handshake_timeout: float = HANDSHAKE_DEADLINE
    #: Where the machine's addresses come from (a seam for tests); None: the real interfaces.
    interfaces: Interfaces | None = None
    #: With no connection after this many seconds, log what to do if the receiver cannot
    #: connect (a firewall is the usual cause).
    contact_hint_after: float = 60.0


@dataclass(frozen=True)
class _Offer:
    """One file offered: its wire name and size, and how to read it."""

    name: str
    size: int
    path: Path | None = None
    data: bytes | None = None  # a text message lives in memory

    def open(self) -> BinaryIO:
        if self.data is not None:
            return io.BytesIO(self.data)
        assert self.path is not None
        return open(self.path, "rb", buffering=0)  # unbuffered: chunks are read whole


class Sender:
    """Offers a fixed list of files (or one text message) to receivers until one completes."""

    def __init__(self, offers: list[_Offer], options: SenderOptions, is_message: bool = False):
        self.offers = offers
        self.options = options
        self.is_message = is_message
        self.token = options.token or generate_token(pake=options.extension)
        #: The token's form decides the handshake (docs/PROTOCOL.md, 2): an Inlet code runs
        #: SPAKE2; an ftransfer-style one (``--no-ext``) ftransfer's, guessable offline.
        self.pake = is_pake_token(self.token)
        if self.pake and not options.extension:
            raise InletError(
                f"The token {self.token!r} is an Inlet code (it starts with a number), which an "
                "ftransfer receiver cannot use.",
                "Drop --no-ext, or give a token that does not start with a number.",
            )
        self._server: socket.socket | None = None
        self.code: TransferCode | None = None
        self._gate: _Gate | None = None
        self._wake: socket.socket | None = None
        #: Set by `listen` when no address but loopback was found: only this host can receive.
        self.address_warning: str | None = None

    @classmethod
    def for_paths(cls, paths: list[str], options: SenderOptions) -> Sender:
        sources: list[SourceFile] = collect_sources(paths)
        return cls([_Offer(s.name, s.size, path=s.path) for s in sources], options)

    @classmethod
    def for_message(cls, text: str, options: SenderOptions) -> Sender:
        data = text.encode("utf-8")
        return cls([_Offer(MESSAGE_NAME, len(data), data=data)], options, is_message=True)

    # -- listening --------------------------------------------------------------------------------

    def listen(self) -> TransferCode:
        """Bind the listening socket and work out the code a receiver needs."""
        bind, port = self.options.bind, self.options.port
        # Listening on every address (no --bind) takes IPv6 too where the system can.
        dualstack = bind in ("", "::") and socket.has_dualstack_ipv6()
        family = socket.AF_INET6 if ":" in bind or dualstack else socket.AF_INET
        try:
            self._server = socket.create_server(
                (bind, port), family=family, backlog=64, dualstack_ipv6=dualstack
            )
        except OSError as err:
            raise InletError(
                f"Cannot listen on port {port}: {err.strerror or err}.",
                "Pick another port with --port (0 picks a free one).",
            ) from err
        actual_port = self._server.getsockname()[1]
        hosts = self._advertised_hosts(ipv6=family == socket.AF_INET6)
        self.code = TransferCode(hosts[0], actual_port, self.token, more_hosts=tuple(hosts[1:]))
        return self.code

    def _advertised_hosts(self, *, ipv6: bool) -> list[str]:
        """The code's addresses: --bind's, else the interfaces' (core/addresses.py)."""
        bind = self.options.bind
        if bind and bind not in ("0.0.0.0", "::"):
            return [bind]
        interfaces = (self.options.interfaces or system_interfaces)()
        if not ipv6:
            interfaces = [(name, a) for name, a in interfaces if ":" not in a]
        hosts = code_addresses(interfaces, pod=self.options.pod)
        if not self.pake:  # an ftransfer receiver reads one HOST: give it the best one
            hosts = hosts[:1]
        if not hosts:
            self.address_warning = (
                "This machine has no network address but loopback, so only a receiver on this "
                "machine can use the code; connect to a network and start inlet send again."
            )
            hosts = ["127.0.0.1"]
        return hosts

    def close(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None

    def serve(self, log: Callable[[str], None] = lambda line: None) -> None:
        """Serve receivers until one has received everything.

        Unauthenticated handshakes run side by side (at most `MAX_HANDSHAKES`, each within
        `HANDSHAKE_DEADLINE`), so a stranger who connects and says nothing, or trickles a byte
        at a time, holds one slot for seconds instead of the whole sender. Only a receiver that
        proved it knows the code gets the exclusive session; a failed handshake never stops the
        sender, it only holds its slot a little longer the more often its address failed.
        """
        assert self._server is not None, "call listen() first"
        gate = self._gate = _Gate()
        wake_r, wake_w = socket.socketpair()
        self._wake = wake_w
        threads: list[threading.Thread] = []
        hint_at: float | None = time.monotonic() + self.options.contact_hint_after
        try:
            while True:
                if not gate.wait_for_slot():
                    return
                wait = None if hint_at is None else max(0.0, hint_at - time.monotonic())
                readable, _, _ = select.select([self._server, wake_r], [], [], wait)
                if not readable:  # nobody connected for a while: say what may be wrong
                    gate.release_slot()
                    log(self._no_contact_hint())
                    hint_at = None
                    continue
                hint_at = None
                if wake_r in readable:
                    gate.release_slot()
                    return
                try:
                    conn, peer = self._server.accept()
                except OSError:
                    gate.release_slot()
                    continue
                thread = threading.Thread(
                    target=self._serve_one,
                    args=(gate, conn, peer[0], log, wake_w),
                    name="inlet-receiver",
                    daemon=True,
                )
                threads = [t for t in threads if t.is_alive()]
                threads.append(thread)
                thread.start()
        finally:
            gate.finish()
            for thread in threads:
                thread.join(5)
            wake_r.close()
            wake_w.close()
            self.close()

    def _serve_one(
        self,
        gate: _Gate,
        conn: socket.socket,
        address: str,
        log: Callable[[str], None],
        wake: socket.socket,
    ) -> None:
        """One connection, in its own thread: the handshake, then (authenticated and alone) the
        session. Never raises."""
        with conn, gate.tracking(conn):
            try:
                session = self._handshake_one(gate, conn, address, log)
                if session is not None and self._session_one(gate, session, address, log):
                    gate.finish()
                    with contextlib.suppress(OSError):
                        wake.send(b"x")
            except Exception as err:  # a thread must say what stopped it
                log(f"The connection from {address} stopped: {err!r}")

    def _handshake_one(
        self, gate: _Gate, conn: socket.socket, address: str, log: Callable[[str], None]
    ) -> _SenderSession | None:
        """In a handshake slot, given back on return: the authenticated session, or None."""
        try:
            if not gate.wait_until_free(BUSY_GRACE):
                _tell_busy(conn)
                log(f"A receiver at {address} was told to wait: another one is being served.")
                return None
            session = _SenderSession(self, conn)
            session.handshake(self.options.handshake_timeout)
            return session
        except (InletError, OSError) as err:
            hold = gate.failed(address)
            if isinstance(err, WrongTokenError):
                log(f"A receiver at {address} used a wrong code.")
            else:
                log(f"A handshake from {address} failed: {err}")
            gate.sleep(hold)  # the slot stays taken: every guess costs time
            if self.pake and isinstance(err, WrongTokenError):
                with contextlib.suppress(OSError):
                    conn.sendall(wire.denied_signal())  # so the receiver says "wrong code"
            return None
        finally:
            gate.release_slot()

    def _session_one(
        self, gate: _Gate, session: _SenderSession, address: str, log: Callable[[str], None]
    ) -> bool:
        """The exclusive session; True when the receiver has every file."""
        if not gate.claim_session(BUSY_GRACE):
            log(f"A second receiver at {address} knew the code; closed it (one at a time).")
            return False
        try:
            if session.run(log):
                log(f"Done: {address} received every file.")
                return True
            log("The receiver left before everything was verified; waiting for it to resume.")
        except (InletError, OSError) as err:
            log(f"The receiver at {address} left: {err}")
        finally:
            gate.end_session()
        return False

    def serve_connection(
        self, conn: socket.socket, peer: str, log: Callable[[str], None] = lambda line: None
    ) -> bool:
        """Serve one receiver already connected some other way than to `listen`'s port (the
        far end of a tunnel, such as a wormhole's transit): the same handshake with the token,
        then the session. True when it has every file; the connection is closed on return."""
        gate = _Gate()
        gate.wait_for_slot()
        with conn:
            session = self._handshake_one(gate, conn, peer, log)
            return session is not None and self._session_one(gate, session, peer, log)

    def _no_contact_hint(self) -> str:
        port = self.code.port if self.code else self.options.port
        return (
            f"No receiver has connected for {self.options.contact_hint_after:.0f} s. If one "
            f"says it cannot connect, let TCP port {port} in through this machine's firewall "
            f"(e.g. 'sudo ufw allow {port}/tcp'), or use an address it can reach (Tailscale)."
        )

    def stop(self) -> None:
        """Make `serve` return soon (from any thread): every connection is cut."""
        if self._gate is not None:
            self._gate.finish()
        if self._wake is not None:
            with contextlib.suppress(OSError):
                self._wake.send(b"x")

    def ready_timeout(self) -> float:
        if self.options.ready_timeout is not None:
            return self.options.ready_timeout
        count = len(self.offers)
        return 180.0 if count > 10_000 else 120.0 if count > 1_000 else 60.0


def _holds_the_rest(
    offers: list[SourceFile], plan: dict[str, wire.HeldPrefix], only: tuple[str, ...]
) -> bool:
    """Whether a receiver that asked for ``only`` says it holds every other file whole (its
    word is enough here: it decides only whether this sender keeps waiting for it)."""
    wanted = set(only)
    return all(
        offer.name in wanted
        or ((held := plan.get(offer.name)) is not None and held.length == offer.size)
        for offer in offers
    )


def _tell_busy(conn: socket.socket) -> None:
    with contextlib.suppress(OSError):
        conn.settimeout(5)
        conn.sendall(wire.busy_signal())


@dataclass
class _Offender:
    failures: int = 0
    last: float = 0.0


class _Gate:
    """Who is served: bounded handshake slots, one exclusive session, and per-address memory
    of failed handshakes (a repeat offender's slot is held longer after each failure).

    Everything is guarded by one condition; ``finish()`` wakes every waiter and cuts every
    tracked connection, so `serve` ends promptly once a receiver has everything.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._cond = threading.Condition()
        self._handshakes = 0
        self._session = False
        self._finished = False
        self._offenders: dict[str, _Offender] = {}
        self._open: set[socket.socket] = set()

    # -- slots (main thread takes, connection threads give back) ---------------------------------

    def wait_for_slot(self) -> bool:
        """Take a handshake slot; False once the sender is finished."""
        with self._cond:
            self._cond.wait_for(lambda: self._finished or self._handshakes < MAX_HANDSHAKES)
            if self._finished:
                return False
            self._handshakes += 1
            return True

    def release_slot(self) -> None:
        with self._cond:
            self._handshakes -= 1
            self._cond.notify_all()

    # -- the exclusive session -------------------------------------------------------------------

    def wait_until_free(self, timeout: float) -> bool:
        """Wait up to ``timeout`` for a running session to end (a receiver reconnecting at once
        after a drop is served instead of turned away); False: still busy."""
        with self._cond:
            return self._cond.wait_for(lambda: not self._session or self._finished, timeout)

    def claim_session(self, timeout: float) -> bool:
        with self._cond:
            if not self._cond.wait_for(lambda: not self._session or self._finished, timeout):
                return False
            if self._finished:
                return False
            self._session = True
            return True

    def end_session(self) -> None:
        with self._cond:
            self._session = False
            self._cond.notify_all()

    # -- offenders -------------------------------------------------------------------------------

    def failed(self, address: str) -> float:
        """Count a failed handshake from ``address``; how long to hold its slot before closing.

        The hold doubles from 1 s with each failure past the third (up to `MAX_HOLD`), and an
        address that stays quiet for `FORGIVE_AFTER` starts afresh. Holding the slot (not just
        delaying the answer) is what bounds guessing: at most `MAX_HANDSHAKES` guesses per hold.
        """
        now = self._clock()
        with self._cond:
            if len(self._offenders) >= MAX_OFFENDERS:  # many addresses: forget the forgiven
                self._offenders = {
                    a: o for a, o in self._offenders.items() if now - o.last <= FORGIVE_AFTER
                }
            offender = self._offenders.setdefault(address, _Offender())
            if now - offender.last > FORGIVE_AFTER:
                offender.failures = 0
            offender.failures += 1
            offender.last = now
            return penalty(offender.failures)

    def sleep(self, seconds: float) -> None:
        """Wait ``seconds``, or less when the sender finishes meanwhile."""
        with self._cond:
            self._cond.wait_for(lambda: self._finished, seconds)

    # -- the end ---------------------------------------------------------------------------------

    @contextlib.contextmanager
    def tracking(self, conn: socket.socket) -> Iterator[None]:
        with self._cond:
            if self._finished:
                conn.close()
            self._open.add(conn)
        try:
            yield
        finally:
            with self._cond:
                self._open.discard(conn)

    def finish(self) -> None:
        with self._cond:
            self._finished = True
            self._cond.notify_all()
            for conn in self._open:
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)


def penalty(failures: int) -> float:
    """Seconds a failed handshake's slot is held, by how often its address failed lately."""
    return min(MAX_HOLD, MIN_HOLD * 2 ** max(0, failures - FREE_FAILURES))


class _SenderSession:
    """One receiver's connection."""

    def __init__(self, sender: Sender, sock: socket.socket) -> None:
        self.sender = sender
        self.sock = sock
        self.offers = sender.offers
        self.conn = wire.SenderConnection(
            sender.token,
            extension=sender.options.extension,
            compress=sender.options.compress,
            pake=sender.pake,
        )

    def _flush(self) -> None:
        buffers = self.conn.data_to_send_buffers()
        if buffers:
            _send_buffers(self.sock, buffers)

    def _flush_if_full(self) -> None:
        """Send once enough is queued: small files' frames travel together."""
        if self.conn.pending_output >= FLUSH_AT:
            self._flush()

    def _next_event(self, timeout: float, deadline: float | None = None) -> object:
        """The next event, reading as needed; ``timeout`` bounds each read, ``deadline`` (a
        monotonic time) all of them together."""
        while True:
            event = self.conn.next_event()
            if event is not wire.NEED_DATA:
                return event
            self._flush()
            wait = timeout
            if deadline is not None:
                wait = min(timeout, deadline - time.monotonic())
                if wait <= 0:
                    raise TransferTimeoutError(
                        f"The receiver did not finish the handshake within {timeout:.0f} s."
                    )
            self.sock.settimeout(wait)
            try:
                n = self.sock.recv_into(self.conn.get_buffer(1 << 16)[: 1 << 20])
            except TimeoutError as err:
                if deadline is not None:
                    raise TransferTimeoutError(
                        f"The receiver did not finish the handshake within {timeout:.0f} s."
                    ) from err
                raise TransferTimeoutError(
                    f"The receiver said nothing for {timeout:.0f} s."
                ) from err
            self.conn.buffer_updated(n)

    def handshake(self, timeout: float) -> None:
        """Run the handshake to its end within ``timeout`` seconds in all; raises
        WrongTokenError, ProtocolError, TransferTimeoutError or OSError when it fails."""
        self.conn.start()
        event = self._next_event(timeout, deadline=time.monotonic() + timeout)
        if isinstance(event, wire.ConnectionClosed):
            raise PeerGoneError("The receiver closed the connection during the handshake.")
        if not isinstance(event, wire.Authenticated):
            raise ProtocolError(f"Unexpected {type(event).__name__} during the handshake.")

    def run(self, log: Callable[[str], None]) -> bool:
        """After `handshake`: the transfer. True when the receiver reported every file
        completed."""
        self.conn.send_metadata(
            [FileInfo(o.name, o.size) for o in self.offers], is_message=self.sender.is_message
        )
        ready = self._next_event(self.sender.ready_timeout())
        if isinstance(ready, wire.ConnectionClosed):
            raise PeerGoneError("The receiver closed the connection before it was ready.")
        if not isinstance(ready, wire.ReceiverReady):
            raise ProtocolError(f"Expected READY, got {type(ready).__name__}.")
        # A receiver that asked for some files only (a row's Retry) has everything once they
        # arrive only if it holds all the others whole.
        has_the_rest = True
        if ready.plan is None:
            self._stream_legacy(list(range(len(self.offers))))
        else:
            starts = self._accept_plan(ready.plan, ready.only)
            self.conn.send_accept(starts)
            self._stream_files([(i, s) for i, s in enumerate(starts) if s is not None])
            has_the_rest = ready.only is None or _holds_the_rest(
                self.offers, ready.plan, ready.only
            )
        resent = [0] * len(self.offers)
        while True:
            reply = self._next_event(self.sender.options.reply_timeout)
            if isinstance(reply, wire.ConnectionClosed):
                return False
            if not isinstance(reply, wire.ReceiverReply):
                raise ProtocolError(f"Unexpected {type(reply).__name__} from the receiver.")
            body = reply.body
            if body.get("status") == "completed" and not has_the_rest:
                log("The receiver has the files it asked for; waiting for it to ask for the rest.")
                return False
            if body.get("status") == "completed":
                return True
            if body.get("type") != "retry_request":
                said = safe_text(body.get("message") or body.get("status"))
                log(f"The receiver reported: {said}")
                return False
            wanted = set(body.get("failed_files") or [])
            indices = [i for i, o in enumerate(self.offers) if o.name in wanted]
            over = [i for i in indices if resent[i] >= MAX_RESENDS]
            if over:
                log(
                    f"The receiver asked for {safe_text(self.offers[over[0]].name, 80)} again "
                    f"after {MAX_RESENDS} resends; each file is resent at most {MAX_RESENDS} "
                    "times per connection, so this one was closed (the receiver may reconnect)."
                )
                return False
            for i in indices:
                resent[i] += 1
            attempt = max(resent[i] for i in indices) if indices else 0
            log(
                f"Resending {plural(len(indices), 'file')} that failed verification "
                f"(attempt {attempt})."
            )
            if self.conn.extension_active:
                self._stream_files([(i, 0) for i in indices])
            else:
                self._stream_legacy(indices)

    def _accept_plan(
        self, plan: dict[str, wire.HeldPrefix], only: tuple[str, ...] | None = None
    ) -> list[int | None]:
        """Check each prefix the receiver holds against the source: continue, skip or restart.

        The receiver may offer its whole ``.part`` plus a shorter checkpoint; the longest prefix
        that matches the source wins. The hash state at that point is kept so streaming the rest
        does not read the prefix again. A file the receiver did not ask for (``only``) is not
        sent.
        """
        starts: list[int | None] = []
        self._prefix_hashers: dict[int, hashlib._Hash] = {}
        wanted = None if only is None else set(only)
        for index, offer in enumerate(self.offers):
            if wanted is not None and offer.name not in wanted:
                starts.append(None)
                continue
            held = plan.get(offer.name)
            start = 0
            if held is not None and 0 < held.length <= offer.size:
                start, hasher = _longest_matching_prefix(offer, held)
                if start:
                    self._prefix_hashers[index] = hasher
            starts.append(None if start and start == offer.size else start)
        return starts

    def _stream_files(self, plan: list[tuple[int, int]]) -> None:
        """Extension mode: each file from its start, then its hash right after its last byte."""
        prefix_hashers = getattr(self, "_prefix_hashers", {})
        for index, start in plan:
            offer = self.offers[index]
            hasher = prefix_hashers.pop(index, None) if start else None
            with offer.open() as source:
                if hasher is None:
                    hasher = hashlib.sha256()
                    _hash_into(hasher, source, start)
                else:
                    source.seek(start)
                position = start
                for chunk in _chunks(source, SLICE, offer.size - start):
                    hasher.update(chunk)
                    self.conn.send_data(index, position, chunk)
                    position += len(chunk)
                    self._flush_if_full()
            if position != offer.size:
                raise InletError(f"{offer.name} changed size while it was being sent.")
            self.conn.send_file_hash(index, hasher.hexdigest())
            self._flush_if_full()
        self.conn.send_end()
        self._flush()

    def _stream_legacy(self, indices: list[int]) -> None:
        """ftransfer's way: the chosen files' bytes as one stream of 1 MiB slices, then hashes."""
        hashes: dict[str, str] = {}
        pieces: list[bytes] = []  # read, not sent yet: less than one slice
        held = 0
        for index in indices:
            offer = self.offers[index]
            hasher = hashlib.sha256()
            with offer.open() as source:
                for chunk in _chunks(source, SLICE, offer.size):
                    hasher.update(chunk)
                    if not held and len(chunk) == SLICE:  # a whole slice as read: no copy
                        self.conn.send_stream_slice(chunk)
                        self._flush_if_full()
                        continue
                    pieces.append(chunk)
                    held += len(chunk)
                    if held >= SLICE:
                        joined = b"".join(pieces)
                        for at in range(0, held - SLICE + 1, SLICE):
                            self.conn.send_stream_slice(joined[at : at + SLICE])
                        rest = held % SLICE
                        pieces = [joined[held - rest :]] if rest else []
                        held = rest
                        self._flush_if_full()
            hashes[offer.name] = hasher.hexdigest()
        if held:
            self.conn.send_stream_slice(b"".join(pieces))
        self.conn.send_hashes(hashes)
        self.conn.send_end()
        self._flush()


def _chunks(source: BinaryIO, size: int, expected: int) -> Iterator[bytes]:
    """Chunks of at most ``size`` bytes until the end of ``source``; reads are sized by the
    ``expected`` bytes left, so a small file costs no 1 MiB buffer."""
    while chunk := source.read(max(1, min(size, expected))):
        expected -= len(chunk)
        yield chunk


def _send_buffers(sock: socket.socket, buffers: list[bytes]) -> None:
    """``sendall`` of the buffers in order, gathered by ``sendmsg`` (no joining copy)."""
    if not hasattr(sock, "sendmsg"):  # Windows
        sock.sendall(b"".join(buffers))
        return
    views = [memoryview(b) for b in buffers]
    i = 0
    while i < len(views):
        sent = sock.sendmsg(views[i : i + _IOV_MAX])
        while sent:
            n = len(views[i])
            if sent >= n:
                sent -= n
                i += 1
            else:
                views[i] = views[i][sent:]
                sent = 0
        while i < len(views) and not len(views[i]):
            i += 1


def _hash_into(hasher: hashlib._Hash, source: BinaryIO, length: int) -> None:
    remaining = length
    while remaining > 0:
        chunk = source.read(min(SLICE, remaining))
        if not chunk:
            break
        hasher.update(chunk)
        remaining -= len(chunk)


def _longest_matching_prefix(offer: _Offer, held: wire.HeldPrefix) -> tuple[int, hashlib._Hash]:
    """Read the source once; return the longest offered prefix whose SHA-256 matches it."""
    checkpoint = held.checkpoint
    hasher = hashlib.sha256()
    at_checkpoint = None
    with offer.open() as source:
        if checkpoint is not None:
            _hash_into(hasher, source, checkpoint.length)
            at_checkpoint = hasher.copy()
            _hash_into(hasher, source, held.length - checkpoint.length)
        else:
            _hash_into(hasher, source, held.length)
    if hasher.hexdigest() == held.sha256:
        return held.length, hasher
    if at_checkpoint is not None and at_checkpoint.hexdigest() == checkpoint.sha256:
        return checkpoint.length, at_checkpoint
    return 0, hashlib.sha256()
