"""The sending side: listen, print a code, stream files to one receiver with the protocol.

With an Inlet receiver (the extension) only the bytes it misses travel and every file's hash
follows its last byte; with an ftransfer receiver, or with ``extension=False``, it behaves like
the ftransfer 1.0.1 sender: the whole unified stream in 1 MiB slices, then all hashes.
"""

from __future__ import annotations

import hashlib
import io
import select
import socket
import subprocess
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from . import wire
from .codes import DEFAULT_PORT, TransferCode, generate_token
from .errors import InletError, PeerGoneError, ProtocolError, TransferTimeoutError, WrongTokenError
from .events import FileInfo
from .peertext import safe_text
from .sources import SourceFile, collect_sources

SLICE = 1 << 20  # ftransfer's data message size
#: Frames of small files gather until this many bytes are queued, then go in one system call.
FLUSH_AT = 256 * 1024
_IOV_MAX = 512  # buffers per sendmsg (POSIX guarantees at least 16, Linux takes 1024)
MESSAGE_NAME = "message.txt"
MAX_WRONG_TOKENS = 20  # a guessed token must not get unlimited tries


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
        self.token = options.token or generate_token()
        self._server: socket.socket | None = None
        self.code: TransferCode | None = None

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
        family = socket.AF_INET6 if ":" in bind else socket.AF_INET
        try:
            self._server = socket.create_server((bind, port), family=family, backlog=4)
        except OSError as err:
            raise InletError(
                f"Cannot listen on port {port}: {err.strerror or err}.",
                "Pick another port with --port (0 picks a free one).",
            ) from err
        actual_port = self._server.getsockname()[1]
        self.code = TransferCode(self._advertised_host(), actual_port, self.token)
        return self.code

    def _advertised_host(self) -> str:
        bind = self.options.bind
        if bind and bind not in ("0.0.0.0", "::"):
            return bind
        if self.options.pod:
            return "127.0.0.1"
        return _tailscale_ip() or _local_ip() or "127.0.0.1"

    def close(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None

    def serve(self, log: Callable[[str], None] = lambda line: None) -> None:
        """Serve receivers one at a time until one has received everything."""
        assert self._server is not None, "call listen() first"
        wrong_tokens = 0
        handover: tuple[socket.socket, tuple] | None = None
        turn_away: _TurnAway | None = None
        try:
            while True:
                conn, peer = handover or self._server.accept()
                handover = None
                turn_away = _TurnAway(self._server, log)
                with conn, turn_away:
                    try:
                        if _SenderSession(self, conn).run(log):
                            log(f"Done: {peer[0]} received every file.")
                            return
                        log(
                            "The receiver left before everything was verified; waiting for it "
                            "to resume."
                        )
                    except WrongTokenError:
                        wrong_tokens += 1
                        log(f"A receiver at {peer[0]} used a wrong code.")
                        if wrong_tokens >= MAX_WRONG_TOKENS:
                            raise InletError(
                                f"{wrong_tokens} receivers used a wrong code; stopped listening.",
                                "Start inlet send again for a new code.",
                            ) from None
                    except (InletError, OSError) as err:
                        log(f"The receiver at {peer[0]} left: {err}")
                # A receiver that connected in the last moments of this session is served next.
                handover, turn_away.handover = turn_away.handover, None
        finally:
            for pending in (handover, turn_away.handover if turn_away else None):
                if pending is not None:
                    pending[0].close()
            self.close()

    def ready_timeout(self) -> float:
        if self.options.ready_timeout is not None:
            return self.options.ready_timeout
        count = len(self.offers)
        return 180.0 if count > 10_000 else 120.0 if count > 1_000 else 60.0


class _TurnAway:
    """While one receiver is served, tell every other one at once that the sender is busy.

    Without it a second receiver sat in the listen backlog, heard nothing and gave up after its
    idle timeout with a misleading "sent nothing" (two minutes by default). A thread answers
    each extra connection with the busy signal and closes it; a socket pair wakes it to stop
    before the listening socket goes back to the main loop.
    """

    #: How long an extra connection waits for the current session to end before it is told
    #: "busy": a receiver that reconnects at once after a drop (before this side noticed) is
    #: then served instead of turned away.
    GRACE = 2.0

    def __init__(self, server: socket.socket, log: Callable[[str], None]) -> None:
        self._server = server
        self._log = log
        self._session_over = threading.Event()
        self._wake_r, self._wake_w = socket.socketpair()
        self._thread = threading.Thread(target=self._run, name="inlet-turn-away", daemon=True)
        #: a connection that arrived while the session was ending: serve it next
        self.handover: tuple[socket.socket, tuple] | None = None

    def __enter__(self) -> _TurnAway:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._session_over.set()
        self._wake_w.send(b"x")
        self._thread.join()
        self._wake_r.close()
        self._wake_w.close()

    def _run(self) -> None:
        while True:
            try:
                readable, _, _ = select.select([self._server, self._wake_r], [], [])
            except (OSError, ValueError):
                return
            if self._wake_r in readable:
                return
            try:
                extra, peer = self._server.accept()
            except OSError:
                continue
            if self._session_over.wait(self.GRACE):
                self.handover = (extra, peer)
                return
            with extra:
                try:
                    extra.settimeout(5)
                    extra.sendall(wire.busy_signal())
                except OSError:
                    pass
            self._log(f"A receiver at {peer[0]} was told to wait: another one is being served.")


class _SenderSession:
    """One receiver's connection."""

    def __init__(self, sender: Sender, sock: socket.socket) -> None:
        self.sender = sender
        self.sock = sock
        self.offers = sender.offers
        self.conn = wire.SenderConnection(
            sender.token, extension=sender.options.extension, compress=sender.options.compress
        )

    def _flush(self) -> None:
        buffers = self.conn.data_to_send_buffers()
        if buffers:
            _send_buffers(self.sock, buffers)

    def _flush_if_full(self) -> None:
        """Send once enough is queued: small files' frames travel together."""
        if self.conn.pending_output >= FLUSH_AT:
            self._flush()

    def _next_event(self, timeout: float) -> object:
        self.sock.settimeout(timeout)
        while True:
            event = self.conn.next_event()
            if event is not wire.NEED_DATA:
                return event
            self._flush()
            try:
                n = self.sock.recv_into(self.conn.get_buffer(1 << 16)[: 1 << 20])
            except TimeoutError as err:
                raise TransferTimeoutError(
                    f"The receiver said nothing for {timeout:.0f} s."
                ) from err
            self.conn.buffer_updated(n)

    def run(self, log: Callable[[str], None]) -> bool:
        """True when the receiver reported every file completed."""
        self.conn.start()
        event = self._next_event(30.0)
        if not isinstance(event, wire.Authenticated):
            raise ProtocolError(f"Unexpected {type(event).__name__} during the handshake.")
        self.conn.send_metadata(
            [FileInfo(o.name, o.size) for o in self.offers], is_message=self.sender.is_message
        )
        ready = self._next_event(self.sender.ready_timeout())
        if isinstance(ready, wire.ConnectionClosed):
            raise PeerGoneError("The receiver closed the connection before it was ready.")
        if not isinstance(ready, wire.ReceiverReady):
            raise ProtocolError(f"Expected READY, got {type(ready).__name__}.")
        if ready.plan is None:
            self._stream_legacy(list(range(len(self.offers))))
        else:
            starts = self._accept_plan(ready.plan)
            self.conn.send_accept(starts)
            self._stream_files([(i, s) for i, s in enumerate(starts) if s is not None])
        attempt = 0
        while True:
            reply = self._next_event(self.sender.options.reply_timeout)
            if isinstance(reply, wire.ConnectionClosed):
                return False
            if not isinstance(reply, wire.ReceiverReply):
                raise ProtocolError(f"Unexpected {type(reply).__name__} from the receiver.")
            body = reply.body
            if body.get("status") == "completed":
                return True
            if body.get("type") != "retry_request":
                said = safe_text(body.get("message") or body.get("status"))
                log(f"The receiver reported: {said}")
                return False
            attempt += 1
            wanted = set(body.get("failed_files") or [])
            indices = [i for i, o in enumerate(self.offers) if o.name in wanted]
            log(f"Resending {len(indices)} file(s) that failed verification (attempt {attempt}).")
            if self.conn.extension_active:
                self._stream_files([(i, 0) for i in indices])
            else:
                self._stream_legacy(indices)

    def _accept_plan(self, plan: dict[str, wire.HeldPrefix]) -> list[int | None]:
        """Check each prefix the receiver holds against the source: continue, skip or restart.

        The receiver may offer its whole ``.part`` plus a shorter checkpoint; the longest prefix
        that matches the source wins. The hash state at that point is kept so streaming the rest
        does not read the prefix again.
        """
        starts: list[int | None] = []
        self._prefix_hashers: dict[int, hashlib._Hash] = {}
        for index, offer in enumerate(self.offers):
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


def _tailscale_ip() -> str | None:
    try:
        out = subprocess.run(
            ["tailscale", "ip", "-4"], capture_output=True, text=True, timeout=5, check=True
        ).stdout.split()
    except (OSError, subprocess.SubprocessError):
        return None
    return out[0] if out else None


def _local_ip() -> str | None:
    """This host's first non-loopback address, from its own name (no packet is sent)."""
    try:
        infos = socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET)
    except OSError:
        return None
    for info in infos:
        address = info[4][0]
        if not address.startswith("127."):
            return address
    return None
