"""The JSON messages of the conversation: how each is built, and how each is checked.

Every ``parse_*`` function takes the decrypted bytes from the peer and returns plain values, or
raises ``ProtocolError`` saying what was wrong: invalid UTF-8 or JSON, duplicate keys, wrong
types (a bool is not an int), values out of range. Nothing else escapes, whatever the input
(deep nesting, a 10,000-digit number, NaN). Unknown keys are ignored, as ftransfer 1.0.1 does.
Which message is expected is decided by the connection, from the position in the stream; these
functions never guess a message's kind from its content.

The peer's JSON is never loaded whole: each parser reads it with `jsonscan.Reader`, checking the
shape as it goes and building only what it returns, so a message costs about what its result
does (a file list ~2.5x its JSON; a junk message is refused at its first wrong value). The
entries of the large messages (file list, hash list, plan, start positions) are read a whole
entry at a time by one regular expression in the form Inlet and ftransfer 1.0.1 write them;
any other spelling is read value by value, with the same checks. How large each message may be
follows from the file list: see `hash_list_limit` and the functions after it.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import accumulate
from typing import Any, NamedTuple

from .errors import ProtocolError
from .events import FileInfo
from .jsonscan import MAX_STRING_BYTES, STRING_BODY, Reader, Skipped, decode_string

#: Refused as absurd: more files than this in one transfer.
MAX_FILES = 1_000_000
#: Refused as absurd: a transfer (the unified stream) larger than this (1 PiB).
MAX_STREAM_SIZE = 1 << 50
#: The Inlet extension version this code speaks (docs/PROTOCOL.md, "The Inlet extension"); it
#: also speaks every earlier one. Version 2 lets the receiver's plan ask for some files only.
INLET_VERSION = 2
#: The first version whose plan may carry ``only``.
SELECT_VERSION = 2

COMPRESSOR_LZ4 = "lz4"
COMPRESSOR_NONE = "none"

_HEX64 = re.compile(r"[0-9a-fA-F]{64}")


class HeldPrefix(NamedTuple):
    """What a receiver already holds of one file: its first ``length`` bytes and their SHA-256.

    ``checkpoint`` is a shorter prefix to fall back on when the sender cannot vouch for the
    whole one (the receiver offers its whole ``.part`` and the last prefix its lock recorded).
    """

    length: int
    sha256: str
    checkpoint: HeldPrefix | None = None


@dataclass(frozen=True)
class StreamMetadata:
    """The sender's metadata after validation."""

    files: tuple[FileInfo, ...]
    total_size: int
    compressed: bool
    is_message: bool
    inlet_version: int | None  # the extension version the sender offers, None if it does not
    #: Bytes the names took in the message: what later messages' caps follow from.
    name_bytes: int = 0


# -- how large each control message may be ---------------------------------------------------

_SLACK = 64 * 1024
#: A name may be spelled up to 3x as long in a later message as in the metadata (a 4-byte
#: UTF-8 character sent raw there and as a ``\ud83d\ude00`` pair later).
_RESPELLED = 3


def name_bytes(names: Iterable[str]) -> int:
    """How many bytes the names take as Inlet writes them in JSON (quotes included)."""
    return sum(len(json.encoder.encode_basestring_ascii(name)) for name in names)


def hash_list_limit(file_count: int, names: int) -> int:
    """Largest legacy hash list accepted after a metadata of ``file_count`` files whose names
    took ``names`` bytes: each entry is a name and ``: "<64 hex digits>", ``. ftransfer 1.0.1
    sends 76 MiB for a million files, more than any fixed cap small enough to be safe."""
    return _SLACK + file_count * 80 + _RESPELLED * names


def plan_limit(file_count: int, names: int) -> int:
    """Largest resume plan accepted: per file a name, two lengths and two SHA-256s, and the
    name again in ``only``."""
    return _SLACK + file_count * 224 + 2 * _RESPELLED * names


def accept_limit(file_count: int) -> int:
    """Largest answer to a plan: one start position (at most 20 characters) per file."""
    return _SLACK + file_count * 24


def reply_limit(file_count: int, names: int) -> int:
    """Largest final reply: a short text and at most every file's name."""
    return _SLACK + file_count * 8 + _RESPELLED * names


# -- decoding helpers ---------------------------------------------------------------------------

_WS = rb"[ \t\n\r]*"
_INT = rb"(0|[1-9][0-9]{0,15})"  # up to 16 digits: anything longer is out of range anyway
_HEX = rb'"([0-9a-fA-F]{64})"'


