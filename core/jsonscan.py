"""A pull reader of the peer's JSON that checks structure as it reads and builds only what the
caller asks for.

``json.loads`` builds the whole document before its shape can be checked: a 64 MiB control
message of ``[{},{},…]`` became 21 million dicts (1.8 GB) on either end before anything could
say it was not a file list. Here the parser of a message says what it expects at each point (an
object's members, an array's items, a string, an integer); the reader builds that and nothing
else. A value the protocol does not define (an unknown key's) is checked and skipped without
being built, and a message may hold only a bounded number of such values. What a message costs
is then what its parser keeps.

As strict as the decoder it replaces: UTF-8, no duplicate keys, no NaN or Infinity, nothing
after the value, nesting at most `MAX_DEPTH` deep. Works on the bytes as they arrived: the text
is never decoded as a whole (one emoji in a name would make Python store all of it 4 bytes a
character).
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Iterator
from typing import Any

from .errors import ProtocolError

#: Containers nested deeper than this are refused (none of the protocol's messages nests 4).
MAX_DEPTH = 64
#: Values inside unknown members that one message may hold (each is read and dropped).
MAX_UNKNOWN_VALUES = 100_000
#: Most keys in an object that is not keyed by file names (the protocol's have at most 8).
MAX_MEMBERS = 1_000
#: Longest string kept (a key, a file name): a name of 4,096 UTF-8 bytes, each escaped as
#: ``\u00XX``, is 24 KiB; a longer string could never name a file that lands.
MAX_STRING_BYTES = 32 * 1024

_WS = re.compile(rb"[ \t\n\r]*")
#: A JSON string's body (group 1), in the "unrolled loop" form: runs of plain bytes between
#: escapes. Bytes >= 0x80 pass here; their UTF-8 is checked when the string is decoded.
STRING_BODY = rb'[^"\\\x00-\x1f]*(?:\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4})[^"\\\x00-\x1f]*)*'
_STRING = re.compile(rb'"(' + STRING_BODY + rb')"')
_NUMBER = re.compile(rb"-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?")
_LITERALS = {ord("t"): (b"true", True), ord("f"): (b"false", False), ord("n"): (b"null", None)}
_OPEN_OBJECT, _OPEN_ARRAY = ord("{"), ord("[")
_CLOSE_OBJECT, _CLOSE_ARRAY = ord("}"), ord("]")
_COMMA, _COLON, _QUOTE = ord(","), ord(":"), ord('"')


class Skipped:
    """Stands for a container read where a plain value was expected (it was not built)."""

    def __init__(self, kind: str) -> None:
        self.kind = kind

    def __repr__(self) -> str:
        return "{…}" if self.kind == "object" else "[…]"


def decode_string(raw: bytes, what: str = "a string") -> str:
    """A JSON string's body (as `STRING_BODY` matched it) as text."""
    try:
        if b"\\" not in raw:
            return raw.decode("utf-8")
        return json.loads(b'"' + raw + b'"')
    except ValueError as err:  # UnicodeDecodeError is a ValueError
        raise ProtocolError(_not_utf8(what, err)) from None


def _not_utf8(what: str, err: Exception) -> str:
    return f"{what[:1].upper()}{what[1:]} from the peer is not UTF-8: {err}"


