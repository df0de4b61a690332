"""Where a sender-supplied name may land in the destination folder, and what it is called there.

This is the one place that decides it (invariant 1 in DESIGN.md): a name from the network is
validated component by component, never by searching for ``..`` in the string — ftransfer 1.0.1
did that, which rejected the harmless ``a..b.txt`` and still wrote through a symlink.
"""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

from .errors import UnsafeNameError

LOCK_FILENAME = ".transfer_lock.json"
JOURNAL_FILENAME = ".transfer_lock.journal"
WARNINGS_LOG = "transfer_warnings.log"
PART_SUFFIX = ".part"

#: Names Inlet keeps for its own bookkeeping; a sender may not use them at any depth.
RESERVED_NAMES = frozenset({LOCK_FILENAME, JOURNAL_FILENAME, LOCK_FILENAME + ".tmp"})

_DRIVE = re.compile(r"^[A-Za-z]:")
_SEPARATORS = re.compile(r"[/\\]")
_CONTROL = re.compile(r"[\x00-\x1f]")
MAX_NAME_BYTES = 4096
MAX_COMPONENT_BYTES = 255
# A code point takes at most 4 bytes in UTF-8 (3 for a lone surrogate): names this short need
# no encoding to know they fit (split_name runs for every file of a transfer).
_SURELY_SHORT_NAME = MAX_NAME_BYTES // 4
_SURELY_SHORT_PART = MAX_COMPONENT_BYTES // 4


def split_name(name: str) -> tuple[str, ...]:
    """Split a relative name sent by a peer into safe path components.

    Accepts ``/`` and ``\\`` as separators (a Windows ftransfer sender can send either) and
    rejects, with a specific message, everything that could leave the destination folder.
    """
    if not isinstance(name, str):
        raise UnsafeNameError(f"A file name from the sender is not text: {name!r}.")
    if not name:
        raise UnsafeNameError("The sender sent an empty file name.")
    if "\x00" in name:
        shown = name.replace("\x00", "\\0")
        raise UnsafeNameError(f"The file name {shown!r} contains a NUL byte.")
    if (
        len(name) > _SURELY_SHORT_NAME
        and len(name.encode("utf-8", "surrogatepass")) > MAX_NAME_BYTES
    ):
        raise UnsafeNameError(
            f"The file name {name[:60]!r}... is longer than {MAX_NAME_BYTES} bytes."
        )
    if name.startswith(("\\\\", "//")):
        raise UnsafeNameError(f"The file name {name!r} is a network (UNC) path.")
    if name.startswith(("/", "\\")):
        raise UnsafeNameError(f"The file name {name!r} is an absolute path.")
    if _DRIVE.match(name):
        raise UnsafeNameError(f"The file name {name!r} names a drive.")
    parts = tuple(name.split("/") if "\\" not in name else _SEPARATORS.split(name))
    controls = _CONTROL.search(name) is not None
    for part in parts:
        if part in ("", "."):
            raise UnsafeNameError(f"The file name {name!r} has an empty or '.' component.")
        if part == "..":
            raise UnsafeNameError(f"The file name {name!r} climbs out of the folder with '..'.")
        if (
            len(part) > _SURELY_SHORT_PART
            and len(part.encode("utf-8", "surrogatepass")) > MAX_COMPONENT_BYTES
        ):
            raise UnsafeNameError(f"A component of {name!r} is longer than 255 bytes.")
        if controls and _CONTROL.search(part):
            raise UnsafeNameError(f"The file name {name!r} contains a control character.")
    if any(p in RESERVED_NAMES for p in parts):
        raise UnsafeNameError(f"The file name {name!r} is reserved for Inlet's resume state.")
    return parts


def normalized_name(name: str) -> str:
    """The canonical ``/``-separated form of a valid name (used as its key in the lock file)."""
    return "/".join(split_name(name))


class FileListChecker:
    """Admits the names of one transfer one by one, refusing those that collide with earlier ones.

    Refused: the same name twice (``a/b`` and ``a\\b`` count as the same), a name that is both a
    file and a folder (``a`` and ``a/b``), and ``x.part`` beside ``x`` (it would be ``x``'s
    unfinished file). Each check costs the depth of the name, so 100,000 names stay linear.
    """

    def __init__(self) -> None:
        self.files: set[str] = set()
        self.folders: set[str] = set()

    def add(self, name: str) -> str:
        """Validate ``name``; return its normalized form, or raise UnsafeNameError."""
        normalized = normalized_name(name)
        if normalized in self.files:
            raise UnsafeNameError(f"The sender listed the file {normalized!r} twice.")
        if normalized in self.folders:
            raise UnsafeNameError(f"The sender listed {normalized!r} both as a file and a folder.")
        parts = normalized.split("/")
        parents = ["/".join(parts[:depth]) for depth in range(1, len(parts))]
        for folder in parents:
            if folder in self.files:
                raise UnsafeNameError(
                    f"The sender listed {folder!r} both as a file and as the folder of "
                    f"{normalized!r}."
                )
        stem = normalized[: -len(PART_SUFFIX)] if normalized.endswith(PART_SUFFIX) else None
        if stem is not None and stem in self.files:
            raise UnsafeNameError(
                f"The file name {normalized!r} collides with the unfinished file of {stem!r}."
            )
        if normalized + PART_SUFFIX in self.files:
            raise UnsafeNameError(
                f"The file name {normalized!r} has the name of another file's unfinished file "
                f"({normalized + PART_SUFFIX!r})."
            )
        self.files.add(normalized)
        self.folders.update(parents)
        return normalized


