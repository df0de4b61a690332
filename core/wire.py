"""The ftransfer conversation as a sans-I/O state machine, for both ends (h11-style).

Nothing here touches a socket, a thread or a clock. The application moves bytes::

    conn.receive_data(chunk)          # b"" when the peer closed
    event = conn.next_event()         # an event below, or NEED_DATA
    sock.sendall(conn.data_to_send())

and tells the machine what to say with methods (``accept()``, ``send_data()``, ``complete()``).
Every byte from the peer goes through a fixed cap before it is buffered beyond a frame header,
and anything the protocol does not allow raises ``ProtocolError`` (``WrongTokenError`` for a
failed handshake). After an error the connection is dead: ``next_event`` raises it again.

Which message comes next is always decided by the state and the position in the stream, never
by looking at a payload. docs/PROTOCOL.md describes the conversation and the Inlet extension.
"""

from __future__ import annotations

import hmac
import os
from array import array
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any, ClassVar

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from . import framing, messages
from .errors import InletError, ProtocolError, SenderBusyError, WrongTokenError
from .events import FileInfo
from .framing import (
    CHALLENGE_SIZE,
    MAX_CONTROL_PAYLOAD,
    MAX_DATA_PAYLOAD,
    MAX_METADATA_PAYLOAD,
    MAX_SEND_CHUNK,
    MAX_SHORT_CONTROL_PAYLOAD,
    PUBLIC_KEY_SIZE,
    READY,
    FrameBuffer,
    plain_frame,
)
from .messages import MAX_FILES, HeldPrefix
from .pake import CONFIRM_SIZE, MESSAGE_SIZE, PakeHandshake, PakeKeys, confirms
from .session import SessionCipher, challenge_answer, derive_session_key, public_key_bytes

__all__ = [
    "MAX_CONTROL_PAYLOAD",
    "MAX_DATA_PAYLOAD",
    "MAX_SEND_CHUNK",
    "NEED_DATA",
    "Accepted",
    "Authenticated",
    "ConnectionClosed",
    "EndOfStream",
    "FileData",
    "FileHash",
    "HeldPrefix",
    "Metadata",
    "ReceiverConnection",
    "ReceiverReady",
    "ReceiverReply",
    "SenderConnection",
    "StreamHashes",
    "WireUsageError",
    "busy_signal",
    "denied_signal",
]

#: What an Inlet sender says, instead of its public key, to a receiver that connects while it
#: serves another one (docs/PROTOCOL.md, 2). It cannot be mistaken for a 32-byte key.
BUSY = b"BUSY"


def busy_signal() -> bytes:
    """The bytes a busy sender sends to an extra connection before closing it."""
    return plain_frame(BUSY)


#: What an Inlet sender says, in its own handshake, to a receiver whose key confirmation was
#: wrong (docs/PROTOCOL.md, 2.1): the receiver can then say "wrong code" instead of "gone".
DENY = b"DENY"


def denied_signal() -> bytes:
    """The bytes a sender sends, before closing, to a receiver that used a wrong code (PAKE)."""
    return plain_frame(DENY)


#: A compressed data message may be a little larger than what it expands to (blosc header and
#: block table, or an incompressible buffer stored as is).
_COMPRESSED_SLACK = 64 * 1024


class _Sentinel:
    def __init__(self, name: str) -> None:
        self._name = name

    def __repr__(self) -> str:
        return self._name


#: ``next_event()`` returns this when it needs more bytes from the peer.
NEED_DATA: Any = _Sentinel("NEED_DATA")


class WireUsageError(RuntimeError):
    """The application called the machine out of order (a bug in the caller, not the peer)."""


# -- events -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Authenticated:
    """Sender side: the receiver proved it knows the token; send the metadata next."""


@dataclass(frozen=True)
class Metadata:
    """Receiver side: the sender's file list, validated (names are raw, not yet path-checked)."""

    files: tuple[FileInfo, ...]
    total_size: int
    compressed: bool
    is_message: bool
    extension_offered: bool
    #: the sender can send only some of its files (extension version 2 or later)
    can_select: bool = False


@dataclass(frozen=True)
class ReceiverReady:
    """Sender side: ``plan`` is None for a plain READY (legacy), else the receiver's resume plan
    (extension): raw file name -> ``HeldPrefix(length, sha256)``. Answer it with send_accept()."""

    plan: dict[str, HeldPrefix] | None
    #: the raw names the receiver asked for (extension version 2); None: every file
    only: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Accepted:
    """Receiver side, extension: where each file starts (None: skipped, already held)."""

    starts: tuple[int | None, ...]


@dataclass(slots=True)
class FileData:
    """Receiver side: ``data`` are bytes ``[file_offset, file_offset + len(data))`` of file
    ``index`` (its position in the metadata's list). With ``reuse_buffers`` it is a memoryview
    of the connection's buffer, valid until the next `next_event` call.

    Read-only by convention, not frozen: one is built per data message, and a frozen
    dataclass costs three times as much to build."""

    index: int
    file_offset: int
    data: bytes


@dataclass(slots=True)
class FileHash:
    """Receiver side, extension: file ``index`` is complete; this is its SHA-256 (hex).
    (Read-only by convention, not frozen: one per file, as `FileData`.)"""

    index: int
    sha256: str


@dataclass(frozen=True)
class StreamHashes:
    """Receiver side, legacy: the sender's hash list ``{filename: sha256_hex}`` for the stream."""

    hashes: dict[str, str]


@dataclass(frozen=True)
class EndOfStream:
    """Receiver side: the end marker; answer with complete() or request_retry()."""


