"""`Destination`: the one object that touches the destination folder (invariant 1 of DESIGN.md).

Checking a path and opening it later by name is a race: a local user who can write into the
folder swaps a folder for a symlink in between, and the write lands outside. So the folder is
opened once and held as a directory descriptor, and every operation walks its name one component
at a time relative to descriptors, never following a symlink (``O_NOFOLLOW``/``O_DIRECTORY``
on each folder, ``follow_symlinks=False`` for stat, link and rename). A file is opened without
blocking (a FIFO planted as ``name.part`` cannot hang the receiver) and checked to be a regular
file; a file taken over from an earlier session must also have exactly one link (a hard link
planted as ``name.part`` would make Inlet write into a file outside).

Where the platform has no ``dir_fd`` (Windows), each operation checks every component with
``lstat`` first and compares the opened handle's identity with the checked path afterwards: the
closest guarantee without descriptors (a swap in the few microseconds between is not caught).

Names given to these methods are relative, ``/``-separated and already validated by
``core.paths.split_name``; `Destination` guards how they are reached, not what they say.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import stat
from collections.abc import Iterable
from pathlib import Path

from ..errors import InletError
from .folding import NameFolding, probe_folding

_O_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_O_DIRECTORY = getattr(os, "O_DIRECTORY", 0)
_O_NONBLOCK = getattr(os, "O_NONBLOCK", 0)
_O_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_O_BINARY = getattr(os, "O_BINARY", 0)
_DIR_FLAGS = os.O_RDONLY | _O_DIRECTORY | _O_NOFOLLOW | _O_CLOEXEC
_FILE_FLAGS = _O_NOFOLLOW | _O_NONBLOCK | _O_CLOEXEC | _O_BINARY
#: Every call Inlet makes relative to a descriptor; without all of them, the checked fallback.
_DIR_FD_CALLS = {os.open, os.mkdir, os.stat, os.unlink, os.rename, os.link, os.rmdir}
HAVE_DIR_FD = os.supports_dir_fd >= _DIR_FD_CALLS and bool(_O_NOFOLLOW and _O_DIRECTORY)
# link() fails with these where the file system has no hard links: fall back to a rename.
_NO_HARDLINKS = frozenset(
    e
    for e in (
        errno.EPERM,
        getattr(errno, "ENOTSUP", None),
        getattr(errno, "EOPNOTSUPP", None),
        errno.EXDEV,
        errno.EMLINK,
        getattr(errno, "ENOSYS", None),
    )
    if e is not None
)


class EscapeError(OSError):
    """A component on the way is a symlink (or a file where a folder should be): following it
    could leave the destination, so the operation is refused."""


class NotRegularFileError(OSError):
    """Something other than a regular file (a FIFO, a device, a folder, a symlink) stands where
    Inlet expected one of its files."""


class SharedFileError(OSError):
    """A file Inlet would take over has more than one hard link: writing to it would change
    another file, perhaps outside the destination."""


class DestinationGoneError(InletError):
    """The destination folder was moved or deleted while a transfer ran."""

    hint = (
        "Nothing was written anywhere else. If you moved the folder, receive again into its new "
        "place to resume; otherwise choose a folder and receive again."
    )


class Destination:
    """The destination folder, held open; every file-system operation inside it goes here.

    ``use_dir_fd=False`` forces the checked fallback (tests run it on every platform).
    ``folding`` says how the folder compares names (None: probed on first use of `folding`).
    """

    def __init__(
        self,
        root: str | os.PathLike[str],
        *,
        create: bool = False,
        use_dir_fd: bool = HAVE_DIR_FD,
        folding: NameFolding | None = None,
    ) -> None:
        self.root = Path(root).expanduser().absolute()
        text = os.fspath(self.root)
        self._prefix = text if text.endswith(os.sep) else text + os.sep  # for `path_text`
        self._use_fd = use_dir_fd
        self._fd: int | None = None
        self._identity: tuple[int, int] | None = None
        self._folding = folding
        if create:
            self.root.mkdir(parents=True, exist_ok=True)  # the person's choice: may not exist yet
        self._open_root()

    def _open_root(self) -> None:
        st = os.stat(self.root)  # the root itself may be a symlink the person chose
        if not stat.S_ISDIR(st.st_mode):
            raise NotADirectoryError(errno.ENOTDIR, "not a folder", str(self.root))
        if self._use_fd:
            self._fd = os.open(self.root, os.O_RDONLY | _O_DIRECTORY | _O_CLOEXEC)
            st = os.fstat(self._fd)
        self._identity = (st.st_dev, st.st_ino)

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> Destination:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        with contextlib.suppress(Exception):
            self.close()

    # ----------------------------------------------------------------- what it is
    def path(self, rel: str = "") -> Path:
        """Where ``rel`` is, for showing a person (never for opening it)."""
        return self.root.joinpath(*rel.split("/")) if rel else self.root

    def path_text(self, rel: str) -> str:
        """`path` as text, without making a `Path` (one per file received: pathlib's parsing
        was 8 % of a 10,000-file receive). ``rel`` is a checked name (no empty, ``.`` or
        ``..`` component), so joining is all `path` would do."""
        if not rel:
            return os.fspath(self.root)
        return self._prefix + (rel if os.sep == "/" else rel.replace("/", os.sep))

    @property
    def folding(self) -> NameFolding:
        """How this folder compares names (probed once, as git does for ``core.ignorecase``)."""
        if self._folding is None:
            self._folding = probe_folding(self)
        return self._folding

    def check_present(self) -> None:
        """Raise `DestinationGoneError` when the folder's path no longer names the folder held
        open (moved away, deleted, or replaced), so nothing is ever re-created at the old path."""
        assert self._identity is not None
        try:
            st = os.stat(self.root)
            held = os.fstat(self._fd) if self._fd is not None else st
        except OSError:
            st = held = None
        if (
            st is None
            or (st.st_dev, st.st_ino) != self._identity
            or held is None
            or held.st_nlink == 0
        ):
            raise DestinationGoneError(
                f"The destination folder {self.root} was moved or deleted during the transfer."
            )

    # ----------------------------------------------------------------- walking
    def folder(self, rel_folder: str, *, create: bool = False) -> Folder:
        """The folder ``rel_folder`` ("" for the destination itself), walked to now, one
        component at a time, never through a symlink; ``create`` makes what is missing.

        A `Folder` is for one logical operation (name a file: stat, rename, stat again) and
        is closed right after (``with``): holding it longer would let writes follow the
        folder if someone moved it out of the destination meanwhile."""
        folders = rel_folder.split("/") if rel_folder else []
        if not self._use_fd:
            return Folder(None, self._checked_path(folders, create), False)
        root = self._fd
        assert root is not None, "the destination is closed"
        fd = root
        try:  # the common case, inline (twice per file received): every folder is there
            for name in folders:
                inner = os.open(name, _DIR_FLAGS, dir_fd=fd)
                if fd != root:
                    os.close(fd)
                fd = inner
        except OSError:  # missing, a symlink, a file: walked again step by step, to say which
            if fd != root:
                os.close(fd)
            fd = root
            for name in folders:
                fd = self._enter(fd, name, create)
        return Folder(fd, None, fd != root)

    def _leaf(self, rel: str, *, create: bool = False) -> tuple[Folder, str]:
        folder, _, leaf = rel.rpartition("/")
        return self.folder(folder, create=create), leaf

    def _enter(self, fd: int, name: str, create: bool) -> int:
        """Open folder ``name`` inside ``fd`` without following a symlink; closes ``fd``."""
        try:
            try:
                return os.open(name, _DIR_FLAGS, dir_fd=fd)
            except FileNotFoundError:
                if not create:
                    raise
                with contextlib.suppress(FileExistsError):
                    os.mkdir(name, 0o777, dir_fd=fd)
                return os.open(name, _DIR_FLAGS, dir_fd=fd)
            except OSError as err:
                if err.errno in (errno.ELOOP, errno.ENOTDIR, errno.EMLINK):
                    raise _not_a_folder(fd, name) from err
                raise
        finally:
            if fd != self._fd:
                os.close(fd)

    def _checked_path(self, folders: list[str], create: bool) -> str:
        """The fallback walk: every folder on the way must be a real folder (lstat)."""
        current = os.fspath(self.root)
        for name in folders:
            current = os.path.join(current, name)
            try:
                st = os.lstat(current)
            except FileNotFoundError:
                if not create:
                    raise
                with contextlib.suppress(FileExistsError):
                    os.mkdir(current)
                st = os.lstat(current)
            if not stat.S_ISDIR(st.st_mode) or stat.S_ISLNK(st.st_mode):
                raise _not_a_folder(None, current)
        return current

    # ----------------------------------------------------------------- one name at a time
    def lstat(self, rel: str) -> os.stat_result | None:
        """What stands at ``rel`` (a symlink is reported, not followed); None when nothing does.

        A symlink among the folders on the way raises `EscapeError`."""
        try:
            folder, leaf = self._leaf(rel)
        except (FileNotFoundError, NotADirectoryError):
            return None
        with folder:
            return folder.lstat(leaf)

    def exists(self, rel: str) -> bool:
        return self.lstat(rel) is not None

    def is_folder(self, rel: str) -> bool:
        st = self.lstat(rel)
        return st is not None and stat.S_ISDIR(st.st_mode)

    def open(
        self,
        rel: str,
        flags: int = os.O_RDONLY,
        *,
        mode: int = 0o644,
        create_folders: bool = False,
        single_link: bool = False,
    ) -> int:
        """Open the regular file at ``rel`` (a raw descriptor the caller closes); see
        `Folder.open`."""
        folder, leaf = self._leaf(rel, create=create_folders)
        with folder:
            return folder.open(leaf, flags, mode=mode, single_link=single_link)

    def create(self, rel: str, *, mode: int = 0o644, replace: bool = False) -> int:
        """Create ``rel`` exclusively for writing, making its folders; see `Folder.create`."""
        folder, leaf = self._leaf(rel, create=True)
        with folder:
            return folder.create(leaf, mode=mode, replace=replace)

    def sha256(self, rel: str, size: int | None = None) -> str | None:
        """SHA-256 of the regular file at ``rel`` (None when there is none, it cannot be read,
        or it does not hold exactly ``size`` bytes); see `Folder.sha256`."""
        try:
            folder, leaf = self._leaf(rel)
        except OSError:
            return None
        with folder:
            return folder.sha256(leaf, size)

    def read_bytes(self, rel: str) -> bytes:
        fd = self.open(rel)
        try:
            chunks = []
            while block := os.read(fd, 1 << 20):
                chunks.append(block)
            return b"".join(chunks)
        finally:
            os.close(fd)

    def append(self, rel: str, data: bytes) -> None:
        """Append to a bookkeeping file (created if missing), never through a link."""
        fd = self.open(rel, os.O_WRONLY | os.O_APPEND | os.O_CREAT, single_link=True)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
        finally:
            os.close(fd)

    def unlink(self, rel: str) -> bool:
        """Remove the file (or symlink) at ``rel``; never a folder. False when nothing was there."""
        folder, leaf = self._leaf(rel)
        with folder:
            return folder.unlink(leaf)

    def make_folders(self, rel_folder: str) -> None:
        """Create ``rel_folder`` and its parents (iteratively: depth is no recursion)."""
        if rel_folder:
            self.folder(rel_folder, create=True).close()

    def rename(self, src: str, dst: str, *, replace: bool) -> None:
        """Move ``src`` to ``dst`` inside the destination (both in one folder); see
        `Folder.rename`."""
        src_folder, src_leaf = src.rpartition("/")[::2]
        dst_folder, dst_leaf = dst.rpartition("/")[::2]
        if src_folder != dst_folder:
            raise ValueError("Inlet renames within one folder only")
        with self.folder(src_folder) as folder:
            folder.rename(src_leaf, dst_leaf, replace=replace)

    # ----------------------------------------------------------------- durability
    def fsync(self, rel: str) -> None:
        """fsync one file (raises OSError, e.g. ENOSPC for data that could not be written)."""
        flags = os.O_RDWR if os.name == "nt" else os.O_RDONLY
        fd = self.open(rel, flags)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def sync_folder(self, rel_folder: str = "") -> None:
        """Make renames in a folder durable (POSIX; Windows needs and allows no such step)."""
        if os.name == "nt":
            return
        try:
            with self.folder(rel_folder) as folder:
                folder.sync()
        except OSError:
            pass  # a folder that cannot be synced is no reason to stop

    def syncfs_fd(self) -> int | None:
        """The held descriptor, for a sync of the whole file system (``core/store/durable``)."""
        return self._fd

    def unlink_all(self, rels: Iterable[str]) -> None:
        for rel in rels:
            with contextlib.suppress(OSError):
                self.unlink(rel)


class Folder:
    """One folder inside the destination, reached by `Destination.folder` for one operation:
    every method works on a single name in it, relative to its descriptor, never following a
    symlink (in the fallback: by checked path, comparing identities after opening)."""

    __slots__ = ("_fd", "_owned", "_path")

    def __init__(self, fd: int | None, path: str | None, owned: bool) -> None:
        self._fd, self._path, self._owned = fd, path, owned

    def __enter__(self) -> Folder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._owned and self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def _at(self, leaf: str) -> str:
        return leaf if self._path is None else os.path.join(self._path, leaf)

    def names(self) -> list[str]:
        """The names in this folder."""
        return os.listdir(self._fd if self._fd is not None else self._path)

    def lstat(self, leaf: str) -> os.stat_result | None:
        """What stands at ``leaf`` (a symlink is reported, not followed); None when nothing."""
        at = leaf if self._path is None else os.path.join(self._path, leaf)
        try:
            return os.stat(at, dir_fd=self._fd, follow_symlinks=False)
        except (FileNotFoundError, NotADirectoryError, ValueError):  # ValueError: unencodable
            return None

    def open(
        self, leaf: str, flags: int = os.O_RDONLY, *, mode: int = 0o644, single_link: bool = False
    ) -> int:
        """Open the regular file ``leaf`` (a raw descriptor the caller closes).

        Never follows a symlink, never blocks on a FIFO; anything but a regular file raises
        `NotRegularFileError`, and with ``single_link`` a file with other hard links raises
        `SharedFileError` (a ``.part`` or bookkeeping file Inlet takes over)."""
        at = self._at(leaf)
        try:
            fd = os.open(at, flags | _FILE_FLAGS, mode, dir_fd=self._fd)
        except OSError as err:
            # ELOOP: a symlink; EISDIR: a folder; ENXIO: a FIFO nobody reads
            if err.errno in (errno.ELOOP, errno.EISDIR, errno.ENXIO):
                raise NotRegularFileError(err.errno, "not a regular file", leaf) from err
            raise
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode):
                raise NotRegularFileError(errno.EINVAL, "not a regular file", leaf)
            if single_link and st.st_nlink != 1:
                raise SharedFileError(errno.EMLINK, f"it has {st.st_nlink} hard links", leaf)
            if self._fd is None:  # the fallback: the handle must be the file checked
                checked = os.lstat(at)
                if (checked.st_dev, checked.st_ino) != (st.st_dev, st.st_ino):
                    raise EscapeError(errno.ELOOP, "changed while opened", at)
        except BaseException:
            os.close(fd)
            raise
        return fd

    def sha256(self, leaf: str, size: int | None = None) -> str | None:
        """SHA-256 of the regular file ``leaf``, read in 1 MiB blocks; None when there is none,
        it cannot be read, or it does not hold exactly ``size`` bytes."""
        try:
            fd = self.open(leaf)
        except OSError:
            return None
        try:
            if size is not None and os.fstat(fd).st_size != size:
                return None
            digest = hashlib.sha256()
            while block := os.read(fd, 1 << 20):
                digest.update(block)
        except OSError:
            return None
        finally:
            os.close(fd)
        return digest.hexdigest()

    def create(self, leaf: str, *, mode: int = 0o644, replace: bool = False) -> int:
        """Create ``leaf`` exclusively (``O_EXCL``) for writing.

        ``replace``: remove what stands there first (a stale file or a symlink; never a folder,
        a FIFO or a device, which raise); without it an existing name raises FileExistsError,
        which is how a second file that the folder considers the same name is caught."""
        if replace:
            st = self.lstat(leaf)
            if st is not None and not (stat.S_ISREG(st.st_mode) or stat.S_ISLNK(st.st_mode)):
                if stat.S_ISDIR(st.st_mode):
                    raise IsADirectoryError(errno.EISDIR, "a folder stands there", leaf)
                # a FIFO, a device, a socket: not Inlet's, and not to be removed by it
                raise NotRegularFileError(errno.EINVAL, "not a regular file", leaf)
            if st is not None:
                self.unlink(leaf)
        if self._fd is None:  # the fallback: compare the handle with the checked path
            return self.open(leaf, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode=mode)
        # O_CREAT | O_EXCL either makes a new regular file with one link or fails (EEXIST
        # for anything standing there, a symlink included): nothing left to check.
        return os.open(
            leaf, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _FILE_FLAGS, mode, dir_fd=self._fd
        )

    def unlink(self, leaf: str) -> bool:
        """Remove the file (or symlink) ``leaf``; never a folder. False when nothing was there."""
        at = self._at(leaf)
        try:
            os.unlink(at, dir_fd=self._fd)
        except FileNotFoundError:
            return False
        except PermissionError:
            st = os.stat(at, dir_fd=self._fd, follow_symlinks=False)
            if stat.S_ISDIR(st.st_mode):  # POSIX reports EPERM for a folder
                raise IsADirectoryError(errno.EISDIR, "is a folder", leaf) from None
            raise
        return True

    def rename(self, src: str, dst: str, *, replace: bool) -> None:
        """Move ``src`` to ``dst`` in this folder.

        ``replace``: an existing file at ``dst`` is replaced (never a folder: that fails).
        Otherwise FileExistsError when anything stands at ``dst``: the name is claimed with
        ``link`` (which fails if it exists) and the old name dropped; file systems without hard
        links fall back to a checked rename."""
        fd = self._fd
        s, d = (src, dst) if self._path is None else (self._at(src), self._at(dst))
        if replace:
            os.replace(s, d, src_dir_fd=fd, dst_dir_fd=fd)
            return
        try:
            if fd is None:
                os.link(s, d)
            else:
                os.link(s, d, src_dir_fd=fd, dst_dir_fd=fd, follow_symlinks=False)
        except FileExistsError:
            raise
        except OSError as err:
            if err.errno not in _NO_HARDLINKS:
                raise
            if self.lstat(dst) is not None:
                raise FileExistsError(errno.EEXIST, "exists", dst) from err
            os.rename(s, d, src_dir_fd=fd, dst_dir_fd=fd)
            return
        with contextlib.suppress(FileNotFoundError):
            os.unlink(s, dir_fd=fd)

    def sync(self) -> None:
        """fsync the folder itself (makes renames in it durable on POSIX)."""
        fd = self._fd if self._fd is not None else os.open(self._path or ".", os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            if self._fd is None:
                os.close(fd)


def _not_a_folder(fd: int | None, name: str) -> OSError:
    try:
        st = os.stat(name, dir_fd=fd, follow_symlinks=False)
    except OSError:
        st = None
    if st is not None and stat.S_ISLNK(st.st_mode):
        return EscapeError(errno.ELOOP, f"{os.path.basename(name)!r} is a symlink", name)
    return NotADirectoryError(
        errno.ENOTDIR, f"a file stands where the folder {os.path.basename(name)!r} should be"
    )