def _entry_pattern(*parts: bytes) -> re.Pattern[bytes]:
    """One entry of a large message as Inlet and ftransfer write it: the parts in order,
    whitespace allowed around each, ending with the separator that follows (group -1)."""
    return re.compile(_WS + _WS.join(parts) + _WS)


_NAME = rb'"(' + STRING_BODY + rb')"'
#: ``{"filename": "...", "size": N, "offset": N}`` and the ``, `` or ``]`` after it, exactly as
#: Python's json.dumps writes it (Inlet, ftransfer 1.0.1): twice as fast as allowing spaces.
_FILE_ENTRY_EXACT = re.compile(
    rb'\{"filename": "([^"\\\x00-\x1f]*)", "size": '
    + (_INT + rb', "offset": ' + _INT + rb"\}(, |\])")
)
#: The same entry with any whitespace (or escapes in the name).
_FILE_ENTRY = _entry_pattern(
    rb"\{", rb'"filename"', b":", _NAME, b",", rb'"size"', b":", _INT, b",", rb'"offset"', b":",
    _INT, rb"\}", rb"([,\]])",
)  # fmt: skip
#: ``"name": "<sha256>"`` and the ``, `` or ``}`` after it, as json.dumps writes it.
_HASH_ENTRY_EXACT = re.compile(rb'"([^"\\\x00-\x1f]*)": ' + _HEX + rb"(, |\})")
#: The same with any whitespace (or escapes in the name).
_HASH_ENTRY = _entry_pattern(_NAME, b":", _HEX, rb"([,}])")
#: ``"name": {"bytes": N, "sha256": "..."}`` (no checkpoint) and the ``,`` or ``}`` after it.
_PLAN_ENTRY = _entry_pattern(
    _NAME, b":", rb"\{", rb'"bytes"', b":", _INT, b",", rb'"sha256"', b":", _HEX, rb"\}", rb"([,}])"
)
#: One start position and the ``,`` or ``]`` after it.
_START = _entry_pattern(rb"(null|0|[1-9][0-9]{0,17})", rb"([,\]])")
_OPEN_OBJECT, _CLOSE_OBJECT, _OPEN_ARRAY, _CLOSE_ARRAY, _COLON = b"{}[]:"


_OTHER_VALUES = frozenset(b'["-0123456789tfn')


def _reader(payload: bytes, what: str) -> Reader:
    """A reader of ``payload``, which must hold a JSON object."""
    reader = Reader(bytes(payload), what)
    if reader.peek() != _OPEN_OBJECT:
        if reader.peek() in _OTHER_VALUES:
            raise ProtocolError(f"The {what} from the peer is not a JSON object.")
        raise reader.error("expected an object")
    return reader


_SHORT_NAME = 4096  # a plain ASCII name this short needs none of `_name`'s checks


def _name(raw: bytes, what: str) -> str:
    """A name as an entry pattern matched it (the same checks as `Reader.string`)."""
    if len(raw) > MAX_STRING_BYTES:
        raise ProtocolError(
            f"The {what} from the peer holds a name of {len(raw):,} bytes "
            f"(at most {MAX_STRING_BYTES:,} are allowed): {raw[:40]!r}…"
        )
    return decode_string(raw, f"a name in the {what}")


def _dump(obj: Any) -> bytes:
    return json.dumps(obj, allow_nan=False).encode("utf-8")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _hex64(value: Any, what: str) -> str:
    if not isinstance(value, str) or not _HEX64.fullmatch(value):
        raise ProtocolError(f"The {what} is not a SHA-256 in hex (64 hex digits): {value!r:.80}.")
    return value if value.islower() else value.lower()  # no copy per file when already


def _bounded_int(value: Any, what: str, low: int, high: int) -> int:
    if not _is_int(value):
        raise ProtocolError(f"The {what} is not an integer: {value!r:.80}.")
    if not low <= value <= high:
        raise ProtocolError(f"The {what} is {value}, outside the allowed {low}..{high}.")
    return value


# -- metadata (sender -> receiver) --------------------------------------------------------------


def build_metadata(
    files: Sequence[FileInfo], *, compressed: bool, is_message: bool, extension: bool
) -> bytes:
    """The metadata message, with the keys in ftransfer 1.0.1's order, plus ``inlet``."""
    meta: dict[str, Any] = {
        "type": "stream",
        "file_count": len(files),
        "total_size": sum(f.size for f in files),
        "compressed": compressed,
        "compressor": COMPRESSOR_LZ4 if compressed else COMPRESSOR_NONE,
        "files": [{"filename": f.name, "size": f.size, "offset": f.offset} for f in files],
        "is_message": is_message,
    }
    if extension:
        meta["inlet"] = {"version": INLET_VERSION}
    return _dump(meta)


