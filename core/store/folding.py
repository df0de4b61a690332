"""How a destination folder compares names: exactly (ext4), or ignoring case and Unicode
normalization (macOS, Windows, some USB sticks and network shares).

Two names of one transfer that such a folder considers the same (``Report.txt`` and
``report.txt``; ``café.txt`` in NFC and in NFD) would share one ``.part``, and the wrong bytes
would be named. The folder is probed once, as git probes for ``core.ignorecase``: create a file
under one spelling and look it up under the other.
"""

from __future__ import annotations

import contextlib
import os
import unicodedata
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .destination import Destination


@dataclass(frozen=True, slots=True)
class NameFolding:
    """``case``: the folder ignores case; ``unicode``: it ignores Unicode normalization."""

    case: bool = False
    unicode: bool = False

    @classmethod
    def named(cls, text: str) -> NameFolding:
        """``"exact"``, ``"casefold"``, ``"nfd"`` or ``"casefold+nfd"`` (a test seam and a
        setting for folders the probe cannot write to)."""
        parts = set(text.split("+"))
        unknown = parts - {"exact", "casefold", "nfd"}
        if unknown:
            raise ValueError(f"unknown name folding {text!r}")
        return cls(case="casefold" in parts, unicode="nfd" in parts)

    @property
    def exact(self) -> bool:
        return not (self.case or self.unicode)

    def key(self, name: str) -> str:
        """The form under which the folder finds ``name``: equal keys are one file there."""
        if self.unicode:
            name = unicodedata.normalize("NFD", name)
        if self.case:
            name = name.casefold()
            if self.unicode:
                name = unicodedata.normalize("NFD", name)
        return name


#: The probe's name: Inlet bookkeeping (no sender may use it), so one left by a kill is
#: recognised, replaced and removed by the next probe. É is precomposed (NFC).
PROBE_FILENAME = ".inlet-probe-CASE-\u00c9"


def probe_folding(destination: Destination) -> NameFolding:
    """Find out how ``destination`` compares names by creating one probe file and looking it up
    under another spelling. A folder that cannot be written to counts as exact."""
    name = PROBE_FILENAME
    try:
        fd = destination.create(name, replace=True)
    except OSError:
        return NameFolding()
    os.close(fd)
    try:
        lower = name.lower()  # é stays NFC
        nfd = unicodedata.normalize("NFD", name)
        return NameFolding(
            case=destination.lstat(lower) is not None,
            unicode=destination.lstat(nfd) is not None,
        )
    finally:
        with contextlib.suppress(OSError):
            destination.unlink(name)
