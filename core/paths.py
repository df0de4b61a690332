"""Where a sender-supplied name may land in the destination folder, and what it is called there.

This is the one place that decides it (invariant 1 in DESIGN.md): a name from the network is
validated component by component, never by searching for ``..`` in the string — ftransfer 1.0.1
did that, which rejected the harmless ``a..b.txt`` and still wrote through a symlink.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
from collections.abc import Iterable
from itertools import compress, repeat
from pathlib import Path

from .errors import UnsafeNameError
from .store.destination import Destination
from .store.folding import PROBE_FILENAME, NameFolding

LOCK_FILENAME = ".transfer_lock.json"
JOURNAL_FILENAME = ".transfer_lock.journal"
WARNINGS_LOG = "transfer_warnings.log"
PART_SUFFIX = ".part"

#: Names Inlet keeps for its own bookkeeping; a sender may not use them at any depth.
RESERVED_NAMES = frozenset(
    {LOCK_FILENAME, JOURNAL_FILENAME, LOCK_FILENAME + ".tmp", PROBE_FILENAME}
)

_DRIVE = re.compile(r"^[A-Za-z]:")
_SEPARATORS = re.compile(r"[/\\]")
_CONTROL = re.compile(r"[\x00-\x1f]")
MAX_NAME_BYTES = 4096
MAX_COMPONENT_BYTES = 255
#: Folders a name may go down. Real trees stay far below; a name 1,200 folders deep (it fits in
#: 4,096 bytes) is an attack on whatever walks it, and refused with a clear message.
MAX_DEPTH = 128
# A code point takes at most 4 bytes in UTF-8 (3 for a lone surrogate): names this short need
# no encoding to know they fit (split_name runs for every file of a transfer).
_SURELY_SHORT_NAME = MAX_NAME_BYTES // 4
_SURELY_SHORT_PART = MAX_COMPONENT_BYTES // 4
_NOT_A_COMPONENT = frozenset({"", ".", ".."})
_WINDOWS = os.name == "nt"  # Windows destinations refuse more names (windows_name_problem)


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
    if len(parts) > MAX_DEPTH + 1:
        raise UnsafeNameError(
            f"The file name {name[:40]!r}... is {len(parts) - 1:,} folders deep; Inlet accepts "
            f"at most {MAX_DEPTH}."
        )
    # The common case costs a few set and C-level checks; the loop below only names the
    # problem (a 1,000,000-file list passes through here before the sender may start).
    controls = _CONTROL.search(name) is not None
    if (
        controls
        or _WINDOWS
        or not _NOT_A_COMPONENT.isdisjoint(parts)
        or not RESERVED_NAMES.isdisjoint(parts)
        or (len(name) > _SURELY_SHORT_PART and max(map(len, parts)) > _SURELY_SHORT_PART)
    ):
        _check_components(name, parts, controls)
    return parts


def _check_components(name: str, parts: tuple[str, ...], controls: bool) -> None:
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
        if _WINDOWS and (problem := windows_name_problem(part)):
            raise UnsafeNameError(f"The file name {name!r} cannot be saved on Windows: {problem}.")
    if not RESERVED_NAMES.isdisjoint(parts):
        raise UnsafeNameError(f"The file name {name!r} is reserved for Inlet's resume state.")


def normalized_name(name: str) -> str:
    """The canonical ``/``-separated form of a valid name (used as its key in the lock file)."""
    return "/".join(split_name(name))


class FileListChecker:
    """Admits the names of one transfer one by one, refusing those that collide with earlier ones.

    Refused: the same name twice (``a/b`` and ``a\\b`` count as the same), a name that is both a
    file and a folder (``a`` and ``a/b``), and ``x.part`` beside ``x`` (it would be ``x``'s
    unfinished file). Each check costs the depth of the name, so 100,000 names stay linear.
    """

    def __init__(self, folding: NameFolding | None = None) -> None:
        self.files: set[str] = set()
        self.folders: set[str] = set()
        #: how the destination compares names; names it considers one are kept apart here
        self.folding = folding if folding is not None and not folding.exact else None
        self._keys: dict[str, str] = {}  # folded name -> the first name listed with it
        #: later name -> the earlier name it collides with in the destination (keep both)
        self.collisions: dict[str, str] = {}

    def add(self, name: str) -> str:
        """Validate ``name``; return its normalized form, or raise UnsafeNameError."""
        parts = split_name(name)
        normalized = name if len(parts) == 1 or "\\" not in name else "/".join(parts)
        if normalized in self.files:
            raise UnsafeNameError(f"The sender listed the file {normalized!r} twice.")
        if normalized in self.folders:
            raise UnsafeNameError(f"The sender listed {normalized!r} both as a file and a folder.")
        folder = normalized.rpartition("/")[0]
        parents: list[str] = []
        if folder and folder not in self.folders:  # a folder new to the list: check its parents
            parents = ["/".join(parts[:depth]) for depth in range(1, len(parts))]
            for parent in parents:
                if parent in self.files:
                    raise UnsafeNameError(
                        f"The sender listed {parent!r} both as a file and as the folder of "
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
        if self.folding is not None:
            key = self.folding.key(normalized)
            earlier = self._keys.setdefault(key, normalized)
            if earlier != normalized:
                self.collisions[normalized] = earlier
        return normalized

    def twin_name(self, name: str) -> str:
        """Where a name that collides with an earlier one lands instead: the first keep-both
        name (``name_1.ext``, ...) that no file of the list shares in this folder."""
        assert self.folding is not None
        for n in range(1, 10_000):
            candidate = suffixed_name(name, n)
            key = self.folding.key(candidate)
            if key not in self._keys:
                self._keys[key] = candidate
                return candidate
        raise UnsafeNameError(f"No free name for {name!r} in this folder.")


#: Every byte but the control characters other than a newline: what ``bytes.translate``
#: deletes to find them (in UTF-8 no other character has a byte below 0x20).
_NOT_CONTROL = bytes([10, *range(32, 256)])
_LETTERS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")


def _has_component(wrapped: str, components: Iterable[str]) -> bool:
    """Whether one of ``components`` is a whole component of a name in ``wrapped`` (the
    names joined by newlines, with one before the first and after the last)."""
    return any(
        f"{before}{c}{after}" in wrapped for c in components for before in "/\n" for after in "/\n"
    )


def _names_a_drive(text: str) -> bool:
    """Whether a name in ``text`` (names joined by newlines) starts like ``C:``."""
    at = text.find(":", 1)
    while at > 0:
        if text[at - 1] in _LETTERS and (at == 1 or text[at - 2] == "\n"):
            return True
        at = text.find(":", at + 1)
    return False


def file_list_is_plain(names: list[str], folding: NameFolding | None = None) -> bool:
    """True when every name of the list is one `FileListChecker` admits as it is: valid,
    already normalized (``/`` only), and colliding with no other (not twice, not both a file
    and a folder, no ``x.part`` beside ``x``, no two the folder compares as one).

    The same checks as ``split_name`` and ``FileListChecker.add``, made on the whole list at
    once: the names joined by newlines (which no valid name holds) and searched at C speed,
    then set operations. A million names took 11 s one by one. False says only that the list
    needs the careful path, which names each problem."""
    if _WINDOWS or not names:
        return not names
    try:
        text = "\n".join(names)
    except TypeError:
        return False
    longest = max(map(len, names))
    if (
        text.count("\n") != len(names) - 1  # a newline in a name (a control character)
        or not all(names)  # an empty name
        or longest > _SURELY_SHORT_NAME  # (its length in bytes is checked one by one)
        or "\\" in text
        or text.encode("utf-8", "surrogatepass").translate(None, _NOT_CONTROL)
        or text.startswith("/")  # absolute
        or "//" in text  # (an empty component)
        or (":" in text and _names_a_drive(text))
        or max(map(str.count, names, repeat("/"))) > MAX_DEPTH
    ):
        return False
    wrapped = f"\n{text}\n"
    if (
        "\n/" in wrapped  # absolute, or an empty component
        or "/\n" in wrapped
        or (("/." in wrapped or "\n." in wrapped) and _has_component(wrapped, (".", "..")))
        or (
            (".transfer_lock" in text or ".inlet-probe" in text)
            and _has_component(wrapped, RESERVED_NAMES)
        )
    ):
        return False
    del wrapped
    parts_listed = PART_SUFFIX + "\n" in text or text.endswith(PART_SUFFIX)
    in_folders = "/" in text
    del text
    if longest > _SURELY_SHORT_PART:  # a component may pass 255 bytes
        for name in names:
            if len(name) > _SURELY_SHORT_PART and any(
                len(part.encode("utf-8", "surrogatepass")) > MAX_COMPONENT_BYTES
                for part in name.split("/")
            ):
                return False
    files = set(names)
    if len(files) != len(names):
        return False  # listed twice
    if in_folders:
        parents = {name.rpartition("/")[0] for name in names if "/" in name}
        folders = set()
        for parent in parents:
            while parent and parent not in folders:
                folders.add(parent)
                parent = parent.rpartition("/")[0]
        if not files.isdisjoint(folders):
            return False  # a file and a folder
    if parts_listed:
        for name in compress(names, map(str.endswith, names, repeat(PART_SUFFIX))):
            if name[: -len(PART_SUFFIX)] in files:
                return False  # another file's unfinished file
    # names the folder compares as one are kept apart as twins
    return folding is None or folding.exact or len(set(map(folding.key, names))) == len(names)


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

    The folders of a transfer are shared by many files: each is looked at once (``lstat``
    through the `Destination`, relative to its held descriptor), and a file in a folder that
    does not exist yet costs no system call at all. ``resolve`` also reports whether something
    already stands at the target and at its ``.part``, which the receiver needs anyway (the
    overwrite toggle, the resume candidates). Meant for one pass over a list: folders created
    meanwhile are not noticed, and nothing here is trusted later — every write walks the name
    again through the `Destination`.
    """

    _DIR, _ABSENT, _OTHER, _SYMLINK = range(4)

    def __init__(self, destination: Destination | Path) -> None:
        if not isinstance(destination, Destination):
            destination = Destination(destination)
        self.destination = destination
        self.dest_dir = destination.root
        self._root = os.fspath(self.dest_dir)
        self._folders: dict[str, int] = {}
        self._parents: dict[str, tuple[int, str | None]] = {}
        self._listings: dict[str, set[str]] = {}
        folding = destination.folding
        self._key = (lambda n: n) if folding.exact else folding.key

    def resolve(
        self, name: str, parts: tuple[str, ...] | None = None, rel: str | None = None
    ) -> tuple[str, bool, bool]:
        """(target, target exists, ``.part`` exists); raises UnsafeNameError like
        `resolve_destination` (any existing symlink on the way, or at the ``.part``). The
        target is text (a list of 100,000 Path objects costs 60 MB). ``parts``:
        ``split_name(name)`` when the caller has it already; ``rel``: where the file lands when
        that is not ``name`` (a keep-both name given up front)."""
        if parts is None:
            parts = split_name(name)
        if rel is not None:
            parts = tuple(rel.split("/"))
        parent = "/".join(parts[:-1])
        cached = self._parents.get(parent)  # files share folders: each is walked once
        if cached is None:
            cached = self._parents[parent] = self._walk(parts[:-1])
        state, symlink = cached
        if symlink is not None:
            raise _through_symlink(name, symlink)
        target = self._root + os.sep + os.sep.join(parts)
        if state != self._DIR:  # a missing folder (or a file in its place) holds nothing
            return target, False, False
        leaf, part_leaf = parts[-1], part_name(parts[-1])
        listing = self._listings.get(parent)
        if listing is None:
            listing = self._listings[parent] = self._list(parent, name, parts)
        key = self._key
        found = part = None
        if key(leaf) in listing or key(part_leaf) in listing:  # stat only what is there
            try:
                with self.destination.folder(parent) as folder:
                    found, part = folder.lstat(leaf), folder.lstat(part_leaf)
            except OSError:  # the folder was swapped for a symlink since it was looked at
                raise _through_symlink(name, parts[-2]) from None
        if part is not None and stat.S_ISLNK(part.st_mode):
            raise UnsafeNameError(
                f"The unfinished file for {name!r} is a symlink in the destination."
            )
        if found is not None and stat.S_ISLNK(found.st_mode):
            raise _through_symlink(name, leaf)
        return target, found is not None, part is not None

    def present(self, names: list[str]) -> dict[int, tuple[bool, bool]] | None:
        """`resolve` for a whole list of plain names (`file_list_is_plain`): for the files that
        something stands at (or at whose ``.part``), index -> (target exists, ``.part``
        exists); None when a name needs `resolve` one by one (a symlink on the way, or at a
        target or ``.part``: it names the problem). A file whose folder is missing or empty
        costs no system call and no Python work beyond one look at its folder."""
        by_folder: dict[str, list[int]] = {}
        if any("/" in name for name in names):
            for i, name in enumerate(names):
                by_folder.setdefault(name.rpartition("/")[0], []).append(i)
        else:
            by_folder[""] = list(range(len(names)))
        found: dict[int, tuple[bool, bool]] = {}
        key = self._key
        for parent, indices in by_folder.items():
            parts = tuple(parent.split("/")) if parent else ()
            cached = self._parents.get(parent)
            if cached is None:
                cached = self._parents[parent] = self._walk(parts)
            state, symlink = cached
            if symlink is not None:
                return None
            if state != self._DIR:
                continue
            first = names[indices[0]]
            listing = self._listings.get(parent)
            if listing is None:
                try:
                    listing = self._listings[parent] = self._list(parent, first, (*parts, ""))
                except UnsafeNameError:
                    return None
            if not listing:
                continue
            cut = len(parent) + 1 if parent else 0
            for i in indices:
                leaf = names[i][cut:]
                if key(leaf) in listing or key(part_name(leaf)) in listing:
                    try:
                        _, exists, has_part = self.resolve(names[i], (*parts, leaf))
                    except UnsafeNameError:
                        return None
                    found[i] = (exists, has_part)
        return found

    def _list(self, parent: str, name: str, parts: tuple[str, ...]) -> set[str]:
        """The names in ``parent`` (as the folder compares them): one listing per folder
        instead of two stats per file, for a list of a million files into one folder."""
        try:
            with self.destination.folder(parent) as folder:
                return {self._key(n) for n in folder.names()}
        except OSError:  # the folder was swapped for a symlink since it was looked at
            raise _through_symlink(name, parts[-2] if len(parts) > 1 else parts[-1]) from None

    def _walk(self, folders: tuple[str, ...]) -> tuple[int, str | None]:
        """(state of the folder, the symlink component on the way or None)."""
        state = self._DIR
        folder = ""
        for part in folders:
            folder = f"{folder}/{part}" if folder else part
            known = self._folders.get(folder)
            if known is None:
                known = self._look(folder) if state == self._DIR else self._ABSENT
                self._folders[folder] = known
            if known == self._SYMLINK:
                return known, part
            state = known
            if state != self._DIR:
                break
        return state, None

    def _look(self, rel: str) -> int:
        try:
            st = self.destination.lstat(rel)
        except OSError:  # a symlink swapped in on the way meanwhile
            return self._SYMLINK
        if st is None:
            return self._ABSENT
        if stat.S_ISLNK(st.st_mode):
            return self._SYMLINK
        return self._DIR if stat.S_ISDIR(st.st_mode) else self._OTHER


