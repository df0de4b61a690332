"""The JSON messages of the conversation: how each is built, and how each is checked.

Every ``parse_*`` function takes the decrypted bytes from the peer and returns plain values, or
raises ``ProtocolError`` saying what was wrong: invalid UTF-8 or JSON, duplicate keys, wrong
types (a bool is not an int), values out of range. Nothing else escapes, whatever the input
(deep nesting, a 10,000-digit number, NaN). Unknown keys are ignored, as ftransfer 1.0.1 does.
Which message is expected is decided by the connection, from the position in the stream; these
functions never guess a message's kind from its content.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from .errors import ProtocolError
from .events import FileInfo

#: Refused as absurd: more files than this in one transfer.
MAX_FILES = 1_000_000
#: Refused as absurd: a transfer (the unified stream) larger than this (1 PiB).
MAX_STREAM_SIZE = 1 << 50
#: The Inlet extension version this code speaks (docs/PROTOCOL.md, "The Inlet extension").
INLET_VERSION = 1

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


# -- decoding helpers ---------------------------------------------------------------------------


class _DuplicateKey(ValueError):
    pass


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _DuplicateKey(f"the key {key[:80]!r} appears twice")
        result[key] = value
    return result


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows")


def load_json(payload: bytes, what: str) -> Any:
    """Decode the peer's JSON strictly; any failure becomes a ProtocolError naming ``what``."""
    try:
        return json.loads(
            payload.decode("utf-8"),
            object_pairs_hook=_unique_keys,
            parse_constant=_no_constants,
        )
    except (ValueError, RecursionError) as err:  # UnicodeDecodeError is a ValueError
        raise ProtocolError(f"The {what} from the peer is not valid JSON: {err}") from None


