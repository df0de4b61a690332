"""Bytes on the wire: length-prefixed frames, their caps, and the blosc payload wrapper.

This module knows nothing about the conversation: it cuts frames out of a byte buffer and builds
them. Every length read from the network is checked against a cap the caller passes *before*
anything is allocated or waited for, so a hostile peer announcing 4 GiB is refused on the spot
(DESIGN.md invariant 5; ftransfer 1.0.1 trusted frame lengths).

Frame shapes (see docs/PROTOCOL.md):

- *plain*:  ``len(4, big-endian) | bytes``
- *sealed*: ``nonce_len(4) = 12 | nonce(12) | ct_len(4) | ct`` (ct = ChaCha20-Poly1305 output)
- *end marker*: ``00 00 00 00``
"""

from __future__ import annotations

import functools
import os
import struct
from types import ModuleType

from .errors import ProtocolError

LENGTH_SIZE = 4
NONCE_SIZE = 12
TAG_SIZE = 16
PUBLIC_KEY_SIZE = 32
CHALLENGE_SIZE = 32
END_MARKER = b"\x00\x00\x00\x00"
READY = b"READY"

MiB = 1 << 20
#: Largest decrypted (and, when compressed, decompressed) data message accepted.
MAX_DATA_PAYLOAD = 8 * MiB
#: Largest metadata accepted: a million files (messages.MAX_FILES) of 256 bytes an entry on
#: average (names of ~200 bytes). The caps of the messages after it follow from its file list
#: (messages.hash_list_limit and the functions after it).
MAX_METADATA_PAYLOAD = 256 * MiB
#: Largest JSON control message of any kind (the metadata is the largest).
MAX_CONTROL_PAYLOAD = MAX_METADATA_PAYLOAD
#: Largest small control message (an Inlet per-file hash).
MAX_SHORT_CONTROL_PAYLOAD = 64 * 1024
#: Largest chunk a sender may put in one data message (what ftransfer 1.0.1 sends, too).
MAX_SEND_CHUNK = 1 * MiB
#: Fed copies: once this many consumed bytes sit at the front of the buffer, they are dropped.
#: Also the smallest buffer allocated.
_COMPACT_AFTER = 64 * 1024
_U32 = struct.Struct(">I")
#: How much room beyond the frame being received the buffer may keep.
_MAX_SLACK = 8 * MiB
_SEALED_HEADER = LENGTH_SIZE + NONCE_SIZE + LENGTH_SIZE
_SEALED_LENGTHS = struct.Struct(f">I{NONCE_SIZE}xI")  # nonce length, (nonce), ciphertext length
#: An empty buffer bigger than this (it held a large file list) is given back; it is above
#: what streaming the largest data messages needs, so the data phase never reallocates.
_SHRINK_ABOVE = 32 * MiB
_SHRINK_TO = 4 * MiB
_LARGEST_DATA_FRAME = MAX_DATA_PAYLOAD + 64 * 1024 + TAG_SIZE  # compressed data may be larger

_BLOSC_HEADER_SIZE = 16
#: Items of one byte: text and most files have no 8-byte structure, and byte-shuffling over 8
#: (ftransfer's choice) made lz4 find almost nothing in source code (ratio 1.02 instead of
#: 2.1). The header says how a buffer was made, so any blosc reader, ftransfer's too, reads it.
_BLOSC_TYPESIZE = 1
_BLOSC_CLEVEL = 1


def _size(n: int) -> str:
    return f"{n / MiB:.0f} MiB" if n >= MiB else f"{n} bytes"


