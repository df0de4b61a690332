"""What a sender offers: the files named on its command line, folders walked recursively.

Names are ``/``-separated and relative; a folder argument keeps its own name as the first
component (``send photos`` offers ``photos/a.jpg``), as ftransfer does.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from .errors import InletError
from .paths import validate_file_list


class SourceError(InletError):
    """A path given to ``inlet send`` cannot be offered."""

    hint = "Check the paths you gave to inlet send."


@dataclass(frozen=True)
class SourceFile:
    """One file to send: its name on the wire, where it is read from, and its size."""

    name: str
    path: Path
    size: int


def collect_sources(paths: list[str | Path]) -> list[SourceFile]:
    """Walk ``paths`` into a deterministic list of files (sorted within each folder).

    Symlinked files are followed; symlinked folders are not entered (they can loop). Empty
    folders are not offered, as in ftransfer; zero-byte files are.
    """
    files: list[SourceFile] = []
    for given in paths:
        root = Path(given)
        if not root.exists():
            raise SourceError(f"{str(given)!r} does not exist.")
        base = root.resolve().name or root.resolve().anchor
        if root.is_file():
            files.append(SourceFile(base, root, root.stat().st_size))
            continue
        if not root.is_dir():
            raise SourceError(f"{str(given)!r} is neither a file nor a folder.")
        for folder, dirnames, filenames in os.walk(root):
            dirnames.sort()
            rel = Path(folder).relative_to(root)
            prefix = "/".join((base, *rel.parts))
            for filename in sorted(filenames):
                path = Path(folder) / filename
                if path.is_symlink() and not path.is_file():
                    continue  # a dangling link or a link to something that is not a file
                files.append(SourceFile(f"{prefix}/{filename}", path, path.stat().st_size))
    if not files:
        raise SourceError("There is nothing to send: the paths hold no files.")
    try:
        validate_file_list([f.name for f in files])
    except InletError as err:
        raise SourceError(f"These paths cannot be sent together: {err.message}") from err
    return files
