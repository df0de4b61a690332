"""The on-disk format of Inlet's resume state: ``.transfer_lock.json`` and its journal.

Encode, decode, validate and replay, with no I/O and no policy (when to write, what a status
change means: ``core/lock.py``). What is read here is input like any other — a person, a
crash or another program may have written it — so every record is checked as strictly as a
message from the network, and anything malformed raises ``LockFileError``.

The snapshot keeps ftransfer 1.0.1's format (``version``, ``session_id``, ``timestamp``,
``sender_ip``, ``total_files``, ``total_size``, ``files``); Inlet's extras live in keys
ftransfer ignores (``"inlet"`` at the top; ``reason``, ``final_path`` and ``proof`` inside an
entry). A journal line is one batch of changed records.
"""

from __future__ import annotations

import itertools
import json
import os
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..errors import LockFileError, UnsafeNameError
from ..events import FileStatus
from ..paths import JOURNAL_FILENAME, LOCK_FILENAME, normalized_name

LOCK_VERSION = "1.0"
JOURNAL_MAGIC = "inlet_journal"
ENCODE = json.JSONEncoder(separators=(",", ":")).encode
QUOTE = json.encoder.encode_basestring_ascii  # a str as a JSON string literal (C version)
HEX64 = re.compile(r"[0-9a-fA-F]{64}")
STATUSES = {s.value: s for s in FileStatus}  # entries hold the members (JSON: the value)


@dataclass
class LoadedState:
    """Everything read back from disk; built by ``_read_state``."""

    header: dict[str, Any]
    files: dict[str, dict[str, Any]]
    timestamp: datetime
    generation: str = ""  # the journal this snapshot expects ("" when ftransfer wrote it)
    journal_matched: bool = False
    journal_valid_bytes: int = 0
    replayed_batches: int = 0
    notes: list[str] = field(default_factory=list)


def replay_journal(raw: bytes, state: LoadedState, session_id: str, generation: str) -> None:
    """Apply the journal lines written after the snapshot to ``state``; stop at a torn or
    garbled line (a lost batch, never half of one)."""
    pos = 0
    newest: str | None = None
    while True:
        end = raw.find(b"\n", pos)
        if end < 0:
            if pos < len(raw):
                state.notes.append("ignored a torn last line in the journal")
            break
        try:
            obj = json.loads(raw[pos:end])
        except (ValueError, RecursionError):
            state.notes.append(f"ignored the journal from byte {pos} on (garbled line)")
            break
        if pos == 0:
            if not (
                isinstance(obj, dict)
                and obj.get(JOURNAL_MAGIC) == 1
                and obj.get("session_id") == session_id
                and obj.get("generation") == generation
            ):
                return  # a journal of another snapshot: the snapshot already holds more
            state.journal_matched = True
        else:
            for name, entry in validate_journal_batch(obj, state.files):
                state.files[name] = entry
            newest = obj["t"]
            state.replayed_batches += 1
        pos = end + 1
    state.journal_valid_bytes = pos
    newer = parse_time(newest) if newest else None
    if newer is not None and newer > state.timestamp:
        state.timestamp = newer


def pending_member(stamp: str) -> Callable[[str, int], str]:
    """``member(name, size)``: the ``files`` object's member for a pending record made at
    ``stamp`` that nothing changed since, as JSON text. Same text as the generic encoder gives
    for the record, in about 40 % of its time, without making the record: the name is escaped
    by the encoder's own string function, the size is an int (checked by the caller)."""
    tail = (
        ',"transferred_bytes":0,"partial_hash":null,"original_hash":null,"last_modified":'
        + QUOTE(stamp)
        + "}"
    )
    return lambda name, size: f'{QUOTE(name)}:{{"status":"pending","size":{size}{tail}'


#: entries per encoder call when a snapshot is written (see `encode_entries`)
SNAPSHOT_CHUNK = 250