_METADATA_FIELDS = frozenset(
    {"type", "file_count", "total_size", "compressed", "compressor", "is_message"}
)


def parse_metadata(payload: bytes) -> StreamMetadata:
    """Validate the metadata: the file list must tile the unified stream exactly."""
    reader = _reader(payload, "metadata")
    meta: dict[str, Any] = {}
    listed: tuple[tuple[FileInfo, ...], int, int] | None = None
    for key in reader.members():
        if key == "files":
            listed = _read_files(reader, meta.get("file_count"))
        elif key == "inlet":
            meta[key] = _read_small_object(reader, ("version",))
        elif key in _METADATA_FIELDS:
            meta[key] = reader.value()
        else:
            reader.skip()
    reader.finish()
    if meta.get("type") != "stream":
        raise ProtocolError(f"The metadata has type {meta.get('type')!r:.40}, not 'stream'.")
    if listed is None:
        raise ProtocolError("The metadata has no list of files.")
    files, position, names = listed
    count = _bounded_int(meta.get("file_count"), "metadata's file_count", 0, MAX_FILES)
    if count != len(files):
        raise ProtocolError(f"The metadata announces {count} files but lists {len(files)}.")
    total = _bounded_int(meta.get("total_size"), "metadata's total_size", 0, MAX_STREAM_SIZE)
    if total != position:
        raise ProtocolError(
            f"The metadata says total_size {total}, but the files add up to {position}."
        )
    compressed = meta.get("compressed", False)
    if not isinstance(compressed, bool):
        raise ProtocolError("The metadata's 'compressed' is not true or false.")
    compressor = meta.get("compressor", COMPRESSOR_LZ4 if compressed else COMPRESSOR_NONE)
    if compressor != (COMPRESSOR_LZ4 if compressed else COMPRESSOR_NONE):
        raise ProtocolError(
            f"The metadata says compressed={compressed} with compressor {compressor!r:.40}; "
            "only lz4 (compressed) or none (not compressed) are known."
        )
    is_message = meta.get("is_message", False)
    if not isinstance(is_message, bool):
        raise ProtocolError("The metadata's 'is_message' is not true or false.")
    if is_message and len(files) != 1:
        raise ProtocolError(f"A text message must be exactly one file, not {len(files)}.")
    return StreamMetadata(
        files, total, compressed, is_message, _inlet_version(meta), name_bytes=names
    )


def _read_files(reader: Reader, declared: Any) -> tuple[tuple[FileInfo, ...], int, int]:
    """The ``files`` array: (files, where the stream ends, bytes of the names). Each entry is
    checked as it is read: an object with a text name, sizes in range, offsets that tile."""
    if reader.peek() != _OPEN_ARRAY:
        raise ProtocolError("The metadata has no list of files.")
    # A count given before the list bounds it; after it, `parse_metadata` compares the two.
    most = declared if _is_int(declared) and 0 <= declared < MAX_FILES else MAX_FILES
    runs: list[list[FileInfo]] = []
    count = position = 0
    for names, sizes, offsets in _file_runs(reader):
        ends = list(accumulate(sizes, initial=position))
        if (
            count + len(names) > most
            or ends[-1] > MAX_STREAM_SIZE
            or offsets != ends[:-1]  # (a run of entries compared at once)
        ):
            _refuse_entries(count, most, position, names, sizes, offsets)
        position = ends[-1]
        count += len(names)
        runs.append(FileInfo.many(names, sizes, offsets))
    return tuple(_drained(runs)), position, reader.names_read


def _drained(runs: list[list[FileInfo]]) -> Iterator[FileInfo]:
    """The files of every run, in order, each run let go once read: the tuple made of them
    is then the only list of the files (a list and a tuple of a million: 16 MiB, not 8)."""
    runs.reverse()
    while runs:
        yield from runs.pop()


def _refuse_entries(
    count: int,
    most: int,
    position: int,
    names: list[str],
    sizes: list[int],
    offsets: list[int],
) -> None:
    """Say what is wrong with the first entry of a run (after ``count`` files) that breaks a
    rule of the list."""
    for name, size, offset in zip(names, sizes, offsets, strict=True):
        if count == most:
            raise ProtocolError(
                f"The metadata lists more than {most:,} files"
                + (" (its file_count)." if most != MAX_FILES else ", more than Inlet accepts.")
            )
        if offset != position:
            raise ProtocolError(
                f"The offset of {name[:80]!r} is {offset}, but the files before it end at "
                f"{position}: the file list does not tile the stream."
            )
        position += size
        if position > MAX_STREAM_SIZE:
            raise ProtocolError(f"The transfer is larger than {MAX_STREAM_SIZE} bytes.")
        count += 1
    raise AssertionError("a run of entries was refused for no reason")  # pragma: no cover