class FrameBuffer:
    """Incoming bytes not yet parsed, in one reusable bytearray (linear-time parsing, no copies).

    ``_buf[_start:_end]`` holds what is received and not parsed yet. Parsing only moves
    ``_start``; consumed bytes are overwritten later rather than sliced off. Bytes arrive either
    copied in (`feed`) or read straight into the buffer (`get_buffer` then `buffer_updated`,
    like asyncio's ``BufferedProtocol``), so a socket's bytes reach the decryption without an
    intermediate copy. The storage grows only to hold one frame (whose length was checked
    against its cap first) plus one read. Every ``read_*`` method either consumes one whole
    frame or nothing; a sealed frame's ciphertext is a view into the buffer, valid until the
    next `feed`/`get_buffer`.
    """

    def __init__(self) -> None:
        self._buf = bytearray()
        self._start = 0
        self._end = 0

    def __len__(self) -> int:
        """Bytes received and not consumed yet."""
        return self._end - self._start

    def _make_room(self, n: int) -> None:
        """At least ``n`` free bytes after ``_end``: reuse the consumed front, or grow."""
        held = self._end - self._start
        if held == 0:
            self._start = self._end = 0
            if len(self._buf) > max(4 * n, _SHRINK_ABOVE):  # after one big control frame
                self._buf = bytearray(max(2 * n, _SHRINK_TO))
        if len(self._buf) - self._end >= n:
            return
        capacity = len(self._buf)
        if held + n > capacity or held * 4 > capacity:
            # Grow (up to one frame plus one read, and some slack): moving the unparsed bytes
            # to the front then costs little compared with what arrives in between.
            grown = min(max(2 * capacity, 2 * (held + n), _COMPACT_AFTER), held + n + _MAX_SLACK)
            if grown > capacity:
                buf = bytearray(grown)
                buf[:held] = memoryview(self._buf)[self._start : self._end]
                self._buf = buf
                self._start, self._end = 0, held
                return
        self._compact()

    def trim(self) -> None:
        """Give back a large buffer at once when it is empty (it held a big control message):
        not kept while the application acts on that message (70 MiB for a million files)."""
        if self._end == self._start and len(self._buf) > _SHRINK_ABOVE:
            self._buf = bytearray(_SHRINK_TO)
            self._start = self._end = 0

    def _compact(self) -> None:
        """Move the unparsed bytes to the front of the buffer."""
        held = self._end - self._start
        if held and self._start:
            view = memoryview(self._buf)
            view[:held] = view[self._start : self._end]
        self._start, self._end = 0, held

    def feed(self, data: bytes) -> None:
        n = len(data)
        if self._start >= _COMPACT_AFTER and self._start * 2 >= self._end:
            self._compact()  # keep the consumed front small (amortised: moves < what was read)
        self._make_room(n)
        self._buf[self._end : self._end + n] = data
        self._end += n

    def get_buffer(self, sizehint: int) -> memoryview:
        """A writable view of at least ``sizehint`` free bytes to read into; then
        `buffer_updated` with how many were written (at its start).

        While a sealed frame is arriving, the view ends where that frame ends: the frame is then
        parsed whole and the buffer starts over empty, so the unparsed rest of one frame never
        has to be moved to make room for the next (a read may end in the middle of a frame;
        the next one then completes it exactly).
        """
        rest = self._sealed_rest()
        if rest is not None:
            self._make_room(rest)
            return memoryview(self._buf)[self._end : self._end + rest]
        self._make_room(max(1, sizehint))
        return memoryview(self._buf)[self._end :]

    def _sealed_rest(self) -> int | None:
        """Bytes still missing of a large sealed frame whose header is here (else None).

        Only a size hint: the frame's length is checked against its cap when it is parsed,
        and a length beyond the largest data message is ignored here.
        """
        held = self._end - self._start
        if held < _SEALED_HEADER or self._u32(0) != NONCE_SIZE:
            return None
        rest = _SEALED_HEADER + self._u32(LENGTH_SIZE + NONCE_SIZE) - held
        return rest if 0 < rest <= _LARGEST_DATA_FRAME else None

    def buffer_updated(self, nbytes: int) -> None:
        if not 0 <= nbytes <= len(self._buf) - self._end:
            raise ValueError(f"buffer_updated({nbytes}): more than the buffer holds")
        self._end += nbytes

    def _u32(self, at: int) -> int:
        return _U32.unpack_from(self._buf, self._start + at)[0]

    def _take(self, start: int, end: int) -> bytes:
        return bytes(self._buf[self._start + start : self._start + end])

    def peek_length(self) -> int | None:
        """The next 4-byte length without consuming it (None until 4 bytes are here)."""
        return self._u32(0) if len(self) >= LENGTH_SIZE else None

    def read_end_marker(self) -> bool | None:
        """Consume the end marker. None: need more bytes; False: something else comes next."""
        length = self.peek_length()
        if length is None:
            return None
        if length != 0:
            return False
        self._start += LENGTH_SIZE
        return True

    def read_plain(self, what: str, *, exact: int | None = None, limit: int = 0) -> bytes | None:
        """One plain frame of ``exact`` bytes (or at most ``limit``), or None until complete."""
        length = self.peek_length()
        if length is None:
            return None
        if exact is not None and length != exact:
            raise ProtocolError(
                f"Expected {what} of {exact} bytes, but the peer announced {length}."
            )
        if exact is None and length > limit:
            raise ProtocolError(
                f"The peer announced {what} of {length} bytes; at most {_size(limit)} is allowed."
            )
        end = LENGTH_SIZE + length
        if len(self) < end:
            return None
        payload = self._take(LENGTH_SIZE, end)
        self._start += end
        return payload

    def read_sealed(self, what: str, limit: int) -> tuple[bytes, memoryview] | None:
        """One sealed message as ``(nonce, ciphertext)``, or None until it is complete.

        ``limit`` caps the *plaintext*; the ciphertext may be ``limit + 16`` (the tag). Both
        lengths are checked the moment their 4 bytes are here. The ciphertext is a view into
        the buffer (no copy): use it before feeding more bytes. (Called for every message:
        the header is read with one ``unpack`` once it is all here.)
        """
        start = self._start
        held = self._end - start
        if held < LENGTH_SIZE:
            return None
        if held >= _SEALED_HEADER:
            nonce_len, ct_len = _SEALED_LENGTHS.unpack_from(self._buf, start)
        else:
            nonce_len, ct_len = _U32.unpack_from(self._buf, start)[0], None
        if nonce_len != NONCE_SIZE:
            if nonce_len == 0:
                raise ProtocolError(f"The stream ended (end marker) where {what} was expected.")
            raise ProtocolError(
                f"Expected a sealed message ({what}) starting with a {NONCE_SIZE}-byte nonce, "
                f"but the peer announced a {nonce_len}-byte frame."
            )
        if ct_len is None:
            return None
        if ct_len < TAG_SIZE:
            raise ProtocolError(f"A sealed message ({what}) is too short to carry its tag.")
        if ct_len > limit + TAG_SIZE:
            raise ProtocolError(
                f"The peer announced {what} of {ct_len} bytes; at most {_size(limit)} is allowed."
            )
        end = _SEALED_HEADER + ct_len
        if held < end:
            return None
        nonce = bytes(self._buf[start + LENGTH_SIZE : start + LENGTH_SIZE + NONCE_SIZE])
        ciphertext = memoryview(self._buf)[start + _SEALED_HEADER : start + end]
        self._start = start + end
        return nonce, ciphertext