@dataclass(frozen=True)
class ReceiverReply:
    """Sender side: the receiver's final JSON answer after the end marker."""

    body: dict[str, Any]

    @property
    def is_completed(self) -> bool:
        return self.body.get("status") == "completed"

    @property
    def is_retry(self) -> bool:
        return self.body.get("type") == "retry_request"

    @property
    def retry_files(self) -> tuple[str, ...]:
        return tuple(self.body.get("failed_files", ())) if self.is_retry else ()

    @property
    def attempt(self) -> int | None:
        return self.body.get("attempt") if self.is_retry else None


@dataclass(frozen=True)
class ConnectionClosed:
    """The peer closed. ``clean``: where the protocol allows it (see the classes' docs)."""

    clean: bool


# -- positions in the stream --------------------------------------------------------------------


@dataclass(slots=True)
class _Span:
    """Bytes ``[start, end)`` of file ``index`` that one stream carries."""

    index: int
    start: int
    end: int


class _Spans(Sequence[_Span]):
    """The spans of one pass, each made when looked at: file ``indices[k]`` from ``starts[k]``
    (0 when None) to its size. A `_Span` kept per file cost ~90 MiB for a million files."""

    __slots__ = ("_files", "_indices", "_starts")

    def __init__(
        self, files: Sequence[FileInfo], indices: Sequence[int], starts: Sequence[int] | None
    ) -> None:
        self._files, self._indices, self._starts = files, indices, starts

    def __len__(self) -> int:
        return len(self._indices)

    def __getitem__(self, k: int) -> _Span:  # type: ignore[override]
        i = self._indices[k]
        return _Span(i, 0 if self._starts is None else self._starts[k], self._files[i].size)

    def carried(self) -> int:
        """The bytes the pass carries."""
        files = self._files
        total = sum(files[i].size for i in self._indices)
        return total if self._starts is None else total - sum(self._starts)


class _Stream:
    """Where we are in one pass of data (the first stream, or a retry's resend).

    A pass carries spans of files in list order. Legacy: the spans' bytes are concatenated into
    one stream (a message may cross files), then one hash list follows. Extension: each span is
    sent on its own (a message never crosses files) and is followed by its file's hash.
    """

    def __init__(self, spans: _Spans, per_file_hashes: bool) -> None:
        self.spans = spans
        self.per_file_hashes = per_file_hashes
        self.k = 0
        self.offset = spans[0].start if spans else 0
        self.remaining = spans.carried()
        self.started = False  # a message of this pass went over the wire
        self.hash_list_sent = False  # legacy sender: the hash list followed the last byte
        if not per_file_hashes:
            self._skip_exhausted()

    @property
    def span(self) -> _Span | None:
        return self.spans[self.k] if self.k < len(self.spans) else None

    def _next_span(self) -> None:
        self.k += 1
        if self.k < len(self.spans):
            self.offset = self.spans[self.k].start

    def _skip_exhausted(self) -> None:
        while self.k < len(self.spans) and self.offset == self.spans[self.k].end:
            self._next_span()

    def room(self) -> int:
        """How many bytes the next data message may carry."""
        if not self.per_file_hashes:
            return self.remaining
        span = self.span
        return span.end - self.offset if span else 0

    def hash_due(self) -> bool:
        """Extension: the current file's bytes are all here and its hash comes next."""
        span = self.span
        return span is not None and self.offset == span.end

    def take(self, length: int) -> list[tuple[int, int, int, int]]:
        """Advance by ``length`` bytes (<= room()); the pieces as (index, offset, start, end):
        file ``index`` gets bytes ``[start, end)`` of the message at file ``offset``."""
        pieces = []
        done = 0
        while done < length:
            span = self.spans[self.k]
            n = min(length - done, span.end - self.offset)
            pieces.append((span.index, self.offset, done, done + n))
            self.offset += n
            done += n
            if not self.per_file_hashes:
                self._skip_exhausted()
        self.remaining -= length
        return pieces

    def file_hashed(self) -> None:
        self._next_span()

    def finished(self) -> bool:
        return self.k >= len(self.spans) if self.per_file_hashes else self.remaining == 0


def _first_pass(files: Sequence[FileInfo], starts: Sequence[int | None] | None) -> _Stream:
    """Every file from 0 (legacy), or from ``starts`` (extension; None: skipped)."""
    if starts is None:
        return _Stream(_Spans(files, range(len(files)), None), per_file_hashes=False)
    if len(starts) != len(files):
        raise ValueError(f"{len(starts)} starts for {len(files)} files")
    if None not in starts:  # (the usual: no file skipped) the starts are shared, not copied
        return _Stream(_Spans(files, range(len(files)), starts), per_file_hashes=True)
    kept = array("q", (i for i, s in enumerate(starts) if s is not None))
    return _Stream(_Spans(files, kept, array("q", (starts[i] for i in kept))), True)


def _retry_pass(files: Sequence[FileInfo], names: Iterable[str], per_file_hashes: bool) -> _Stream:
    """A retry resends the named files in full, in their original list order."""
    wanted = set(names)
    indices = array("q", (i for i, f in enumerate(files) if f.name in wanted))
    return _Stream(_Spans(files, indices, None), per_file_hashes)


# -- the common machinery -----------------------------------------------------------------------