#: Up to this many entries in the usual spelling, each followed by ``, ``: read as one run.
_RUN = 128
_EXACT_ENTRY = (
    rb'\{"filename": "[^"\\\x00-\x1f]{0,%d}", "size": (?:0|[1-9][0-9]{0,15}), '
    rb'"offset": (?:0|[1-9][0-9]{0,15})\}, ' % MAX_STRING_BYTES
)
# A plain bounded repeat: Python 3.11.2's re matched the possessive ``{1,n}+`` of this group
# wrongly (each file got the next one's offset).
_EXACT_RUN = re.compile(rb"(?:" + _EXACT_ENTRY + rb"){1,%d}" % _RUN)
_HEAD, _SIZE, _OFFSET, _TAIL = '{"filename": "', '", "size": ', ', "offset": ', "}, "
_ENTRY_TEXT = len(_HEAD + _SIZE + _OFFSET + _TAIL)  # bytes of an entry that are not its values


def _file_runs(reader: Reader) -> Iterator[tuple[list[str], list[int], list[int]]]:
    """The ``files`` array's entries as runs of (names, sizes, offsets), in order; afterwards
    the reader is past the array and ``reader.names_read`` holds the bytes the names took.

    Entries in the spelling json.dumps writes (Inlet, ftransfer 1.0.1) come a run at a time:
    one regular expression checks the run, which is then decoded and cut at the separators,
    which no name there holds (it has no quote, backslash or control character). A million
    entries then cost mostly the objects made of them. Any other entry is read on its own."""
    data = reader.data
    names_read = index = 0
    reader.pos += 1
    if reader.peek() == _CLOSE_ARRAY:
        reader.pos += 1
        reader.names_read = 0
        return
    pos = reader.pos
    while True:
        run = _EXACT_RUN.match(data, pos)
        if run is not None:
            try:
                text = data[pos + len(_HEAD) : run.end() - len(_TAIL)].decode("utf-8")
            except UnicodeDecodeError:
                run = None  # read entry by entry: the name that is not UTF-8 is named
        if run is not None:
            cut = text.replace(_TAIL + _HEAD, "\0").replace(_SIZE, "\0").replace(_OFFSET, "\0")
            values = cut.split("\0")
            names, digits = values[0::3], values[1::3] + values[2::3]
            count = len(names)
            names_read += run.end() - pos - count * (_ENTRY_TEXT - 2) - sum(map(len, digits))
            numbers = list(map(int, digits))
            yield names, numbers[:count], numbers[count:]
            index += count
            pos = run.end()
            continue
        exact = _FILE_ENTRY_EXACT.match(data, pos)  # the last entry, in the usual spelling
        entry = exact or _FILE_ENTRY.match(data, pos)  # or with spaces, escapes
        if entry is not None:
            raw, size_digits, offset_digits, end = entry.groups()
            if exact is not None and len(raw) <= _SHORT_NAME and raw.isascii():
                name = raw.decode("ascii")
            else:
                name = _name(raw, "metadata")
            names_read += len(raw) + 2
            size, offset = int(size_digits), int(offset_digits)
            pos = entry.end()
            last = end == b"]"
        else:  # other keys, or not an entry at all
            reader.pos = pos
            name, size, offset, raw_len = _read_file_entry(reader, index)
            names_read += raw_len
            last = reader.end_of(_CLOSE_ARRAY)
            pos = reader.pos
        yield [name], [size], [offset]
        index += 1
        if last:
            reader.pos, reader.names_read = pos, names_read
            return


def _read_file_entry(reader: Reader, i: int) -> tuple[str, int, int, int]:
    """One file entry in any spelling: (name, size, offset, bytes of the name)."""
    if reader.peek() != _OPEN_OBJECT:
        raise ProtocolError(f"File #{i} in the metadata is not a JSON object.")
    entry: dict[str, Any] = {}
    raw_len = 0
    for key in reader.members():
        if key in ("filename", "size", "offset"):
            entry[key] = reader.value()
            if key == "filename":
                raw_len = reader.last_raw_len
        else:
            reader.skip()
    name = entry.get("filename")
    if not isinstance(name, str):
        raise ProtocolError(f"File #{i} in the metadata has no text filename.")
    size = _bounded_int(entry.get("size"), f"size of {name[:80]!r}", 0, MAX_STREAM_SIZE)
    offset = _bounded_int(entry.get("offset"), f"offset of {name[:80]!r}", 0, MAX_STREAM_SIZE)
    return name, size, offset, raw_len