def validate_file_list(names: list[str]) -> list[str]:
    """Normalize every name of one transfer; refuse the list if any name collides (see
    `FileListChecker`)."""
    checker = FileListChecker()
    return [checker.add(name) for name in names]


def resolve_destination(dest_dir: Path, name: str) -> Path:
    """Return the path for ``name`` inside ``dest_dir``, refusing symlinks on the way.

    A component that already exists as a symlink would let a write escape the folder (ftransfer
    1.0.1 did exactly that), so any symlink among the existing components is refused, even one
    pointing back inside.
    """
    parts = split_name(name)
    dest_dir = Path(dest_dir)
    current = dest_dir
    for part in parts:
        current = current / part
        if current.is_symlink():
            raise UnsafeNameError(
                f"The file name {name!r} goes through the symlink {current.name!r} in the "
                "destination folder."
            )
        if not current.exists():
            break
    target = dest_dir.joinpath(*parts)
    part_file = part_path(target)
    if part_file.is_symlink():
        raise UnsafeNameError(f"The unfinished file for {name!r} is a symlink in the destination.")
    return target


class DestinationResolver:
    """`resolve_destination` for a whole file list, with what it learnt about folders cached.

    The folders of a transfer are shared by many files: each is looked at once (``lstat``), and
    a file in a folder that does not exist yet costs no system call at all. ``resolve`` also
    reports whether something already stands at the target and at its ``.part``, which the
    receiver needs anyway (the overwrite toggle, the resume candidates). Meant for one pass
    over a list: folders created meanwhile are not noticed.
    """

    _DIR, _ABSENT, _OTHER, _SYMLINK = range(4)

    def __init__(self, dest_dir: Path) -> None:
        self.dest_dir = Path(dest_dir)
        self._root = os.fspath(self.dest_dir)
        self._folders: dict[str, int] = {}

    def resolve(self, name: str, parts: tuple[str, ...] | None = None) -> tuple[str, bool, bool]:
        """(target, target exists, ``.part`` exists); raises UnsafeNameError like
        `resolve_destination` (any existing symlink on the way, or at the ``.part``). The
        target is text (a list of 100,000 Path objects costs 60 MB). ``parts``:
        ``split_name(name)`` when the caller has it already."""
        if parts is None:
            parts = split_name(name)
        state = self._DIR
        rel = ""
        for part in parts[:-1]:
            rel = f"{rel}/{part}" if rel else part
            known = self._folders.get(rel)
            if known is None:
                known = self._look(rel) if state == self._DIR else self._ABSENT
                self._folders[rel] = known
            if known == self._SYMLINK:
                raise _through_symlink(name, part)
            state = known
            if state != self._DIR:
                break
        target = os.path.join(self._root, *parts)
        if state != self._DIR:  # a missing folder (or a file in its place) holds nothing
            return target, False, False
        exists = self._exists(target, name, parts[-1])
        part_exists = self._exists(target + PART_SUFFIX, name, None)
        return target, exists, part_exists

    def _look(self, rel: str) -> int:
        try:
            st = os.lstat(os.path.join(self._root, rel))
        except (OSError, ValueError):  # ValueError: a name the file system cannot encode
            return self._ABSENT
        if stat.S_ISLNK(st.st_mode):
            return self._SYMLINK
        return self._DIR if stat.S_ISDIR(st.st_mode) else self._OTHER

    @staticmethod
    def _exists(path: str, name: str, component: str | None) -> bool:
        try:
            st = os.lstat(path)
        except (OSError, ValueError):  # ValueError: a name the file system cannot encode
            return False
        if stat.S_ISLNK(st.st_mode):
            if component is None:
                raise UnsafeNameError(
                    f"The unfinished file for {name!r} is a symlink in the destination."
                )
            raise _through_symlink(name, component)
        return True


def _through_symlink(name: str, component: str) -> UnsafeNameError:
    return UnsafeNameError(
        f"The file name {name!r} goes through the symlink {component!r} in the destination folder."
    )


def part_path(target: Path) -> Path:
    """The ``.part`` sibling that holds ``target`` until its hash is verified."""
    return target.with_name(target.name + PART_SUFFIX)


def conflict_free_path(target: Path) -> Path:
    """``name.ext`` if free, else ``name_1.ext``, ``name_2.ext``, ... (the seed's suffix rule).

    A name counts as taken when anything stands there: a file, a folder or a dangling symlink.
    """
    if not os.path.lexists(target):
        return target
    stem, suffix = _split_suffix(target.name)
    n = 1
    while True:
        candidate = target.with_name(f"{stem}_{n}{suffix}")
        if not os.path.lexists(candidate) and not os.path.lexists(part_path(candidate)):
            return candidate
        n += 1


def _split_suffix(filename: str) -> tuple[str, str]:
    """``archive.tar.gz`` -> (``archive.tar``, ``.gz``); dotfiles keep their whole name as stem."""
    dot = filename.rfind(".")
    if dot <= 0:
        return filename, ""
    return filename[:dot], filename[dot:]