def encode_entries(files: dict[str, dict[str, Any]], chunk: int = SNAPSHOT_CHUNK) -> Iterator[str]:
    """The members of ``files`` as JSON text, ``chunk`` entries a piece; joined with commas
    they are the same text as one encoder call gives.

    Each encoder call holds the GIL from start to end, and the window's GUI thread (which
    shares the interpreter with the receiver) waits for it every time it enters Python, dozens
    of times a frame. 100,000 entries in one call froze it for 0.2 s; 2,000 a call (about 10 ms
    each) still added up to a 0.55 s stall while a 100,000-file receive compacted its lock
    (``python bench/window.py``); 250 a call, about 1 ms each, leave 0.17 s, as before the
    lock's records changed.
    """
    items = iter(files.items())
    while group := dict(itertools.islice(items, chunk)):
        yield ENCODE(group)[1:-1]


def joined(pieces: Iterable[str]) -> Iterator[str]:
    """``pieces`` with a comma before every one but the first (JSON object members)."""
    first = True
    for piece in pieces:
        if piece:
            yield piece if first else "," + piece
            first = False


def journal_header(session_id: str, generation: str) -> bytes:
    head = {JOURNAL_MAGIC: 1, "session_id": session_id, "generation": generation}
    return (json.dumps(head, separators=(",", ":")) + "\n").encode("utf-8")


def parse_json(raw: bytes, what: str) -> Any:
    try:
        return json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as err:
        raise LockFileError(f"{what} is not UTF-8 text (damaged file).") from err
    except RecursionError as err:
        raise LockFileError(f"{what} is nested too deeply to be a transfer lock.") from err
    except ValueError as err:
        raise LockFileError(f"{what} is not valid JSON ({err}).") from err