def _through_symlink(name: str, component: str) -> UnsafeNameError:
    return UnsafeNameError(
        f"The file name {name!r} goes through the symlink {component!r} in the destination folder."
    )


def fit_component(stem: str, suffix: str) -> str:
    """``stem + suffix``, with the stem cut (at a character boundary) and marked with a short
    hash of the whole when the result would pass 255 bytes: a 251-255-byte name then still has
    a ``.part`` and a ``_1`` twin that the file system accepts."""
    whole = stem + suffix
    if len(whole) <= MAX_COMPONENT_BYTES // 4:  # (a code point is at most 4 bytes in UTF-8)
        return whole
    encoded = whole.encode("utf-8", "surrogatepass")
    if len(encoded) <= MAX_COMPONENT_BYTES:
        return whole
    mark = "~" + hashlib.sha256(encoded).hexdigest()[:8]
    room = MAX_COMPONENT_BYTES - len((mark + suffix).encode("utf-8", "surrogatepass"))
    cut = stem.encode("utf-8", "surrogatepass")[: max(room, 0)]
    return cut.decode("utf-8", "ignore") + mark + suffix


def part_name(rel: str) -> str:
    """The relative name of the ``.part`` that holds ``rel`` until it is verified."""
    folder, _, leaf = rel.rpartition("/")
    part = fit_component(leaf, PART_SUFFIX)
    return f"{folder}/{part}" if folder else part


