"""Which files one receive asks for: every one, or the few a person picked (a row's Retry).

Only a sender that speaks the extension's version 2 can send part of its list
(docs/PROTOCOL.md, 5.4). With any other sender, or when none of the picked names is listed (a
different sender), the receive asks for every file not yet here, as it always did. The files
not asked for are left exactly as they are: no writer, no plan entry, no status change.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

from .incoming import IncomingFile


@dataclass(frozen=True)
class Selection:
    """The files asked for; ``names`` None means every file of the list."""

    names: frozenset[str] | None = None

    @classmethod
    def of(
        cls, wanted: Collection[str] | None, files: Sequence[IncomingFile], can_select: bool
    ) -> Selection:
        """The selection a receive can make: ``wanted`` (normalized or raw names) when the
        sender can select and lists at least one of them, else every file."""
        if wanted is None or not can_select:
            return cls()
        picked = frozenset(wanted)
        if not any(f.name in picked or f.info.name in picked for f in files):
            return cls()
        return cls(picked)

    @property
    def partial(self) -> bool:
        return self.names is not None

    def wants(self, incoming: IncomingFile) -> bool:
        names = self.names
        return names is None or incoming.name in names or incoming.info.name in names

    def wire_names(self, files: Sequence[IncomingFile]) -> list[str] | None:
        """The raw names to ask the sender for (None: every file), in list order."""
        if self.names is None:
            return None
        return [f.info.name for f in files if f.refused is None and self.wants(f)]

    def asked(self, files: Sequence[IncomingFile]) -> Sequence[IncomingFile]:
        """The files this receive is about: their outcome decides whether it went well."""
        return files if self.names is None else [f for f in files if self.wants(f)]

    def shown(self, files: Sequence[IncomingFile]) -> frozenset[str] | None:
        """The normalized names asked for, for the window (None: every file)."""
        if self.names is None:
            return None
        return frozenset(f.name for f in files if self.wants(f))