class _State(Enum):
    # both
    WAIT_PEER_KEY = "waiting for the peer's public key"
    ERROR = "failed"
    DONE = "done"
    # receiver
    WAIT_CHALLENGE = "waiting for the challenge"
    WAIT_CONFIRM = "waiting for the sender's key confirmation"
    WAIT_METADATA = "waiting for the metadata"
    APP_ACCEPT = "waiting for accept()"
    WAIT_SENDER_ACCEPT = "waiting for the sender's answer to the plan"
    STREAM = "receiving data"
    WAIT_END = "waiting for the end marker"
    APP_REPLY = "waiting for complete() or request_retry()"
    # sender
    IDLE = "waiting for start()"
    WAIT_ANSWER = "waiting for the challenge answer"
    APP_METADATA = "waiting for send_metadata()"
    WAIT_READY = "waiting for READY"
    APP_PLAN_ANSWER = "waiting for send_accept()"
    SENDING = "sending data"
    WAIT_REPLY = "waiting for the receiver's reply"


class _Connection:
    """Buffers, output, EOF and error handling shared by both ends."""

    #: States in which the peer must stay silent (it waits for us); a byte is a violation.
    _SILENT: ClassVar[frozenset[_State]] = frozenset()
    #: What it means when the peer breaks that silence, per state.
    _SILENT_WHY: ClassVar[Mapping[_State, str]] = {}

    def __init__(
        self, token: str, private_key: X25519PrivateKey | None, pake: PakeHandshake | None = None
    ) -> None:
        self._token = token
        #: Inlet's handshake (SPAKE2) when the code says so; else ftransfer's X25519 one.
        self._pake = pake
        self._keys: PakeKeys | None = None
        self._private_key = (private_key or X25519PrivateKey.generate()) if pake is None else None
        self._in = FrameBuffer()
        self._out: list[bytes] = []  # frames (and frame parts) queued for the peer, in order
        self._out_bytes = 0
        self._events: deque[Any] = deque()
        self._eof = False
        self._error: InletError | None = None
        self._cipher: SessionCipher | None = None
        self._plain: bytearray | None = None  # see ReceiverConnection(reuse_buffers=...)
        self._state = _State.WAIT_PEER_KEY
        self._files: tuple[FileInfo, ...] = ()
        #: Bytes the file list's names take in JSON: the later messages' caps follow from it.
        self._name_bytes = 0
        self._stream: _Stream | None = None
        self._extension = False

    # -- the I/O seam ----------------------------------------------------------------------------

    def receive_data(self, data: bytes) -> None:
        """Bytes read from the peer; ``b""`` means the peer closed its side."""
        if self._eof:
            raise WireUsageError("receive_data() after the peer already closed the connection.")
        if data:
            self._in.feed(data)
        else:
            self._eof = True

    def get_buffer(self, sizehint: int) -> memoryview:
        """A writable view (at least ``sizehint`` bytes) to read the peer's bytes into, then
        `buffer_updated`: the zero-copy form of `receive_data` (asyncio's ``BufferedProtocol``).

        The view is only valid until the next `get_buffer` or `receive_data`.
        """
        if self._eof:
            raise WireUsageError("get_buffer() after the peer already closed the connection.")
        return self._in.get_buffer(sizehint)

    def buffer_updated(self, nbytes: int) -> None:
        """``nbytes`` were read into the start of the last `get_buffer` view; 0: the peer
        closed its side."""
        if self._eof:
            raise WireUsageError("buffer_updated() after the peer already closed the connection.")
        if nbytes:
            self._in.buffer_updated(nbytes)
        else:
            self._eof = True

    def data_to_send(self) -> bytes:
        """Everything queued for the peer since the last call."""
        return b"".join(self.data_to_send_buffers())

    def data_to_send_buffers(self) -> list[bytes]:
        """The same as `data_to_send`, as a list of buffers to send in order (for
        ``socket.sendmsg``: the ciphertext of a data message is never copied)."""
        out, self._out, self._out_bytes = self._out, [], 0
        return out

    @property
    def pending_output(self) -> int:
        """Bytes queued for the peer (a sender flushes once enough gathered)."""
        return self._out_bytes

    def next_event(self) -> Any:
        """The next event, or NEED_DATA. Raises ProtocolError / WrongTokenError."""
        if self._error is not None:
            raise self._error
        if self._events:
            return self._events.popleft()
        try:
            while not self._events:
                state = self._state  # (the stream, the common case, is never silent: no hash)
                if state is not _State.STREAM and state in self._SILENT:
                    return self._silent()
                if not self._step():
                    return self._need_data()
        except InletError as err:
            self._error = err
            self._state = _State.ERROR
            raise
        return self._events.popleft()

    @property
    def state(self) -> str:
        """Where the conversation is, in words (for logs and error reports)."""
        return self._state.value

    @property
    def extension_active(self) -> bool:
        """True once both ends agreed on the Inlet extension."""
        return self._extension

    @property
    def buffered_bytes(self) -> int:
        """Bytes received and not parsed yet (bounded by a frame's cap plus its header)."""
        return len(self._in)

    @property
    def files(self) -> tuple[FileInfo, ...]:
        """The transfer's file list (once metadata was sent or received)."""
        return self._files

    # -- helpers for subclasses ------------------------------------------------------------------

    def _step(self) -> bool:
        """Parse at most one frame; False when more bytes are needed."""
        raise NotImplementedError

    def _clean_close_allowed(self) -> bool:
        return self._state is _State.DONE

    def _need_data(self) -> Any:
        if not self._eof:
            return NEED_DATA
        clean = len(self._in) == 0 and self._clean_close_allowed()
        return ConnectionClosed(clean=clean)

    def _silent(self) -> Any:
        if len(self._in):
            raise ProtocolError(self._SILENT_WHY.get(self._state, "The peer spoke out of turn."))
        return self._need_data()

    def _require(self, *states: _State) -> None:
        if self._error is not None:
            raise WireUsageError(f"The connection already failed: {self._error}")
        if self._state not in states:
            raise WireUsageError(f"Not allowed now: the connection is {self._state.value}.")

    def _send_plain(self, payload: bytes) -> None:
        self._queue(plain_frame(payload))

    def _send_sealed(self, payload: bytes) -> None:
        assert self._cipher is not None
        header, ciphertext = self._cipher.seal_parts(payload)
        self._queue(header)
        self._queue(ciphertext)

    def _queue(self, data: bytes) -> None:
        self._out.append(data)
        self._out_bytes += len(data)

    def _start_session(self, peer_public: bytes) -> None:
        self._cipher = SessionCipher(
            derive_session_key(self._private_key, peer_public, self._token)
        )

    def _start_pake_session(self, peer_message: bytes) -> PakeKeys:
        assert self._pake is not None
        self._keys = self._pake.finish(peer_message)
        self._cipher = SessionCipher(self._keys.session_key)
        return self._keys

    @property
    def uses_pake(self) -> bool:
        """True when this connection runs Inlet's SPAKE2 handshake (docs/PROTOCOL.md, 2.1)."""
        return self._pake is not None

    def _read_sealed(self, what: str, limit: int, *, reuse: bool = False) -> Any:
        """One sealed message, decrypted; a failed tag here means damage or tampering.

        ``reuse``: decrypt into ``self._plain`` (data messages of a `ReceiverConnection` made
        with ``reuse_buffers``) and return a view of it."""
        frame = self._in.read_sealed(what, limit)
        if frame is None:
            return None
        assert self._cipher is not None
        try:
            if reuse and self._plain is not None:
                size = len(frame[1]) - framing.TAG_SIZE
                if len(self._plain) < size:  # a new one: an earlier view may still exist
                    self._plain = bytearray(size)
                return self._cipher.open_into(*frame, self._plain)
            return self._cipher.open(*frame)
        except InvalidTag:
            raise ProtocolError(
                f"A sealed message ({what}) failed authentication: the data was damaged or "
                "tampered with in transit."
            ) from None

    def _data_limit(self, compressed: bool) -> int:
        return MAX_DATA_PAYLOAD + _COMPRESSED_SLACK if compressed else MAX_DATA_PAYLOAD


