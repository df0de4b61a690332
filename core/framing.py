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

import blosc

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
#: Largest JSON control message accepted (metadata, hash list, plans): grows with the file list.
MAX_CONTROL_PAYLOAD = 64 * MiB
#: Largest small control message (an Inlet per-file hash).
MAX_SHORT_CONTROL_PAYLOAD = 64 * 1024
#: Largest chunk a sender may put in one data message (what ftransfer 1.0.1 sends, too).
MAX_SEND_CHUNK = 1 * MiB
#: Once this many consumed bytes sit at the front of the buffer, they are dropped.
_COMPACT_AFTER = 64 * 1024

_BLOSC_HEADER_SIZE = 16
_BLOSC_TYPESIZE = 8
_BLOSC_CLEVEL = 1


def _size(n: int) -> str:
    return f"{n / MiB:.0f} MiB" if n >= MiB else f"{n} bytes"


class FrameBuffer:
    """Incoming bytes not yet parsed: a bytearray plus a read offset (linear-time parsing).

    Consumed bytes are not sliced off one frame at a time (that would copy the rest of the
    buffer for every frame); they are dropped in bulk once they make up half the buffer.
    Every ``read_*`` method either consumes one whole frame or nothing.
    """

    def __init__(self) -> None:
        self._buf = bytearray()
        self._pos = 0

    def __len__(self) -> int:
        """Bytes received and not consumed yet."""
        return len(self._buf) - self._pos

    def feed(self, data: bytes) -> None:
        if self._pos == len(self._buf):
            self._buf.clear()  # everything was parsed: start over, nothing to move
            self._pos = 0
        elif self._pos >= _COMPACT_AFTER and self._pos * 2 >= len(self._buf):
            del self._buf[: self._pos]  # amortised: at most as many bytes as were consumed
            self._pos = 0
        self._buf += data

    def _u32(self, at: int) -> int:
        start = self._pos + at
        return int.from_bytes(self._buf[start : start + LENGTH_SIZE], "big")

    def _take(self, start: int, end: int) -> bytes:
        return bytes(self._buf[self._pos + start : self._pos + end])

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
        self._pos += LENGTH_SIZE
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
        self._pos += end
        return payload

    def read_sealed(self, what: str, limit: int) -> tuple[bytes, bytes] | None:
        """One sealed message as ``(nonce, ciphertext)``, or None until it is complete.

        ``limit`` caps the *plaintext*; the ciphertext may be ``limit + 16`` (the tag). Both
        lengths are checked the moment their 4 bytes are here.
        """
        nonce_len = self.peek_length()
        if nonce_len is None:
            return None
        if nonce_len != NONCE_SIZE:
            if nonce_len == 0:
                raise ProtocolError(f"The stream ended (end marker) where {what} was expected.")
            raise ProtocolError(
                f"Expected a sealed message ({what}) starting with a {NONCE_SIZE}-byte nonce, "
                f"but the peer announced a {nonce_len}-byte frame."
            )
        ct_at = LENGTH_SIZE + NONCE_SIZE
        if len(self) < ct_at + LENGTH_SIZE:
            return None
        ct_len = self._u32(ct_at)
        if ct_len < TAG_SIZE:
            raise ProtocolError(f"A sealed message ({what}) is too short to carry its tag.")
        if ct_len > limit + TAG_SIZE:
            raise ProtocolError(
                f"The peer announced {what} of {ct_len} bytes; at most {_size(limit)} is allowed."
            )
        end = ct_at + LENGTH_SIZE + ct_len
        if len(self) < end:
            return None
        nonce = self._take(LENGTH_SIZE, ct_at)
        ciphertext = self._take(ct_at + LENGTH_SIZE, end)
        self._pos += end
        return nonce, ciphertext


def plain_frame(payload: bytes) -> bytes:
    return len(payload).to_bytes(LENGTH_SIZE, "big") + payload


def sealed_frame(nonce: bytes, ciphertext: bytes) -> bytes:
    return plain_frame(nonce) + plain_frame(ciphertext)


def compress(data: bytes) -> bytes:
    """A blosc (format 1.x) buffer, lz4 level 1, byte shuffle over 8-byte items, as ftransfer."""
    return blosc.compress(
        data, typesize=_BLOSC_TYPESIZE, clevel=_BLOSC_CLEVEL, shuffle=blosc.SHUFFLE, cname="lz4"
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