def part_path(target: Path) -> Path:
    """The ``.part`` sibling that holds ``target`` until its hash is verified."""
    return target.with_name(fit_component(target.name, PART_SUFFIX))


def suffixed_name(rel: str, n: int) -> str:
    """``name_N.ext`` for ``rel`` (the seed's keep-both rule), fitted to 255 bytes."""
    folder, _, leaf = rel.rpartition("/")
    stem, suffix = _split_suffix(leaf)
    named = fit_component(f"{stem}_{n}", suffix)
    return f"{folder}/{named}" if folder else named


def is_suffixed_twin(candidate: str, rel: str, limit: int = 10_000) -> bool:
    """True when ``candidate`` is ``rel`` itself or a keep-both name Inlet could have given it
    (``name_N.ext``): a lock whose final path names any other file is not to be trusted."""
    if candidate == rel:
        return True
    folder, _, leaf = candidate.rpartition("/")
    if folder != rel.rpartition("/")[0]:
        return False
    stem, suffix = _split_suffix(rel.rpartition("/")[2])
    head = f"{folder}/" if folder else ""
    match = re.fullmatch(re.escape(stem) + r"_([1-9][0-9]{0,5})" + re.escape(suffix), leaf)
    if match is not None:
        return int(match.group(1)) <= limit
    # a fitted (shortened) twin: check the numbers it could be
    return any(suffixed_name(rel, n) == head + leaf for n in range(1, 1001))


