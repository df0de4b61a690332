"""Resume negotiation: what an incoming file keeps from an interrupted transfer.

The lock found in the folder is input like any other (a person, a crash or another program may
have written it): a "completed" entry is believed only when the file it names is provably the
one Inlet named, and a partial one only for the prefix whose hash it recorded. The plan made
here decides skip / continue / fresh per file; the new lock carries the kept state over.
"""

from __future__ import annotations

import functools
import stat
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from ..events import FileStatus
from ..paths import is_suffixed_twin
from ..store.destination import Destination
from ..store.entries import PendingEntries
from ..store.lockfile import file_proof


class ResumeAction(StrEnum):
    """What to do with one incoming file, given the resume state found on disk."""

    SKIP = "completed"  # verified and under its final name already
    CONTINUE = "partial"  # keep a verified prefix of the .part, receive the rest
    FRESH = "fresh"  # receive it from byte 0


@dataclass(slots=True)
class ResumeEntry:
    """The plan for one incoming file; ``held_bytes``/``prefix_sha256`` describe the kept prefix.

    Read-only by convention: not frozen, because one is built per incoming file and a frozen
    dataclass costs three times as much to build (100,000 files: 0.1 s instead of 0.03 s).
    """

    name: str
    size: int
    action: ResumeAction
    held_bytes: int = 0
    prefix_sha256: str | None = None
    original_sha256: str | None = None
    final_path: str | None = None
    why: str = ""  # why a file that had some state starts fresh (empty otherwise)
    proof: list[int] | None = None  # `file_proof` of a completed file, checked at planning

    @property
    def completed(self) -> bool:
        return self.action is ResumeAction.SKIP

    @property
    def held(self) -> int:
        """Bytes already held: the whole file when skipped, else the verified prefix."""
        return self.held_bytes

    @property
    def sha256(self) -> str | None:
        """The whole file's SHA-256 when it is already complete."""
        return self.original_sha256


@dataclass(frozen=True)
class ResumePlan:
    """Every incoming file sorted into skip / continue / fresh, in the sender's order."""

    entries: Mapping[str, ResumeEntry]
    session_id: str | None = None  # the interrupted session this plan continues, if any

    def __iter__(self) -> Iterator[ResumeEntry]:
        return iter(self.entries.values())

    def __len__(self) -> int:
        return len(self.entries)

    def __getitem__(self, name: str) -> ResumeEntry:
        return self.entries[name]

    def get(self, name: str, default: ResumeEntry | None = None) -> ResumeEntry | None:
        return self.entries.get(name, default)

    def _with(self, action: ResumeAction) -> list[ResumeEntry]:
        return [e for e in self.entries.values() if e.action is action]

    @property
    def completed(self) -> list[ResumeEntry]:
        return self._with(ResumeAction.SKIP)

    @property
    def partial(self) -> list[ResumeEntry]:
        return self._with(ResumeAction.CONTINUE)

    @property
    def fresh(self) -> list[ResumeEntry]:
        return self._with(ResumeAction.FRESH)

    @functools.cached_property
    def is_resume(self) -> bool:
        """True when at least one file keeps something from the interrupted transfer."""
        if isinstance(self.entries, FreshEntries):
            return False
        return any(e.action is not ResumeAction.FRESH for e in self.entries.values())

    def held(self) -> dict[str, int]:
        """Bytes already held per file (whole size when skipped); zero entries omitted."""
        out: dict[str, int] = {}
        for e in self.entries.values():
            n = e.size if e.action is ResumeAction.SKIP else e.held_bytes
            if n:
                out[e.name] = n
        return out


class FreshEntries(Mapping[str, ResumeEntry]):
    """The plan of a transfer that resumes nothing, over the new lock's entries: every file
    fresh, its `ResumeEntry` made when asked for (a million of them cost 140 MiB made at once)."""

    def __init__(self, listed: PendingEntries) -> None:
        self._listed = listed

    def __getitem__(self, name: str) -> ResumeEntry:
        size = self._listed.size_of(name)
        if size is None:
            raise KeyError(name)
        return ResumeEntry(name, size, ResumeAction.FRESH)

    def __iter__(self) -> Iterator[str]:
        return iter(self._listed)

    def __len__(self) -> int:
        return len(self._listed)


