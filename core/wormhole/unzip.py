"""A zip stream read front to back, entry by entry, as its bytes arrive.

A stock ``wormhole send`` sends a folder as the zip `zipstream-ng` writes while it reads the
files: entries *stored* (not compressed), each followed by a data descriptor, with zeros where
the local header would give the sizes. `stream_unzip` refuses exactly that form
(``NotStreamUnzippable``: a stored entry of unknown length), so Inlet reads it itself: the
entry's bytes run until a data descriptor whose CRC-32 and length match the bytes before it
(the signature alone could occur in a file's content; the CRC and the length together do not
by accident). Deflated entries (older senders, other zip writers) end where their deflate
stream ends. Every entry's CRC-32 and sizes are checked at its end; encrypted entries,
other compression methods and unknown records stop the stream with `ZipStreamError`. Sizes
are not limits here: the caller counts bytes against what the sender offered.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterable, Iterator

_LOCAL = b"PK\x03\x04"
_DESCRIPTOR = b"PK\x07\x08"
_ENDS = (b"PK\x01\x02", b"PK\x05\x06", b"PK\x06\x06")  # central directory, end records
_HEADER = struct.Struct("<HHHHHIIIHH")
_STORED, _DEFLATED = 0, 8
_ZIP64 = 0xFFFFFFFF
_PIECE = 1 << 20  # hand on stored bytes in pieces of about this size


class ZipStreamError(Exception):
    """The stream is not a zip Inlet can unpack, or an entry failed its check."""


class _Bytes:
    """The stream with a buffer in front: read exactly, peek, give back."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._chunks = iter(chunks)
        self.buffer = bytearray()

    def more(self) -> bool:
        for chunk in self._chunks:
            if chunk:
                self.buffer += chunk
                return True
        return False

    def fill(self, n: int) -> bool:
        while len(self.buffer) < n:
            if not self.more():
                return False
        return True

    def take(self, n: int) -> bytes:
        if not self.fill(n):
            raise ZipStreamError("the zip stream ended in the middle of an entry")
        data = bytes(self.buffer[:n])
        del self.buffer[:n]
        return data

    def drain(self) -> None:
        self.buffer.clear()
        for _ in self._chunks:
            pass


def entries(chunks: Iterable[bytes]) -> Iterator[tuple[str, int | None, Iterator[bytes]]]:
    """``(name, size or None, its bytes)`` per entry; a folder's name ends with ``/``.

    Each entry's bytes must be read to their end before the next entry is asked for."""
    stream = _Bytes(chunks)
    while True:
        if not stream.fill(4):
            raise ZipStreamError("the zip stream ended without its central directory")
        signature = bytes(stream.buffer[:4])
        if signature in _ENDS:
            stream.drain()  # the directory repeats what the entries said
            return
        if signature != _LOCAL:
            raise ZipStreamError("the zip stream holds a record Inlet does not know")
        stream.take(4)
        _, flags, method, _, _, crc, csize, usize, name_len, extra_len = _HEADER.unpack(
            stream.take(_HEADER.size)
        )
        raw_name = stream.take(name_len)
        extra = stream.take(extra_len)
        if flags & 0x1:
            raise ZipStreamError("the zip stream holds an encrypted entry")
        if method not in (_STORED, _DEFLATED):
            raise ZipStreamError(f"the zip stream uses compression method {method}")
        zip64 = csize == _ZIP64 or usize == _ZIP64
        if zip64:
            usize, csize = _zip64_sizes(extra, usize, csize)
        has_descriptor = bool(flags & 0x8)
        known = not has_descriptor or (usize or csize)
        name = _name(raw_name, flags)
        if method == _DEFLATED:
            body = _deflated(stream, crc, usize, has_descriptor, zip64)
        elif known:
            body = _stored(stream, csize, crc, has_descriptor, zip64)
        else:
            body = _stored_until_descriptor(stream)
        yield name, (usize if known else None), body
        for _ in body:  # what the caller left unread
            pass


def _zip64_sizes(extra: bytes, usize: int, csize: int) -> tuple[int, int]:
    at = 0
    while at + 4 <= len(extra):
        kind, length = struct.unpack_from("<HH", extra, at)
        if kind == 0x0001:
            values = extra[at + 4 : at + 4 + length]
            fields = [struct.unpack_from("<Q", values, i)[0] for i in range(0, len(values) - 7, 8)]
            if usize == _ZIP64 and fields:
                usize = fields.pop(0)
            if csize == _ZIP64 and fields:
                csize = fields.pop(0)
            return usize, csize
        at += 4 + length
    return usize, csize