def _checked_only(names: Sequence[str], files: Sequence[FileInfo]) -> tuple[str, ...]:
    """The files a receiver asks for, as raw names of the list in list order; a name not in the
    list is a programming error (ValueError)."""
    wanted = set(names)
    listed = [f.name for f in files if f.name in wanted]
    if len(set(listed)) != len(wanted):
        raise ValueError(f"accept(only=...) names files not in the list: {sorted(wanted)[:3]}")
    return tuple(dict.fromkeys(listed))


def _name_list(files: Iterable[Any]) -> list[FileInfo]:
    """FileInfo-like objects (``.name``/``.size``) or ``(name, size)`` pairs, with offsets."""
    result: list[FileInfo] = []
    offset = 0
    for item in files:
        name, size = (item.name, item.size) if hasattr(item, "name") else item
        if not isinstance(name, str):
            raise ValueError(f"A file name must be text: {name!r}")
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            raise ValueError(f"The size of {name!r} must be an int >= 0: {size!r}")
        result.append(FileInfo(name, size, offset))
        offset += size
    return result


# -- the receiver -------------------------------------------------------------------------------


class ReceiverConnection(_Connection):
    """The receiving end: it connected to the sender and answers it.

    Events, in order: ``Metadata``; after ``accept()``: (extension) ``Accepted``, then
    ``FileData``... with ``FileHash`` after each file (extension) or one ``StreamHashes`` at the
    end (legacy); ``EndOfStream``. Answer with ``complete()`` / ``complete_with_failures()`` or
    ``request_retry()`` (then the resend arrives the same way, without ``Accepted``).

    ``ConnectionClosed(clean=True)`` only after the final answer, or when the sender closes
    instead of resending after ``request_retry()`` (ftransfer 1.0.1 does that) before sending a
    byte of the resend. Any other close is ``clean=False``: the sender went away mid-transfer.
    """

    _SILENT = frozenset({_State.APP_ACCEPT, _State.APP_REPLY, _State.DONE})
    _SILENT_WHY: ClassVar[Mapping[_State, str]] = {
        _State.APP_ACCEPT: "The sender sent data before the receiver said it was ready.",
        _State.APP_REPLY: "The sender sent garbage after the end marker.",
        _State.DONE: "The sender sent garbage after the end marker.",
    }

    def __init__(
        self,
        token: str,
        *,
        private_key: X25519PrivateKey | None = None,
        extension: bool = True,
        reuse_buffers: bool = False,
        pake: bool = False,
        pake_entropy: Callable[[int], bytes] | None = None,
    ) -> None:
        """``pake``: run Inlet's SPAKE2 handshake (the code's form says which; see
        `codes.TransferCode.pake`); ``private_key`` / ``pake_entropy`` are test seams."""
        handshake = PakeHandshake(token, sender=False, entropy=pake_entropy) if pake else None
        super().__init__(token, private_key, handshake)
        self._extension_allowed = extension
        #: ``reuse_buffers``: data messages are decrypted into one buffer, so a `FileData`'s
        #: ``data`` is a view that is valid only until the next `next_event` call (the
        #: receiver writes and hashes it at once; no buffer is allocated per message).
        self._plain: bytearray | None = bytearray() if reuse_buffers else None
        self._offered = False
        self._compressed = False
        self._plan: dict[str, HeldPrefix] = {}
        self._only: tuple[str, ...] | None = None
        self._offered_version = 0
        self._retrying = False

    @property
    def extension_offered(self) -> bool:
        """The sender's metadata offered the Inlet extension."""
        return self._offered

    def _can_select(self) -> bool:
        return self._extension_allowed and self._offered_version >= messages.SELECT_VERSION

    # -- what the application says --------------------------------------------------------------

    def accept(
        self,
        plan: Mapping[str, HeldPrefix | tuple[int, str]] | None = None,
        only: Sequence[str] | None = None,
    ) -> None:
        """Say READY. With a ``plan`` and a sender that offered the extension, send the resume
        plan instead and expect ``Accepted``. The plan maps raw names (as in the metadata) to
        ``HeldPrefix(length, sha256, checkpoint=None)`` or ``(length, sha256)``: the prefix this
        side holds and the SHA-256 of exactly those bytes (docs/PROTOCOL.md, 5.2). Without the
        extension the plan is not sent: the sender streams every byte from 0 and the
        application drops what it holds (check ``extension_active``).

        ``only`` (raw names) asks for those files alone: the sender sends none of the others
        (docs/PROTOCOL.md, 5.4); it needs a plan and a sender that can select (``Metadata``'s
        ``can_select``)."""
        self._require(_State.APP_ACCEPT)
        if only is not None and not (plan is not None and self._can_select()):
            raise ValueError("accept(only=...) needs a plan and a sender that can select files.")
        if plan is not None and self._offered and self._extension_allowed:
            self._plan = messages.check_plan(plan, self._files)
            self._only = None if only is None else _checked_only(only, self._files)
            self._extension = True
            version = min(self._offered_version, messages.INLET_VERSION)
            self._send_sealed(messages.build_plan(self._plan, version, self._only))
            self._state = _State.WAIT_SENDER_ACCEPT
        else:
            self._send_plain(READY)
            self._stream = _first_pass(self._files, None)
            self._state = _State.STREAM

    def complete(self, message: str, completion_time: float) -> None:
        """The success answer; ``completion_time`` is Unix time from the caller's clock."""
        self._require(_State.APP_REPLY)
        self._send_sealed(messages.build_completion(message, completion_time))
        self._state = _State.DONE

    def complete_with_failures(
        self, failed_files: Sequence[str], completion_time: float, message: str | None = None
    ) -> None:
        """The final answer when some files stay failed and no retry is asked (Inlet-defined:
        ``{"status": "failed", ...}``; ftransfer 1.0.1 just reports it)."""
        self._require(_State.APP_REPLY)
        count = len(failed_files)
        text = message or f"{count:,} {'file' if count == 1 else 'files'} failed."
        self._send_sealed(messages.build_failure(failed_files, completion_time, text))
        self._state = _State.DONE

    def request_retry(self, names: Sequence[str], attempt: int) -> None:
        """Ask for the named files again, in full; they arrive in their list order."""
        self._require(_State.APP_REPLY)
        known = {f.name for f in self._files}
        wanted = set(names)
        if not wanted or not wanted <= known:
            raise ValueError(
                f"request_retry() needs names from the file list: {sorted(wanted - known)}"
            )
        if not isinstance(attempt, int) or isinstance(attempt, bool) or attempt < 1:
            raise ValueError(f"attempt must be an int >= 1: {attempt!r}")
        ordered = list(dict.fromkeys(f.name for f in self._files if f.name in wanted))
        self._send_sealed(messages.build_retry_request(ordered, attempt))
        self._stream = _retry_pass(self._files, ordered, per_file_hashes=self._extension)
        self._retrying = True
        self._state = _State.STREAM

    # -- parsing ---------------------------------------------------------------------------------

    def _clean_close_allowed(self) -> bool:
        if self._state is _State.DONE:
            return True
        # ftransfer 1.0.1's sender crashes on a retry request: that close is expected.
        return self._state is _State.STREAM and self._retrying and not self._stream.started

    def _step(self) -> bool:
        state = self._state
        if state is _State.STREAM:  # first: two messages per file, every other state once
            return self._on_stream()
        if state is _State.WAIT_PEER_KEY:
            if self._in.peek_length() == len(BUSY):
                frame = self._in.read_plain("the sender's public key", exact=len(BUSY))
                if frame is None:
                    return False
                if frame == BUSY:
                    raise SenderBusyError("The sender is busy with another receiver.")
                raise ProtocolError(
                    f"Expected the sender's public key of {PUBLIC_KEY_SIZE} bytes, but the peer "
                    f"announced {len(BUSY)}."
                )
            return self._on_sender_hello()
        elif state is _State.WAIT_CHALLENGE:
            return self._on_challenge()
        elif state is _State.WAIT_CONFIRM:
            return self._on_sender_confirm()
        elif state is _State.WAIT_METADATA:
            payload = self._read_sealed("the metadata", MAX_METADATA_PAYLOAD)
            if payload is None:
                return False
            meta = messages.parse_metadata(payload)
            self._in.trim()  # the list's ciphertext is not kept while the receiver checks it
            self._files = meta.files
            self._name_bytes = meta.name_bytes
            self._compressed = meta.compressed
            self._offered = meta.inlet_version is not None
            self._offered_version = meta.inlet_version or 0
            self._events.append(
                Metadata(
                    meta.files,
                    meta.total_size,
                    meta.compressed,
                    meta.is_message,
                    self._offered,
                    can_select=self._can_select(),
                )
            )
            self._state = _State.APP_ACCEPT
        elif state is _State.WAIT_SENDER_ACCEPT:
            payload = self._read_sealed(
                "the answer to the resume plan", messages.accept_limit(len(self._files))
            )
            if payload is None:
                return False
            starts = messages.parse_accept(payload, self._files, self._plan, self._only)
            self._stream = _first_pass(self._files, starts)
            self._events.append(Accepted(starts))
            self._state = _State.STREAM
        elif state is _State.WAIT_END:
            return self._on_end_marker()
        else:  # pragma: no cover - every other state is silent or final
            raise WireUsageError(f"next_event() while {state.value}")
        return True

    def _on_sender_hello(self) -> bool:
        """The sender's first message: its X25519 key (ftransfer) or its SPAKE2 message."""
        length = self._in.peek_length()
        if self._pake is None and length == MESSAGE_SIZE:
            raise WrongTokenError(
                "The sender runs Inlet's own handshake, but this code is an ftransfer code "
                "(an Inlet code's words start with a number)."
            )
        if self._pake is not None and length == PUBLIC_KEY_SIZE:
            raise WrongTokenError(
                "The sender runs ftransfer's handshake, but this code is an Inlet code "
                "(its words start with a number)."
            )
        if self._pake is None:
            key = self._in.read_plain("the sender's public key", exact=PUBLIC_KEY_SIZE)
            if key is None:
                return False
            self._start_session(key)
            self._send_plain(public_key_bytes(self._private_key))
            self._state = _State.WAIT_CHALLENGE
            return True
        message = self._in.read_plain("the sender's SPAKE2 message", exact=MESSAGE_SIZE)
        if message is None:
            return False
        keys = self._start_pake_session(message)
        self._send_plain(self._pake.message())
        self._send_plain(keys.receiver_confirm)
        self._state = _State.WAIT_CONFIRM
        return True

    def _on_sender_confirm(self) -> bool:
        if self._in.peek_length() == len(DENY):
            frame = self._in.read_plain("the sender's verdict", exact=len(DENY))
            if frame is None:
                return False
            if frame == DENY:
                raise WrongTokenError("The sender did not accept the code.")
            raise ProtocolError("The sender's key confirmation is 4 bytes, not 32.")
        confirm = self._in.read_plain("the sender's key confirmation", exact=CONFIRM_SIZE)
        if confirm is None:
            return False
        assert self._keys is not None
        if not confirms(self._keys.sender_confirm, confirm):
            raise WrongTokenError(
                "The sender could not confirm the code: it does not know it (a wrong address, "
                "or someone else is listening there)."
            )
        self._state = _State.WAIT_METADATA
        return True

    def _on_challenge(self) -> bool:
        frame = self._in.read_sealed("the challenge", CHALLENGE_SIZE)
        if frame is None:
            return False
        assert self._cipher is not None
        try:
            challenge = self._cipher.open(*frame)
        except InvalidTag:
            raise WrongTokenError(
                "The sender's challenge could not be decrypted: the token in the code does not "
                "match the sender's."
            ) from None
        if len(challenge) != CHALLENGE_SIZE:
            raise ProtocolError(f"The challenge is {len(challenge)} bytes, not {CHALLENGE_SIZE}.")
        self._send_plain(challenge_answer(challenge, self._token))
        self._state = _State.WAIT_METADATA
        return True

    def _on_stream(self) -> bool:
        stream = self._stream
        assert stream is not None
        if stream.per_file_hashes:
            return self._on_file_stream(stream)
        if stream.finished():
            limit = messages.hash_list_limit(len(self._files), self._name_bytes)
            payload = self._read_sealed("the hash list", limit)
            if payload is None:
                return False
            stream.started = True
            hashes = messages.parse_stream_hashes(payload, len(self._files))
            self._events.append(StreamHashes(hashes))
            self._state = _State.WAIT_END
            return True
        payload = self._data_message(stream, stream.room())
        if payload is None:
            return False
        pieces = stream.take(len(payload))
        if len(pieces) == 1:
            index, offset, _, _ = pieces[0]
            self._events.append(FileData(index, offset, payload))
        else:
            view = memoryview(payload)
            for index, offset, start, end in pieces:
                self._events.append(FileData(index, offset, bytes(view[start:end])))
        return True

    def _on_file_stream(self, stream: _Stream) -> bool:
        """The extension's stream: each file's data messages, then its hash (two messages of
        every file land here, so the current span is looked up once)."""
        span = stream.span
        if span is None:
            return self._on_end_marker()
        if stream.offset == span.end:  # the file's bytes are all here: its hash comes next
            payload = self._read_sealed("a file hash", MAX_SHORT_CONTROL_PAYLOAD)
            if payload is None:
                return False
            stream.started = True
            index = span.index
            self._events.append(FileHash(index, messages.parse_file_hash(payload, index)))
            stream.file_hashed()
            return True
        payload = self._data_message(stream, span.end - stream.offset)
        if payload is None:
            return False
        if n := len(payload):  # (an empty message carries nothing: no event, as in `take`)
            self._events.append(FileData(span.index, stream.offset, payload))
            stream.offset += n
            stream.remaining -= n
        return True

    def _data_message(self, stream: _Stream, room: int) -> Any:
        """The next data message, decrypted (and decompressed), at most ``room`` bytes; None
        until it is all here."""
        if self._in.peek_length() == 0:
            raise ProtocolError(
                f"The sender ended the stream early: {stream.remaining} bytes are missing."
            )
        compressed = self._compressed
        payload = self._read_sealed(
            "a data message", self._data_limit(compressed), reuse=not compressed
        )
        if payload is None:
            return None
        stream.started = True
        if compressed:
            payload = framing.decompress(payload, min(room, MAX_DATA_PAYLOAD))
        if len(payload) > room:
            where = "the current file" if stream.per_file_hashes else "the stream"
            raise ProtocolError(
                f"A data message of {len(payload)} bytes runs past the end of {where} "
                f"({room} bytes left)."
            )
        return payload

    def _on_end_marker(self) -> bool:
        found = self._in.read_end_marker()
        if found is None:
            return False
        if not found:
            after = "the last file's hash" if self._extension else "the hash list"
            raise ProtocolError(f"The sender sent more after {after} instead of the end marker.")
        self._events.append(EndOfStream())
        self._state = _State.APP_REPLY
        return True