def plan_resume(
    pairs: Iterable[tuple[str, int]],
    entries: Mapping[str, dict[str, Any]],
    destination: Destination,
    session_id: str | None,
) -> ResumePlan:
    """Sort the incoming files (name, size) against the lock's ``entries``.

    Completed with the same size and still provably under its final name: skip. In progress
    (or pending) with a recorded length and prefix hash and the same size: continue from that
    verified prefix. Everything else (unknown, size changed, failed, no hash): fresh.
    """
    if not entries:  # nothing to resume: the common case, kept cheap
        fresh = ResumeAction.FRESH
        planned = {name: ResumeEntry(name, size, fresh) for name, size in pairs}
    else:
        planned = {name: _plan_one(name, size, entries, destination) for name, size in pairs}
    return ResumePlan(entries=planned, session_id=session_id)


def _plan_one(
    name: str, size: int, entries: Mapping[str, dict[str, Any]], destination: Destination
) -> ResumeEntry:
    e = entries.get(name)
    if e is None:
        return ResumeEntry(name, size, ResumeAction.FRESH)
    if e["size"] != size:
        why = f"its size changed from {e['size']} to {size} bytes"
        return ResumeEntry(name, size, ResumeAction.FRESH, why=why)
    status = e["status"]
    if status == FileStatus.COMPLETED:
        final = e.get("final_path") or name
        why = unproven(name, final, e, destination)
        if why is None:
            return ResumeEntry(
                name,
                size,
                ResumeAction.SKIP,
                held_bytes=size,
                original_sha256=e.get("original_hash"),
                final_path=final,
                proof=e.get("proof"),
            )
        return ResumeEntry(name, size, ResumeAction.FRESH, why=why)
    if status == FileStatus.FAILED:
        return ResumeEntry(name, size, ResumeAction.FRESH, why="it failed last time")
    held, prefix = e["transferred_bytes"], e.get("partial_hash")
    if held > 0 and prefix:
        return ResumeEntry(
            name,
            size,
            ResumeAction.CONTINUE,
            held_bytes=held,
            prefix_sha256=prefix,
            original_sha256=e.get("original_hash"),
        )
    return ResumeEntry(name, size, ResumeAction.FRESH)


def unproven(name: str, final: str, e: dict[str, Any], destination: Destination) -> str | None:
    """Why a "completed" entry cannot be trusted now (None: its bytes are proven).

    Its final path must be a name Inlet gives this file, and the file there must still be the
    one Inlet named (size, mtime, inode and device as recorded then) or hash to the recorded
    SHA-256 now (then the proof is refreshed in ``e``)."""
    if not is_suffixed_twin(final, name):
        return f"the lock names {final!r} as its final path, which is not a name of it"
    original = e.get("original_hash")
    if original is None:
        return "the lock records no hash for it"
    try:
        st = destination.lstat(final)
    except OSError:
        st = None
    if st is None or not stat.S_ISREG(st.st_mode) or st.st_size != e["size"]:
        return f"{final} is gone or changed"
    if e.get("proof") == file_proof(st):
        return None
    if destination.sha256(final) == original:
        e["proof"] = file_proof(st)
        return None
    return f"{final} holds other bytes than the ones received"


def carried_entry(name: str, size: int, plan: ResumePlan | None, stamp: str) -> dict[str, Any]:
    """The new lock's entry for ``name``: what the plan keeps of it (pending when nothing)."""
    entry: dict[str, Any] = {
        "status": FileStatus.PENDING,
        "size": size,
        "transferred_bytes": 0,
        "partial_hash": None,
        "original_hash": None,
        "last_modified": stamp,
    }
    planned = plan.entries.get(name) if plan is not None else None
    if planned is None or planned.size != size:
        return entry
    if planned.action is ResumeAction.SKIP:
        entry.update(
            status=FileStatus.COMPLETED,
            transferred_bytes=size,
            partial_hash=planned.original_sha256,
            original_hash=planned.original_sha256,
        )
        if planned.final_path and planned.final_path != name:
            entry["final_path"] = planned.final_path
        if planned.proof is not None:
            entry["proof"] = planned.proof
    elif planned.action is ResumeAction.CONTINUE:
        entry.update(
            status=FileStatus.IN_PROGRESS,
            transferred_bytes=planned.held_bytes,
            partial_hash=planned.prefix_sha256,
            original_hash=planned.original_sha256,
        )
    return entry