def _read_small_object(reader: Reader, keys: Sequence[str]) -> dict[str, Any] | Skipped | Any:
    """An object of a few plain values (unknown keys dropped); anything else as `value` reads
    it."""
    if reader.peek() != _OPEN_OBJECT:
        return reader.value()
    found: dict[str, Any] = {}
    for key in reader.members():
        if key in keys:
            found[key] = reader.value()
        else:
            reader.skip()
    return found


def _inlet_version(meta: dict[str, Any]) -> int | None:
    """The extension version offered, or None. A malformed offer is treated as no offer:
    falling back to plain ftransfer behaviour is always safe."""
    inlet = meta.get("inlet")
    if not isinstance(inlet, dict):
        return None
    version = inlet.get("version")
    if not _is_int(version) or version < 1:
        return None
    return version


# -- hashes -------------------------------------------------------------------------------------


def build_stream_hashes(hashes: Mapping[str, str]) -> bytes:
    for name, sha in hashes.items():
        if not isinstance(name, str) or not isinstance(sha, str) or not _HEX64.fullmatch(sha):
            raise ValueError(f"Not a name -> SHA-256 hex pair: {name!r}: {sha!r}")
    return _dump(dict(hashes))


def parse_stream_hashes(payload: bytes, file_count: int = MAX_FILES) -> dict[str, str]:
    """The legacy hash message: a JSON object ``{filename: sha256_hex}`` of at most
    ``file_count`` entries (one per file sent)."""
    reader = _reader(payload, "hash list")
    hashes: dict[str, str] = {}
    for name, sha in _hash_entries(reader):
        if name in hashes:
            raise ProtocolError(
                f"The hash list from the peer is not valid JSON: the key {name[:80]!r} appears "
                "twice."
            )
        if len(hashes) == file_count:
            raise ProtocolError(
                f"The sender's hash list has more entries than the {file_count:,} files it sent."
            )
        hashes[name] = sha if sha.islower() else sha.lower()
    reader.finish()
    return hashes


def _hash_entries(reader: Reader) -> Iterator[tuple[str, str]]:
    """The hash list's (name, hash) pairs in order (a hash is 64 hex digits, maybe upper
    case); afterwards the reader is past the object."""
    data = reader.data
    reader.pos += 1
    if reader.peek() == _CLOSE_OBJECT:
        reader.pos += 1
        return
    pos = reader.pos
    while True:
        for entry in _HASH_ENTRY_EXACT.finditer(data, pos):  # the usual spelling, at C speed
            if entry.start() != pos:
                break
            raw, digits, end = entry.groups()
            name = raw.decode("ascii") if len(raw) <= _SHORT_NAME and raw.isascii() else None
            pos = entry.end()
            yield name or _name(raw, "hash list"), digits.decode("ascii")
            if end == b"}":
                reader.pos = pos
                return
        entry = _HASH_ENTRY.match(data, pos)  # spaces or escapes
        if entry is not None:
            raw, digits, end = entry.groups()
            pos = entry.end()
            yield _name(raw, "hash list"), digits.decode("ascii")
            last = end == b"}"
        else:  # anything else, value by value
            reader.pos = pos
            if reader.peek() != ord('"'):
                raise reader.error("expected a key in quotes")
            name = reader.string()
            reader.expect(_COLON)
            yield name, _hex64(reader.value(), f"hash of {name[:80]!r}")
            last = reader.end_of(_CLOSE_OBJECT)
            pos = reader.pos
        if last:
            reader.pos = pos
            return


def build_file_hash(index: int, sha256: str) -> bytes:
    if not _HEX64.fullmatch(sha256):
        raise ValueError(f"Not a SHA-256 in hex: {sha256!r}")
    return _dump({"type": "inlet_hash", "index": index, "sha256": sha256.lower()})


#: The exact text `build_file_hash` makes: matching it is parsing it (one per file received).
_FILE_HASH = re.compile(
    rb'\{"type": "inlet_hash", "index": (0|[1-9][0-9]{0,17}), "sha256": "([0-9a-f]{64})"\}'
)


def parse_file_hash(payload: bytes, expected_index: int) -> str:
    """An extension per-file hash; it must name the file whose bytes just ended."""
    exact = _FILE_HASH.fullmatch(payload)
    if exact is not None and int(exact[1]) == expected_index:
        return exact[2].decode("ascii")
    reader = _reader(payload, "file hash")
    message = _read_small_object(reader, ("type", "index", "sha256"))
    reader.finish()
    if message.get("type") != "inlet_hash":
        raise ProtocolError(
            f"Expected an inlet_hash message, got type {message.get('type')!r:.40}."
        )
    index = message.get("index")
    if not _is_int(index) or index != expected_index:
        raise ProtocolError(
            f"The hash message names file #{index!r:.20}, but file #{expected_index} just ended."
        )
    return _hex64(message.get("sha256"), f"hash of file #{index}")