class Reader:
    """Reads one JSON document from ``data``, front to back, as its caller directs.

    Every method reads one value at the current position (after whitespace) and leaves the
    position after it; `finish` checks that nothing but whitespace follows. Errors are
    ``ProtocolError`` naming ``what`` and the byte where reading stopped.
    """

    def __init__(self, data: bytes, what: str) -> None:
        self.data = data
        self.pos = 0
        self.what = what
        self.unknown_left = MAX_UNKNOWN_VALUES
        #: Bytes of the last string read, as on the wire (quotes and escapes included).
        self.last_raw_len = 0
        #: Bytes the names of a list took (set by the parser that reads such a list).
        self.names_read = 0

    def error(self, text: str) -> ProtocolError:
        where = f"(byte {self.pos:,})"
        return ProtocolError(f"The {self.what} from the peer is not valid JSON: {text} {where}.")

    def peek(self) -> int:
        """The next byte after whitespace (-1 at the end); the position moves past the space."""
        self.pos = _WS.match(self.data, self.pos).end()
        return self.data[self.pos] if self.pos < len(self.data) else -1

    def expect(self, byte: int) -> None:
        if self.peek() != byte:
            raise self.error(f"expected {chr(byte)!r}")
        self.pos += 1

    def finish(self) -> None:
        if self.peek() != -1:
            raise self.error("something follows the message")

    # -- containers ------------------------------------------------------------------------------

    def members(self) -> Iterator[str]:
        """An object's keys, in order; the caller reads (or `skip`s) each value before the next.

        A key seen before is refused, and so are more than `MAX_MEMBERS` keys (the large
        objects, keyed by file name, are read by their parsers, whose mapping checks that)."""
        self.expect(_OPEN_OBJECT)
        seen: set[str] = set()
        if self.peek() == _CLOSE_OBJECT:
            self.pos += 1
            return
        while True:
            if self.peek() != _QUOTE:
                raise self.error("expected a key in quotes")
            key = self.string()
            if len(seen) == MAX_MEMBERS:
                raise ProtocolError(
                    f"The {self.what} from the peer has an object of more than "
                    f"{MAX_MEMBERS:,} keys."
                )
            if key in seen:
                raise ProtocolError(
                    f"The {self.what} from the peer is not valid JSON: "
                    f"the key {key[:80]!r} appears twice."
                )
            seen.add(key)
            self.expect(_COLON)
            yield key
            if self.end_of(_CLOSE_OBJECT):
                return

    def items(self) -> Iterator[int]:
        """An array's positions; the caller reads each value before asking for the next."""
        self.expect(_OPEN_ARRAY)
        if self.peek() == _CLOSE_ARRAY:
            self.pos += 1
            return
        index = 0
        while True:
            yield index
            index += 1
            if self.end_of(_CLOSE_ARRAY):
                return

    def end_of(self, closing: int) -> bool:
        """After a member or item: True at the container's end, False after a comma."""
        byte = self.peek()
        self.pos += 1
        if byte == _COMMA:
            return False
        if byte == closing:
            return True
        self.pos -= 1
        raise self.error(f"expected ',' or {chr(closing)!r}")

    # -- plain values ----------------------------------------------------------------------------

    def string(self, limit: int = MAX_STRING_BYTES) -> str:
        """A string of at most ``limit`` bytes on the wire (keys and names: no name that
        could land is longer; a longer one would cost up to 4 bytes a character as text)."""
        self.peek()
        match = _STRING.match(self.data, self.pos)
        if match is None:
            raise self.error("expected a string")
        self.last_raw_len = match.end() - self.pos
        if self.last_raw_len > limit + 2:
            raise ProtocolError(
                f"The {self.what} from the peer holds a string of {self.last_raw_len:,} bytes "
                f"(at most {limit:,} are allowed there): {match[1][:40]!r}…"
            )
        self.pos = match.end()
        return decode_string(match[1], f"a string in the {self.what}")

    def value(self) -> Any:
        """A plain value (string, number, true, false, null); a container is skipped and a
        `Skipped` stands for it, so the caller can say what was wrong with it."""
        byte = self.peek()
        if byte == _QUOTE:
            return self.string()
        if byte in (_OPEN_OBJECT, _OPEN_ARRAY):
            self.skip()
            return Skipped("object" if byte == _OPEN_OBJECT else "array")
        literal = _LITERALS.get(byte)
        if literal is not None:
            word, result = literal
            if not self.data.startswith(word, self.pos):
                raise self.error("expected a value")
            self.pos += len(word)
            return result
        match = _NUMBER.match(self.data, self.pos)
        if match is None:
            raise self.error("expected a value")
        self.pos = match.end()
        try:
            if match[1] is None and match[2] is None:
                return int(match[0])
            number = float(match[0])
        except ValueError as err:  # more digits than int() takes (4,300)
            raise self.error(str(err)) from None
        if number in (float("inf"), float("-inf")):
            raise self.error(f"the number {match[0][:40]!r} is out of range")
        return number

    def skip(self) -> None:
        """Check and drop one value of any shape, without building it.

        Each container and value inside one counts against `MAX_UNKNOWN_VALUES` (a plain
        value alone does not), so a message cannot make its reader walk millions of values the
        protocol never asked for. (Keys inside a dropped value are not checked for
        duplicates: nothing reads them.)"""
        closing = bytearray()  # the closing byte of each container open around the position
        while True:
            if closing or self.peek() in (_OPEN_OBJECT, _OPEN_ARRAY):
                self.unknown_left -= 1
                if self.unknown_left < 0:
                    raise ProtocolError(
                        f"The {self.what} from the peer holds more than {MAX_UNKNOWN_VALUES:,} "
                        "values the protocol does not define."
                    )
            byte = self.peek()
            if byte in (_OPEN_OBJECT, _OPEN_ARRAY):
                if len(closing) == MAX_DEPTH:
                    raise self.error(f"nested more than {MAX_DEPTH} deep")
                self.pos += 1
                end = _CLOSE_OBJECT if byte == _OPEN_OBJECT else _CLOSE_ARRAY
                if self.peek() == end:
                    self.pos += 1  # empty: a whole value
                else:
                    closing.append(end)
                    if end == _CLOSE_OBJECT:
                        self._skip_key()
                    continue
            elif byte == _QUOTE:
                self._skip_string()
            else:
                self.value()
            # A whole value was read: close what ends here, or go on after a comma.
            while closing:
                byte = self.peek()
                if byte == _COMMA:
                    self.pos += 1
                    if closing[-1] == _CLOSE_OBJECT:
                        self._skip_key()
                    break
                if byte != closing[-1]:
                    raise self.error(f"expected ',' or {chr(closing[-1])!r}")
                self.pos += 1
                closing.pop()
            if not closing:
                return

    def _skip_key(self) -> None:
        if self.peek() != _QUOTE:
            raise self.error("expected a key in quotes")
        self._skip_string()
        self.expect(_COLON)

    def _skip_string(self) -> None:
        match = _STRING.match(self.data, self.pos)
        if match is None:
            raise self.error("expected a string")
        check_utf8(match[1], f"a string in the {self.what}")
        self.pos = match.end()


_UTF8_PIECE = 1 << 20


def check_utf8(raw: bytes, what: str) -> None:
    """Refuse bytes that are not UTF-8 without decoding them whole (1 MiB at a time)."""
    if raw.isascii():
        return
    decoder = codecs.getincrementaldecoder("utf-8")()
    view = memoryview(raw)
    try:
        for start in range(0, len(raw), _UTF8_PIECE):
            decoder.decode(view[start : start + _UTF8_PIECE])
        decoder.decode(b"", final=True)
    except ValueError as err:
        raise ProtocolError(_not_utf8(what, err)) from None