# -- the sender ---------------------------------------------------------------------------------


class SenderConnection(_Connection):
    """The sending end: it listened, the receiver connected.

    ``start()``; event ``Authenticated``; ``send_metadata()``; event ``ReceiverReady``; with a
    plan, ``send_accept()``; then the data (``send_data`` / ``send_stream_slice``), the hashes
    (``send_hashes`` legacy, ``send_file_hash`` extension) and ``send_end()``; event
    ``ReceiverReply``. After a retry request the machine expects the resend of those files.
    ``ConnectionClosed(clean=True)`` only after a final (non-retry) reply.
    """

    _SILENT = frozenset({_State.APP_METADATA, _State.APP_PLAN_ANSWER, _State.SENDING, _State.DONE})
    _SILENT_WHY: ClassVar[Mapping[_State, str]] = {
        _State.APP_METADATA: "The receiver sent data before the metadata.",
        _State.APP_PLAN_ANSWER: "The receiver sent data after its resume plan.",
        _State.SENDING: "The receiver sent data in the middle of the stream.",
        _State.DONE: "The receiver sent data after its final reply.",
    }

    def __init__(
        self,
        token: str,
        *,
        private_key: X25519PrivateKey | None = None,
        challenge: bytes | None = None,
        extension: bool = True,
        compress: bool = False,
        pake: bool = False,
        pake_entropy: Callable[[int], bytes] | None = None,
    ) -> None:
        """``pake``: run Inlet's SPAKE2 handshake instead of ftransfer's (the code's form tells
        the receiver which); ``private_key``, ``challenge``, ``pake_entropy``: test seams."""
        handshake = PakeHandshake(token, sender=True, entropy=pake_entropy) if pake else None
        super().__init__(token, private_key, handshake)
        if challenge is not None and len(challenge) != CHALLENGE_SIZE:
            raise ValueError(f"The challenge must be {CHALLENGE_SIZE} bytes.")
        self._challenge = challenge or os.urandom(CHALLENGE_SIZE)
        self._offer_extension = extension
        self._compress = compress
        self._plan: dict[str, HeldPrefix] = {}
        self._only: tuple[str, ...] | None = None
        self._state = _State.IDLE

    def start(self) -> None:
        """Queue our public key: the first bytes of the conversation."""
        self._require(_State.IDLE)
        if self._pake is not None:
            self._send_plain(self._pake.message())
        else:
            self._send_plain(public_key_bytes(self._private_key))
        self._state = _State.WAIT_PEER_KEY

    def send_metadata(self, files: Iterable[Any], is_message: bool = False) -> None:
        """The file list (FileInfo-like ``.name``/``.size`` or ``(name, size)``), in stream order.

        Offsets and the total are computed here; the extension is offered if enabled. Names
        must be unique: hashes and resume plans are keyed by name.
        """
        self._require(_State.APP_METADATA)
        infos = _name_list(files)
        if len({f.name for f in infos}) != len(infos):
            raise ValueError("The same file name is listed twice.")
        if len(infos) > MAX_FILES:
            raise ValueError(f"At most {MAX_FILES} files can be sent at once.")
        if is_message and len(infos) != 1:
            raise ValueError("A text message is exactly one file.")
        payload = messages.build_metadata(
            infos, compressed=self._compress, is_message=is_message, extension=self._offer_extension
        )
        if len(payload) > MAX_METADATA_PAYLOAD:
            raise ValueError(
                f"The file list is {len(payload) / framing.MiB:.0f} MiB as sent, more than the "
                f"{MAX_METADATA_PAYLOAD // framing.MiB} MiB a receiver accepts for "
                f"{len(infos):,} files; send fewer files at once."
            )
        self._files = tuple(infos)
        self._name_bytes = messages.name_bytes(f.name for f in infos)
        self._send_sealed(payload)
        self._state = _State.WAIT_READY

    def send_accept(self, starts: Sequence[int | None]) -> None:
        """Answer the plan: per file, 0 (prefix did not match), its held length (prefix
        verified against the source), or None (fully held and verified: skip it)."""
        self._require(_State.APP_PLAN_ANSWER)
        checked = messages.check_starts(list(starts), self._files, self._plan, self._only)
        self._send_sealed(messages.build_accept(checked))
        self._stream = _first_pass(self._files, checked)
        self._state = _State.SENDING

    def send_data(self, index: int, file_offset: int, data: bytes) -> None:
        """Bytes of one file; they must be the next bytes the stream expects."""
        self._require(_State.SENDING)
        stream = self._stream
        assert stream is not None
        span = stream.span
        if stream.hash_due() or span is None or (span.index, stream.offset) != (index, file_offset):
            expected = (
                "no more data"
                if span is None or stream.hash_due()
                else (f"file #{span.index} at byte {stream.offset}")
            )
            raise WireUsageError(f"send_data({index}, {file_offset}): expected {expected}.")
        room = stream.room() if stream.per_file_hashes else span.end - stream.offset
        if len(data) > room:
            raise WireUsageError(
                f"send_data(): {len(data)} bytes, but file #{index} has {room} left."
            )
        self._send_chunk(data)

    def send_stream_slice(self, data: bytes) -> None:
        """Legacy: the next bytes of the unified stream, crossing file boundaries as needed
        (ftransfer 1.0.1 sends 1 MiB slices of the stream regardless of files)."""
        self._require(_State.SENDING)
        stream = self._stream
        assert stream is not None
        if stream.per_file_hashes:
            raise WireUsageError("send_stream_slice() is legacy only; use send_data().")
        if len(data) > stream.remaining:
            raise WireUsageError(f"send_stream_slice(): only {stream.remaining} bytes remain.")
        self._send_chunk(data)

    def _send_chunk(self, data: bytes) -> None:
        assert self._stream is not None
        if not data:
            raise WireUsageError("An empty data message carries nothing.")
        if len(data) > MAX_SEND_CHUNK:
            raise WireUsageError(f"A data message carries at most {MAX_SEND_CHUNK} bytes.")
        self._stream.take(len(data))
        self._send_sealed(framing.compress(data) if self._compress else data)

    def send_hashes(self, hashes: Mapping[str, str]) -> None:
        """Legacy: the hash list ``{name: sha256_hex}``, after the last byte of the stream."""
        self._require(_State.SENDING)
        stream = self._stream
        assert stream is not None
        if stream.per_file_hashes or not stream.finished() or stream.hash_list_sent:
            raise WireUsageError("send_hashes() belongs after the last byte of a legacy stream.")
        self._send_sealed(messages.build_stream_hashes(hashes))
        stream.hash_list_sent = True

    def send_file_hash(self, index: int, sha256: str) -> None:
        """Extension: file ``index`` is complete; its SHA-256 goes right after its last byte."""
        self._require(_State.SENDING)
        stream = self._stream
        assert stream is not None
        if not stream.per_file_hashes or not stream.hash_due() or stream.span.index != index:
            raise WireUsageError(f"send_file_hash({index}): that file's bytes are not all sent.")
        self._send_sealed(messages.build_file_hash(index, sha256))
        stream.file_hashed()

    def send_end(self) -> None:
        """The end marker, after the hashes; then the receiver's reply is awaited."""
        self._require(_State.SENDING)
        stream = self._stream
        assert stream is not None
        done = stream.finished() and (stream.per_file_hashes or stream.hash_list_sent)
        if not done:
            raise WireUsageError("send_end() before every byte and hash of the stream was sent.")
        self._queue(framing.END_MARKER)
        self._state = _State.WAIT_REPLY

    # -- parsing ---------------------------------------------------------------------------------

    def next_event(self) -> Any:
        if self._state is _State.IDLE and self._error is None:
            raise WireUsageError("Call start() before reading events.")
        return super().next_event()

    def _step(self) -> bool:
        state = self._state
        if state is _State.WAIT_PEER_KEY and self._pake is not None:
            message = self._in.read_plain("the receiver's SPAKE2 message", exact=MESSAGE_SIZE)
            if message is None:
                return False
            self._start_pake_session(message)
            self._state = _State.WAIT_ANSWER
        elif state is _State.WAIT_PEER_KEY:
            key = self._in.read_plain("the receiver's public key", exact=PUBLIC_KEY_SIZE)
            if key is None:
                return False
            self._start_session(key)
            self._send_sealed(self._challenge)
            self._state = _State.WAIT_ANSWER
        elif state is _State.WAIT_ANSWER and self._pake is not None:
            confirm = self._in.read_plain("the receiver's key confirmation", exact=CONFIRM_SIZE)
            if confirm is None:
                return False
            assert self._keys is not None
            if not confirms(self._keys.receiver_confirm, confirm):
                raise WrongTokenError(
                    "The receiver's key confirmation does not match: it does not know the code."
                )
            self._send_plain(self._keys.sender_confirm)
            self._events.append(Authenticated())
            self._state = _State.APP_METADATA
        elif state is _State.WAIT_ANSWER:
            answer = self._in.read_plain("the challenge answer", exact=CHALLENGE_SIZE)
            if answer is None:
                return False
            if not hmac.compare_digest(answer, challenge_answer(self._challenge, self._token)):
                raise WrongTokenError(
                    "The receiver answered the challenge wrongly: it does not know the token."
                )
            self._events.append(Authenticated())
            self._state = _State.APP_METADATA
        elif state is _State.WAIT_READY:
            return self._on_ready()
        elif state is _State.WAIT_REPLY:
            limit = messages.reply_limit(len(self._files), self._name_bytes)
            payload = self._read_sealed("the receiver's reply", limit)
            if payload is None:
                return False
            reply = ReceiverReply(messages.parse_reply(payload, self._files))
            if reply.is_retry:
                self._stream = _retry_pass(self._files, reply.retry_files, self._extension)
                self._state = _State.SENDING
            else:
                self._state = _State.DONE
            self._events.append(reply)
        else:  # pragma: no cover - every other state is silent or final
            raise WireUsageError(f"next_event() while {state.value}")
        return True

    def _on_ready(self) -> bool:
        length = self._in.peek_length()
        if length is None:
            return False
        if length == len(READY):
            frame = self._in.read_plain("READY", exact=len(READY))
            if frame is None:
                return False
            if frame != READY:
                raise ProtocolError(f"Expected READY from the receiver, got {frame!r}.")
            self._stream = _first_pass(self._files, None)
            self._events.append(ReceiverReady(None))
            self._state = _State.SENDING
            return True
        if length == framing.NONCE_SIZE and not self._offer_extension:
            raise ProtocolError("The receiver answered with a sealed message instead of READY.")
        if length == framing.NONCE_SIZE:
            limit = messages.plan_limit(len(self._files), self._name_bytes)
            payload = self._read_sealed("the resume plan", limit)
            if payload is None:
                return False
            self._plan, self._only = messages.parse_plan_message(payload, self._files)
            self._extension = True
            self._events.append(ReceiverReady(dict(self._plan), self._only))
            self._state = _State.APP_PLAN_ANSWER
            return True
        raise ProtocolError(f"Expected READY from the receiver, but it sent a {length}-byte frame.")