# -- the extension's plan and accept ----------------------------------------------------------


def build_plan(
    have: Mapping[str, HeldPrefix],
    version: int = INLET_VERSION,
    only: Sequence[str] | None = None,
) -> bytes:
    """The plan; ``only`` (version 2 on) names the files wanted, the others are not sent."""
    held: dict[str, dict[str, Any]] = {}
    for name, p in have.items():
        held[name] = {"bytes": p.length, "sha256": p.sha256}
        if p.checkpoint is not None:
            held[name]["checkpoint"] = {"bytes": p.checkpoint.length, "sha256": p.checkpoint.sha256}
    plan: dict[str, Any] = {"type": "inlet_plan", "version": version, "have": held}
    if only is not None:
        if version < SELECT_VERSION:
            raise ValueError(f"A plan of version {version} cannot ask for some files only.")
        plan["only"] = list(only)
    return _dump(plan)


def check_plan(have: Mapping[str, Any], files: Sequence[FileInfo]) -> dict[str, HeldPrefix]:
    """The receiver app's plan, normalised; a programming error raises ValueError."""
    sizes = _first_sizes(files)
    plan: dict[str, HeldPrefix] = {}
    for name, entry in have.items():
        length, sha, checkpoint = (*entry, None)[:3]  # (length, sha256[, checkpoint])
        if name not in sizes:
            raise ValueError(f"The plan names {name!r}, which is not in the file list.")
        if not _is_int(length) or not 0 <= length <= sizes[name]:
            raise ValueError(f"The plan holds {length!r} bytes of {name!r} ({sizes[name]} bytes).")
        if not isinstance(sha, str) or not _HEX64.fullmatch(sha):
            raise ValueError(f"The plan's hash for {name!r} is not a SHA-256 in hex.")
        if checkpoint is not None:
            cp_length, cp_sha = checkpoint[0], checkpoint[1]
            if not _is_int(cp_length) or not 0 < cp_length < length:
                raise ValueError(f"The checkpoint of {name!r} must be shorter than its prefix.")
            if not isinstance(cp_sha, str) or not _HEX64.fullmatch(cp_sha):
                raise ValueError(f"The checkpoint hash for {name!r} is not a SHA-256 in hex.")
            checkpoint = HeldPrefix(cp_length, cp_sha.lower())
        plan[name] = HeldPrefix(length, sha.lower(), checkpoint)
    return plan


def parse_plan(payload: bytes, files: Sequence[FileInfo]) -> dict[str, HeldPrefix]:
    """The receiver's resume plan: which prefix of which file it already holds."""
    return parse_plan_message(payload, files)[0]


def parse_plan_message(
    payload: bytes, files: Sequence[FileInfo]
) -> tuple[dict[str, HeldPrefix], tuple[str, ...] | None]:
    """The receiver's plan: (held prefixes, the files it asks for, None for every one).
    ``only`` counts from version 2; in a version 1 plan it is an unknown key, ignored."""
    reader = _reader(payload, "resume plan")
    message: dict[str, Any] = {}
    plan: dict[str, HeldPrefix] | None = None
    only: list[str] | Any = None
    for key in reader.members():
        if key == "have":
            plan = _read_have(reader, _first_sizes(files))
        elif key == "only":
            only = _read_names(reader, files, "plan")
        elif key in ("type", "version"):
            message[key] = reader.value()
        else:
            reader.skip()
    reader.finish()
    if message.get("type") != "inlet_plan":
        raise ProtocolError(
            f"Expected an inlet_plan message, got type {message.get('type')!r:.40}."
        )
    version = message.get("version")
    if not _is_int(version) or not 1 <= version <= INLET_VERSION:
        raise ProtocolError(f"The receiver answered with Inlet extension version {version!r:.20}.")
    if plan is None:
        raise ProtocolError("The plan's 'have' from the peer is not a JSON object.")
    if version < SELECT_VERSION or only is None:
        return plan, None
    if not isinstance(only, list):
        raise ProtocolError("The plan's 'only' from the peer is not a list of file names.")
    return plan, tuple(only)


