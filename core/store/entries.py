"""The lock's records in memory: a dict per file only once the file has changed.

A new lock starts with every file pending, and a record that was never touched is fully known
from its name, its size and the lock's creation time. A million-file list made a million dicts
of six keys (about 270 bytes each) before the sender could start; here an untouched file costs
one slot of one dict (its size), and its record is made the first time it is asked for.
The file order (the snapshot's) is the list's, whatever is made when.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from itertools import islice
from typing import Any

from ..events import FileStatus
from .lockfile import ENCODE, SNAPSHOT_CHUNK, pending_member


class PendingEntries(Mapping[str, dict[str, Any]]):
    """name -> lock record, where a file not yet changed is stored as its size alone.

    Reading an entry by name (``[]``, ``get``) makes its record and keeps it, so the caller
    may change it in place, as with a plain dict of records. Iterating (``values``,
    ``items``) hands out a fresh record for a file still untouched: read, not to be kept.
    """

    __slots__ = ("_data", "_stamp")

    def __init__(self, sizes: dict[str, int], stamp: str) -> None:
        """``sizes`` (name -> size, in the list's order) is kept, not copied: its values turn
        into records as the files change."""
        self._data: dict[str, int | dict[str, Any]] = sizes  # type: ignore[assignment]
        self._stamp = stamp

    def _record(self, size: int) -> dict[str, Any]:
        return {
            "status": FileStatus.PENDING,
            "size": size,
            "transferred_bytes": 0,
            "partial_hash": None,
            "original_hash": None,
            "last_modified": self._stamp,
        }

    def __getitem__(self, name: str) -> dict[str, Any]:
        e = self._data[name]
        if type(e) is int:
            e = self._data[name] = self._record(e)
        return e  # type: ignore[return-value]

    def get(self, name: str, default: Any = None) -> Any:
        e = self._data.get(name)
        if e is None:
            return default
        if type(e) is int:
            e = self._data[name] = self._record(e)
        return e

    def size_of(self, name: str) -> int | None:
        """The listed size of ``name`` (None when the lock lacks it), making no record."""
        e = self._data.get(name)
        return e if e is None or type(e) is int else e["size"]  # type: ignore[index,return-value]

    def __contains__(self, name: object) -> bool:
        return name in self._data

    def __len__(self) -> int:
        return len(self._data)

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def values(self) -> Iterator[dict[str, Any]]:  # type: ignore[override]
        record = self._record
        return (record(e) if type(e) is int else e for e in self._data.values())

    def items(self) -> Iterator[tuple[str, dict[str, Any]]]:  # type: ignore[override]
        record = self._record
        return ((n, record(e) if type(e) is int else e) for n, e in self._data.items())

    def encoded(self, chunk: int = SNAPSHOT_CHUNK) -> Iterator[str]:
        """The members of the snapshot's ``files`` object, at most ``chunk`` entries a piece:
        the same text as encoding every record would give (``lockfile.encode_entries``), an
        untouched record written from a template without being made. The pieces are counted
        in entries, touched or not: by the end of a receive every record is made, and a
        snapshot built whole then (56 MiB for 100,000 files) was the receive's peak."""
        member = pending_member(self._stamp)
        names, values = iter(self._data), iter(self._data.values())
        while group := list(islice(values, chunk)):
            keys = list(islice(names, len(group)))
            if dict not in set(map(type, group)):  # nothing changed in this run: one template
                yield ",".join(map(member, keys, group))  # type: ignore[arg-type]
                continue
            pieces: list[str] = []
            changed: dict[str, dict[str, Any]] = {}
            for name, e in zip(keys, group, strict=True):
                if type(e) is int:
                    if changed:
                        pieces.append(ENCODE(changed)[1:-1])
                        changed = {}
                    pieces.append(member(name, e))
                else:
                    changed[name] = e
            if changed:
                pieces.append(ENCODE(changed)[1:-1])
            yield ",".join(pieces)