def plain_frame(payload: bytes) -> bytes:
    return len(payload).to_bytes(LENGTH_SIZE, "big") + payload


def sealed_frame(nonce: bytes, ciphertext: bytes) -> bytes:
    return plain_frame(nonce) + plain_frame(ciphertext)


@functools.cache
def _blosc() -> ModuleType:
    """blosc, imported when a transfer is compressed: it imports numpy (70 ms, 10 MB, and BLAS
    threads that spin), which an uncompressed transfer never needs."""
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # no idle BLAS threads competing
    import blosc

    return blosc


def compress(data: bytes) -> bytes:
    """A blosc (format 1.x) buffer, lz4 level 1, of 1-byte items (what ftransfer's receivers
    read; ftransfer itself sends 8-byte items, byte-shuffled)."""
    blosc = _blosc()
    return blosc.compress(
        data, typesize=_BLOSC_TYPESIZE, clevel=_BLOSC_CLEVEL, shuffle=blosc.NOSHUFFLE, cname="lz4"
    )


def decompress(payload: bytes, limit: int) -> bytes:
    """Decompress a blosc buffer from the peer, refusing it before work if it would exceed
    ``limit`` bytes or does not describe itself consistently (a decompression bomb or garbage).

    The 16-byte blosc header holds, little-endian: version, versionlz, flags, typesize,
    nbytes (decompressed size), blocksize, cbytes (compressed size incl. header).
    """
    if len(payload) < _BLOSC_HEADER_SIZE:
        raise ProtocolError("A compressed data message is shorter than a blosc header.")
    nbytes = int.from_bytes(payload[4:8], "little")
    cbytes = int.from_bytes(payload[12:16], "little")
    if nbytes > limit:
        raise ProtocolError(
            f"A compressed data message claims to expand to {nbytes} bytes; "
            f"at most {_size(limit)} is allowed."
        )
    if cbytes != len(payload):
        raise ProtocolError(
            f"A compressed data message says it is {cbytes} bytes long but is {len(payload)}."
        )
    blosc = _blosc()
    try:
        if not blosc.cbuffer_validate(payload):
            raise ProtocolError("A compressed data message is not a valid blosc buffer.")
        data = blosc.decompress(payload)
    except ProtocolError:
        raise
    except Exception as err:  # the C extension raises its own error type on corrupt input
        raise ProtocolError(f"A compressed data message could not be decompressed: {err}") from err
    if len(data) != nbytes:
        raise ProtocolError("A compressed data message decompressed to an unexpected size.")
    return data