def _read_have(reader: Reader, sizes: Mapping[str, int]) -> dict[str, HeldPrefix]:
    """The plan's ``have``: offered name -> held prefix (each name once, so at most one entry
    per offered file)."""
    if reader.peek() != _OPEN_OBJECT:
        raise ProtocolError("The plan's 'have' from the peer is not a JSON object.")
    data = reader.data
    plan: dict[str, HeldPrefix] = {}
    match = _PLAN_ENTRY.match
    reader.pos += 1
    last = reader.peek() == _CLOSE_OBJECT
    pos = reader.pos + last
    while not last:
        entry = match(data, pos)
        if entry is not None:
            raw, length, sha, end = entry.groups()
            name = _name(raw, "resume plan")
            held = {"bytes": int(length), "sha256": sha.decode("ascii")}
            pos = entry.end()
            last = end == b"}"
        else:
            reader.pos = pos
            if reader.peek() != ord('"'):
                raise reader.error("expected a key in quotes")
            name = reader.string()
            reader.expect(_COLON)
            held = _read_plan_entry(reader)
            last = reader.end_of(_CLOSE_OBJECT)
            pos = reader.pos
        if name in plan:
            raise ProtocolError(
                f"The resume plan from the peer is not valid JSON: the key {name[:80]!r} "
                "appears twice."
            )
        if name not in sizes:
            raise ProtocolError(f"The receiver's plan names {name[:80]!r}, which was not offered.")
        plan[name] = _held_prefix(name, held, sizes[name])
    reader.pos = pos
    return plan


def _read_plan_entry(reader: Reader) -> dict[str, Any] | Any:
    """A plan entry in any spelling: its plain values, and its checkpoint's."""
    if reader.peek() != _OPEN_OBJECT:
        return reader.value()
    entry: dict[str, Any] = {}
    for key in reader.members():
        if key == "checkpoint":
            entry[key] = _read_small_object(reader, ("bytes", "sha256"))
        elif key in ("bytes", "sha256"):
            entry[key] = reader.value()
        else:
            reader.skip()
    return entry


def _held_prefix(name: str, entry: Any, size: int) -> HeldPrefix:
    if not isinstance(entry, dict):
        raise ProtocolError(f"The plan entry for {name[:80]!r} from the peer is not a JSON object.")
    length = _bounded_int(entry.get("bytes"), f"held length of {name[:80]!r}", 0, size)
    checkpoint = None
    cp = entry.get("checkpoint")
    if cp is not None:
        if not isinstance(cp, dict):
            raise ProtocolError(
                f"The checkpoint of {name[:80]!r} from the peer is not a JSON object."
            )
        # A checkpoint is a shorter, non-empty prefix of the same held bytes.
        cp_length = _bounded_int(
            cp.get("bytes"), f"checkpoint length of {name[:80]!r}", 1, length - 1
        )
        checkpoint = HeldPrefix(
            cp_length, _hex64(cp.get("sha256"), f"checkpoint hash of {name[:80]!r}")
        )
    return HeldPrefix(
        length, _hex64(entry.get("sha256"), f"prefix hash of {name[:80]!r}"), checkpoint
    )


def build_accept(starts: Sequence[int | None]) -> bytes:
    return _dump({"type": "inlet_accept", "start": list(starts)})


def check_starts(
    starts: Sequence[Any],
    files: Sequence[FileInfo],
    plan: Mapping[str, HeldPrefix],
    only: Collection[str] | None = None,
) -> tuple[int | None, ...]:
    """Where each file starts: 0, the held length (prefix verified), or None (fully held, or
    not among the ``only`` files the receiver asked for).

    Raises ValueError; the caller turns it into the right error for its side.
    """
    if len(starts) != len(files):
        raise ValueError(f"{len(starts)} start positions for {len(files)} files.")
    checked: list[int | None] = []
    for i, (start, info) in enumerate(zip(starts, files, strict=True)):
        held = plan.get(info.name)
        if only is not None and info.name not in only:
            if start is not None:
                raise ValueError(f"File #{i} ({info.name[:80]!r}) was not asked for.")
        elif start is None:
            if held is None or held.length != info.size:
                raise ValueError(f"File #{i} ({info.name[:80]!r}) is skipped but not fully held.")
        elif not _is_int(start):
            raise ValueError(f"The start of file #{i} is not an integer: {start!r:.40}.")
        elif start != 0 and (held is None or start not in _lengths(held)):
            raise ValueError(
                f"File #{i} ({info.name[:80]!r}) would start at byte {start}, but the receiver "
                f"holds {held.length if held else 0} bytes of it."
            )
        checked.append(start)
    return tuple(checked)