def _dump(obj: Any) -> bytes:
    return json.dumps(obj, allow_nan=False).encode("utf-8")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _object(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ProtocolError(f"The {what} from the peer is not a JSON object.")
    return value


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


def parse_metadata(payload: bytes) -> StreamMetadata:
    """Validate the metadata: the file list must tile the unified stream exactly."""
    meta = _object(load_json(payload, "metadata"), "metadata")
    if meta.get("type") != "stream":
        raise ProtocolError(f"The metadata has type {meta.get('type')!r:.40}, not 'stream'.")
    raw_files = meta.get("files")
    if not isinstance(raw_files, list):
        raise ProtocolError("The metadata has no list of files.")
    count = _bounded_int(meta.get("file_count"), "metadata's file_count", 0, MAX_FILES)
    if count != len(raw_files):
        raise ProtocolError(f"The metadata announces {count} files but lists {len(raw_files)}.")
    files: list[FileInfo] = []
    position = 0
    for i, entry in enumerate(raw_files):
        if not isinstance(entry, dict):
            raise ProtocolError(f"File #{i} in the metadata is not a JSON object.")
        name = entry.get("filename")
        if not isinstance(name, str):
            raise ProtocolError(f"File #{i} in the metadata has no text filename.")
        size = _bounded_int(entry.get("size"), f"size of {name[:80]!r}", 0, MAX_STREAM_SIZE)
        offset = _bounded_int(entry.get("offset"), f"offset of {name[:80]!r}", 0, MAX_STREAM_SIZE)
        if offset != position:
            raise ProtocolError(
                f"The offset of {name[:80]!r} is {offset}, but the files before it end at "
                f"{position}: the file list does not tile the stream."
            )
        position += size
        if position > MAX_STREAM_SIZE:
            raise ProtocolError(f"The transfer is larger than {MAX_STREAM_SIZE} bytes.")
        files.append(FileInfo(name, size, offset))
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
    return StreamMetadata(tuple(files), total, compressed, is_message, _inlet_version(meta))


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


def parse_stream_hashes(payload: bytes) -> dict[str, str]:
    """The legacy hash message: a JSON object ``{filename: sha256_hex}``."""
    hashes = _object(load_json(payload, "hash list"), "hash list")
    return {name: _hex64(sha, f"hash of {name[:80]!r}") for name, sha in hashes.items()}


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
    message = _object(load_json(payload, "file hash"), "file hash")
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


def build_plan(have: Mapping[str, HeldPrefix]) -> bytes:
    held: dict[str, dict[str, Any]] = {}
    for name, p in have.items():
        held[name] = {"bytes": p.length, "sha256": p.sha256}
        if p.checkpoint is not None:
            held[name]["checkpoint"] = {"bytes": p.checkpoint.length, "sha256": p.checkpoint.sha256}
    return _dump({"type": "inlet_plan", "version": INLET_VERSION, "have": held})


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
    message = _object(load_json(payload, "resume plan"), "resume plan")
    if message.get("type") != "inlet_plan":
        raise ProtocolError(
            f"Expected an inlet_plan message, got type {message.get('type')!r:.40}."
        )
    version = message.get("version")
    if version != INLET_VERSION or not _is_int(version):
        raise ProtocolError(f"The receiver answered with Inlet extension version {version!r:.20}.")
    have = _object(message.get("have"), "plan's 'have'")
    sizes = _first_sizes(files)
    plan: dict[str, HeldPrefix] = {}
    for name, entry in have.items():
        if name not in sizes:
            raise ProtocolError(f"The receiver's plan names {name[:80]!r}, which was not offered.")
        entry = _object(entry, f"plan entry for {name[:80]!r}")
        length = _bounded_int(entry.get("bytes"), f"held length of {name[:80]!r}", 0, sizes[name])
        checkpoint = None
        if entry.get("checkpoint") is not None:
            cp = _object(entry["checkpoint"], f"checkpoint of {name[:80]!r}")
            # A checkpoint is a shorter, non-empty prefix of the same held bytes.
            cp_length = _bounded_int(
                cp.get("bytes"), f"checkpoint length of {name[:80]!r}", 1, length - 1
            )
            checkpoint = HeldPrefix(
                cp_length, _hex64(cp.get("sha256"), f"checkpoint hash of {name[:80]!r}")
            )
        plan[name] = HeldPrefix(
            length, _hex64(entry.get("sha256"), f"prefix hash of {name[:80]!r}"), checkpoint
        )
    return plan


def build_accept(starts: Sequence[int | None]) -> bytes:
    return _dump({"type": "inlet_accept", "start": list(starts)})


def check_starts(
    starts: Sequence[Any], files: Sequence[FileInfo], plan: Mapping[str, HeldPrefix]
) -> tuple[int | None, ...]:
    """Where each file starts: 0, the held length (prefix verified), or None (fully held).

    Raises ValueError; the caller turns it into the right error for its side.
    """
    if len(starts) != len(files):
        raise ValueError(f"{len(starts)} start positions for {len(files)} files.")
    checked: list[int | None] = []
    for i, (start, info) in enumerate(zip(starts, files, strict=True)):
        held = plan.get(info.name)
        if start is None:
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
    payload: bytes, files: Sequence[FileInfo], plan: Mapping[str, HeldPrefix]
) -> tuple[int | None, ...]:
    message = _object(load_json(payload, "plan answer"), "plan answer")
    if message.get("type") != "inlet_accept":
        raise ProtocolError(
            f"Expected an inlet_accept message, got type {message.get('type')!r:.40}."
        )
    starts = message.get("start")
    if not isinstance(starts, list):
        raise ProtocolError("The sender's plan answer has no list of start positions.")
    try:
        return check_starts(starts, files, plan)
    except ValueError as err:
        raise ProtocolError(f"The sender's plan answer is not possible: {err}") from None


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
    """The receiver's answer after the end marker. A retry request must name offered files."""
    reply = _object(load_json(payload, "reply"), "reply")
    if reply.get("type") == "retry_request":
        names = reply.get("failed_files")
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise ProtocolError("The receiver's retry request has no list of file names.")
        known = _first_sizes(files)
        unknown = [n for n in names if n not in known]
        if unknown:
            raise ProtocolError(f"The receiver asks to resend {unknown[0][:80]!r}, never offered.")
        _bounded_int(reply.get("attempt"), "retry attempt", 1, 1_000_000)
    return reply