#: Names Windows refuses whatever the extension (``NUL.txt`` is the device NUL).
_WINDOWS_DEVICES = frozenset(
    {"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"}
    | {
        f"{kind}{n}"
        for kind in ("COM", "LPT")
        for n in (*"123456789", "\u00b9", "\u00b2", "\u00b3")
    }
)
_WINDOWS_FORBIDDEN = re.compile(r'[<>:"|?*]')


def windows_name_problem(component: str) -> str | None:
    """Why Windows cannot store ``component`` (None when it can); checked on every platform,
    applied on Windows destinations."""
    if _WINDOWS_FORBIDDEN.search(component):
        return f'{component!r} contains one of the characters <>:"|?* that Windows refuses'
    if component.endswith((".", " ")):
        return f"{component!r} ends with a dot or a space, which Windows drops"
    device = component.split(".", 1)[0].rstrip(" ").upper()
    if device in _WINDOWS_DEVICES:
        return f"{component!r} is the name of a Windows device ({device})"
    return None


def _split_suffix(filename: str) -> tuple[str, str]:
    """``archive.tar.gz`` -> (``archive.tar``, ``.gz``); dotfiles keep their whole name as stem."""
    dot = filename.rfind(".")
    if dot <= 0:
        return filename, ""
    return filename[:dot], filename[dot:]