def parse_accept(
    payload: bytes,
    files: Sequence[FileInfo],
    plan: Mapping[str, HeldPrefix],
    only: Collection[str] | None = None,
) -> tuple[int | None, ...]:
    reader = _reader(payload, "plan answer")
    message: dict[str, Any] = {}
    for key in reader.members():
        if key == "start":
            message[key] = _read_starts(reader, len(files))
        elif key == "type":
            message[key] = reader.value()
        else:
            reader.skip()
    reader.finish()
    if message.get("type") != "inlet_accept":
        raise ProtocolError(
            f"Expected an inlet_accept message, got type {message.get('type')!r:.40}."
        )
    starts = message.get("start")
    if not isinstance(starts, list):
        raise ProtocolError("The sender's plan answer has no list of start positions.")
    try:
        return check_starts(starts, files, plan, only)
    except ValueError as err:
        raise ProtocolError(f"The sender's plan answer is not possible: {err}") from None


def _read_starts(reader: Reader, count: int) -> list[Any] | Any:
    """The plan answer's ``start`` array (at most ``count`` plain values), or what `value`
    reads if it is not an array."""
    if reader.peek() != _OPEN_ARRAY:
        return reader.value()
    data = reader.data
    starts: list[Any] = []
    match = _START.match
    reader.pos += 1
    last = reader.peek() == _CLOSE_ARRAY
    pos = reader.pos + last
    while not last:
        if len(starts) == count:
            raise ProtocolError(
                f"The sender's plan answer has more start positions than the {count:,} files."
            )
        entry = match(data, pos)
        if entry is not None:
            digits, end = entry.groups()
            starts.append(None if digits == b"null" else int(digits))
            pos = entry.end()
            last = end == b"]"
        else:
            reader.pos = pos
            starts.append(reader.value())
            last = reader.end_of(_CLOSE_ARRAY)
            pos = reader.pos
    reader.pos = pos
    return starts


def _lengths(held: HeldPrefix) -> tuple[int, ...]:
    """The starts a sender may pick for a held prefix: all of it or its checkpoint."""
    return (held.length,) if held.checkpoint is None else (held.length, held.checkpoint.length)


def _first_sizes(files: Iterable[FileInfo]) -> dict[str, int]:
    sizes: dict[str, int] = {}
    for info in files:
        sizes.setdefault(info.name, info.size)
    return sizes


# -- the receiver's reply -----------------------------------------------------------------------


def _completion_time(value: float) -> float:
    value = float(value)
    if not math.isfinite(value):
        raise ValueError("completion_time must be a finite number")
    return value


def build_completion(message: str, completion_time: float) -> bytes:
    return _dump(
        {
            "status": "completed",
            "message": str(message),
            "completion_time": _completion_time(completion_time),
        }
    )


def build_failure(failed_files: Sequence[str], completion_time: float, message: str) -> bytes:
    """Inlet's final answer when files stay failed (no retry left); see docs/PROTOCOL.md."""
    return _dump(
        {
            "status": "failed",
            "message": str(message),
            "failed_files": list(failed_files),
            "completion_time": _completion_time(completion_time),
        }
    )


def build_retry_request(failed_files: Sequence[str], attempt: int) -> bytes:
    return _dump({"type": "retry_request", "failed_files": list(failed_files), "attempt": attempt})


def parse_reply(payload: bytes, files: Sequence[FileInfo]) -> dict[str, Any]:
    """The receiver's answer after the end marker (its plain values; a container other than
    the list of files is dropped unread). That list may name each offered file once."""
    reader = _reader(payload, "reply")
    reply: dict[str, Any] = {}
    for key in reader.members():
        if key == "failed_files":
            reply[key] = _read_names(reader, files)
        elif not isinstance(value := reader.value(), Skipped):
            reply[key] = value
    reader.finish()
    names = reply.get("failed_files")
    if reply.get("type") == "retry_request":
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise ProtocolError("The receiver's retry request has no list of file names.")
        _bounded_int(reply.get("attempt"), "retry attempt", 1, 1_000_000)
    return reply


def _read_names(reader: Reader, files: Sequence[FileInfo], what: str = "reply") -> list[str] | Any:
    """A reply's ``failed_files`` (or a plan's ``only``): offered names, each once, kept as the
    file list's own strings (not a second copy of each); another value as `value` reads it."""
    if reader.peek() != _OPEN_ARRAY:
        return reader.value()
    offered = {f.name: f.name for f in files}
    names: list[str] = []
    for _ in reader.items():
        name = reader.value()
        if not isinstance(name, str):
            raise ProtocolError(f"The receiver's {what} lists something else than file names.")
        known = offered.pop(name, None)
        if known is None:
            raise ProtocolError(
                f"The receiver's {what} names {name[:80]!r}, never offered (or named twice)."
            )
        names.append(known)
    return names