def _name(raw: bytes, flags: int) -> str:
    """UTF-8 when the entry says so (or decodes as such), else CP437 as the zip format says."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        if flags & 0x800:
            raise ZipStreamError("an entry's name is not the UTF-8 it claims to be") from None
        return raw.decode("cp437")


def _stored(
    stream: _Bytes, size: int, crc: int, has_descriptor: bool, zip64: bool
) -> Iterator[bytes]:
    running, left = 0, size
    while left:
        if not stream.buffer and not stream.more():
            raise ZipStreamError("the zip stream ended in the middle of an entry")
        piece = bytes(stream.buffer[:left])
        del stream.buffer[: len(piece)]
        left -= len(piece)
        running = zlib.crc32(piece, running)
        yield piece
    if has_descriptor:
        crc, csize, usize = _descriptor(stream, zip64)
        if csize != size or usize != size:
            raise ZipStreamError("an entry's data descriptor disagrees with its header")
    if running != crc:
        raise ZipStreamError("an entry failed its CRC-32 check")


def _stored_until_descriptor(stream: _Bytes) -> Iterator[bytes]:
    """A stored entry of unknown length: its bytes run to the first data descriptor whose
    CRC-32 and length (32- or 64-bit) match what came before it."""
    running = count = 0
    buffer = stream.buffer
    keep = len(_DESCRIPTOR) - 1  # a signature may straddle two chunks
    while True:
        at = buffer.find(_DESCRIPTOR)
        if at < 0:
            if len(buffer) > keep:
                piece = bytes(buffer[: len(buffer) - keep])
                del buffer[: len(piece)]
                running, count = zlib.crc32(piece, running), count + len(piece)
                yield piece
            if not stream.more():
                raise ZipStreamError("the zip stream ended in the middle of an entry")
            continue
        stream.fill(at + 4 + 24)  # the 64-bit form and the next signature; may end sooner
        length = _matching_descriptor(
            bytes(buffer[at + 4 : at + 28]), zlib.crc32(buffer[:at], running), count + at
        )
        if length is None:  # the signature is part of the content, up to its first byte
            at += 1
        if at:
            piece = bytes(buffer[:at])
            del buffer[:at]
            running, count = zlib.crc32(piece, running), count + len(piece)
            yield piece
        if length is not None:
            del buffer[: 4 + length]
            return


def _matching_descriptor(after: bytes, crc: int, size: int) -> int | None:
    """The length of the descriptor's fields after its signature when they describe exactly
    ``size`` bytes with this ``crc`` (and a record or the end follows), else None."""
    for layout, length in (("<III", 12), ("<IQQ", 20)):
        if len(after) < length or struct.unpack_from(layout, after) != (crc, size, size):
            continue
        following = after[length : length + 2]
        if following in (b"PK", b""):
            return length
    return None


def _descriptor(stream: _Bytes, zip64: bool) -> tuple[int, int, int]:
    """A data descriptor (its signature is optional): ``(crc, compressed, uncompressed)``."""
    if stream.fill(4) and bytes(stream.buffer[:4]) == _DESCRIPTOR:
        stream.take(4)
    if zip64:
        return struct.unpack("<IQQ", stream.take(20))
    return struct.unpack("<III", stream.take(12))


def _deflated(
    stream: _Bytes, crc: int, size: int, has_descriptor: bool, zip64: bool
) -> Iterator[bytes]:
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    running = count = compressed = 0
    while not inflater.eof:
        if not stream.buffer and not stream.more():
            raise ZipStreamError("the zip stream ended in the middle of an entry")
        data = bytes(stream.buffer)
        stream.buffer.clear()
        try:
            out = inflater.decompress(data, _PIECE)
            while True:
                if out:
                    running, count = zlib.crc32(out, running), count + len(out)
                    yield out
                if inflater.eof or not inflater.unconsumed_tail:
                    break
                out = inflater.decompress(inflater.unconsumed_tail, _PIECE)
        except zlib.error as err:
            raise ZipStreamError(f"an entry's deflate data is damaged ({err})") from None
        compressed += len(data) - len(inflater.unused_data)
        stream.buffer[:0] = inflater.unused_data
    if has_descriptor:
        crc, _, size = _descriptor(stream, zip64)
    if count != size:
        raise ZipStreamError("an entry inflated to another size than it declared")
    if running != crc:
        raise ZipStreamError("an entry failed its CRC-32 check")