def parse_time(value: Any) -> datetime | None:
    """ISO 8601 to a naive local time (ftransfer writes naive local times)."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone().replace(tzinfo=None)
    return parsed


def is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def validate_snapshot(doc: Any) -> tuple[dict[str, Any], dict[str, dict[str, Any]], datetime]:
    bad = LockFileError
    if not isinstance(doc, dict):
        raise bad(f"{LOCK_FILENAME} does not hold a JSON object.")
    version = doc.get("version")
    if not isinstance(version, str) or not version.startswith("1."):
        raise bad(f"{LOCK_FILENAME} has version {version!r}; Inlet reads version 1.x.")
    for key in ("session_id", "sender_ip"):
        if not isinstance(doc.get(key), str):
            raise bad(f"{LOCK_FILENAME} lacks a text {key!r}.")
    stamp = parse_time(doc.get("timestamp"))
    if stamp is None:
        raise bad(f"{LOCK_FILENAME} has no valid ISO 8601 timestamp.")
    for key in ("total_files", "total_size"):
        if not is_count(doc.get(key)):
            raise bad(f"{LOCK_FILENAME} has an invalid {key!r}: {doc.get(key)!r}.")
    raw_files = doc.get("files")
    if not isinstance(raw_files, dict):
        raise bad(f"{LOCK_FILENAME} has no 'files' object.")
    files = {name: validate_entry(name, e) for name, e in raw_files.items()}
    if doc["total_files"] < len(files):
        raise bad(
            f"{LOCK_FILENAME} is inconsistent: total_files is {doc['total_files']} "
            f"but {len(files)} files are listed."
        )
    listed = sum(e["size"] for e in files.values())
    if doc["total_size"] != listed:
        raise bad(
            f"{LOCK_FILENAME} is inconsistent: total_size is {doc['total_size']} "
            f"but the listed files add up to {listed} bytes."
        )
    header = {
        "version": version,
        "session_id": doc["session_id"],
        "timestamp": doc["timestamp"],
        "sender_ip": doc["sender_ip"],
        "total_files": doc["total_files"],
        "total_size": doc["total_size"],
    }
    return header, files, stamp


def validate_entry(name: Any, e: Any) -> dict[str, Any]:
    """One file record, checked and normalized (hashes lower-case, "" read as null)."""
    bad = LockFileError
    if not isinstance(name, str):
        raise bad(f"{LOCK_FILENAME} lists a file whose name is not text.")
    try:
        if normalized_name(name) != name:
            raise bad(f"{LOCK_FILENAME} lists {name!r}, which is not a normalized name.")
    except UnsafeNameError as err:
        raise bad(f"{LOCK_FILENAME} lists an unsafe file name: {err.message}") from err
    if not isinstance(e, dict):
        raise bad(f"The lock record of {name!r} is not a JSON object.")
    status = e.get("status")
    if status not in STATUSES:
        raise bad(f"The lock record of {name!r} has an unknown status {status!r}.")
    size, held = e.get("size"), e.get("transferred_bytes", 0)
    if not is_count(size) or not is_count(held):
        raise bad(f"The lock record of {name!r} has an invalid size or transferred_bytes.")
    if held > size:
        raise bad(f"The lock record of {name!r} claims {held} bytes of a {size}-byte file.")
    out: dict[str, Any] = {
        "status": STATUSES[status],
        "size": size,
        "transferred_bytes": held,
        "partial_hash": _hash_or_none(name, "partial_hash", e.get("partial_hash")),
        "original_hash": _hash_or_none(name, "original_hash", e.get("original_hash")),
        "last_modified": e.get("last_modified"),
    }
    reason = e.get("reason")
    if isinstance(reason, str):
        out["reason"] = reason
    final = e.get("final_path")
    if isinstance(final, str) and final:
        try:
            out["final_path"] = normalized_name(final)
        except UnsafeNameError as err:
            raise bad(f"The lock record of {name!r} names an unsafe final path.") from err
    proof = e.get("proof")
    if isinstance(proof, list) and len(proof) == 4 and all(is_count(v) for v in proof):
        out["proof"] = proof
    return out


def _hash_or_none(name: str, key: str, value: Any) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str) or not HEX64.fullmatch(value):
        raise LockFileError(f"The lock record of {name!r} has an invalid {key}: {value!r}.")
    return value.lower()


def validate_journal_batch(
    obj: Any, files: dict[str, dict[str, Any]]
) -> list[tuple[str, dict[str, Any]]]:
    """Check one journal line; it is applied whole or not at all.

    A line is ``{"t": stamp, "batch": {name: [status, transferred_bytes, partial_hash,
    original_hash, reason, final_path]}}``: a list instead of the snapshot's record and no
    repeated hash for a completed file, so the journal grows about half as fast as rewriting
    records would, and a plain transfer never needs a compaction.
    """
    batch = obj.get("batch") if isinstance(obj, dict) else None
    stamp = obj.get("t") if isinstance(obj, dict) else None
    if not isinstance(batch, dict) or parse_time(stamp) is None:
        raise LockFileError(f"{JOURNAL_FILENAME} holds a line that is not a batch of records.")
    out = []
    for name, record in batch.items():
        old = files.get(name)
        if old is None:
            raise LockFileError(f"{JOURNAL_FILENAME} records {name!r}, which the lock lacks.")
        if not isinstance(record, list) or len(record) not in (6, 7):
            raise LockFileError(f"{JOURNAL_FILENAME} has a malformed record for {name!r}.")
        status, held, partial, original, reason, final, proof = (*record, None)[:7]
        if status == FileStatus.COMPLETED and partial is None:
            partial = original
        entry = {
            "status": status,
            "size": old["size"],
            "transferred_bytes": held,
            "partial_hash": partial,
            "original_hash": original,
            "last_modified": stamp,
        }
        if reason is not None:
            entry["reason"] = reason
        if final is not None:
            entry["final_path"] = final
        if proof is not None:
            entry["proof"] = proof
        out.append((name, validate_entry(name, entry)))
    return out


def lower(hex_digest: str) -> str:
    """Lower case without a copy when it is already (every file keeps a hash or two)."""
    return hex_digest if hex_digest.islower() else hex_digest.lower()


def file_proof(st: os.stat_result) -> list[int]:
    """What identifies the file Inlet named, so a resume can trust it without reading it:
    size, mtime (ns), inode, device. Any write or replacement changes one of them."""
    return [st.st_size, st.st_mtime_ns, st.st_ino, st.st_dev]
