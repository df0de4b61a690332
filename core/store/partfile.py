"""`PartFile`: one incoming file's ``name.part`` in the destination, and its naming.

The bytes of a file stay in its ``.part`` until they are verified; then the ``.part`` becomes
the file. Everything here goes through the folder's `Destination` (nothing followed), and the
``.part`` is always the same file: created exclusively, or taken over from an earlier session
only as a regular file with one link, and recognised by its identity (device, inode) each
time it is opened again. It hashes a held prefix when asked (`prefix_hash`, `prefix_hashes`,
for a resume) but keeps no status, no hash and no lock: the `FileWriter` decides what the
bytes mean and turns the errors raised here into a reason for the file.
"""

from __future__ import annotations

import errno
import hashlib
import os
import stat
from collections.abc import Callable

from ..errors import is_disk_full
from ..paths import part_name, suffixed_name
from .destination import Destination, Folder, SharedFileError

READ_CHUNK = 1 << 20


def prefix_hash(fd: int, length: int) -> hashlib._Hash | None:
    """SHA-256 of the first ``length`` bytes read from ``fd`` (opened at its start); None when
    the file ends before (it shrank while it was read)."""
    hasher = hashlib.sha256()
    left = length
    while left:
        block = os.read(fd, min(READ_CHUNK, left))
        if not block:
            return None
        hasher.update(block)
        left -= len(block)
    return hasher


def prefix_hashes(fd: int, limit: int, checkpoint: int) -> dict[int, hashlib._Hash]:
    """SHA-256 of what ``fd`` holds up to ``limit`` bytes, and of its first ``checkpoint``
    bytes on the way, in one read: ``{length: hash}`` (empty when it holds nothing)."""
    hashes: dict[int, hashlib._Hash] = {}
    hasher = hashlib.sha256()
    done = 0
    while done < limit:
        step = limit - done
        if 0 < checkpoint - done < step:
            step = checkpoint - done  # stop at the checkpoint to keep its hash
        block = os.read(fd, min(READ_CHUNK, step))
        if not block:
            break
        hasher.update(block)
        done += len(block)
        if done == checkpoint:
            hashes[done] = hasher.copy()
    if done:
        hashes[done] = hasher
    return hashes


class PartChanged(Exception):
    """The ``.part`` is no longer the file this writer wrote (someone else touched it)."""


class PartFile:
    """The ``.part`` of ``target`` (relative to ``destination``)."""

    __slots__ = ("destination", "identity", "rel", "target")

    def __init__(self, destination: Destination, target: str) -> None:
        self.destination = destination
        self.target = target
        self.rel = part_name(target)
        #: (device, inode) of the .part made or taken over; None while there is none
        self.identity: tuple[int, int] | None = None

    @property
    def made(self) -> bool:
        return self.identity is not None

    def stat(self) -> os.stat_result | None:
        try:
            return self.destination.lstat(self.rel)
        except OSError:
            return None

    def create(self, *, replace: bool, keep_open: bool = False) -> int | None:
        """Create it exclusively, with its folders; the descriptor if ``keep_open``.

        ``replace``: a ``.part`` standing there is stale and is removed first; without it
        one standing there raises ``FileExistsError``. The Destination's errors pass through
        (a file where a folder should be, a symlinked folder, a non-regular file)."""
        fd = self.destination.create(self.rel, replace=replace)
        try:
            self._remember(os.fstat(fd))
        except BaseException:
            os.close(fd)
            raise
        if keep_open:
            return fd
        os.close(fd)
        return None

    def take_over(self) -> int:
        """Open the ``.part`` an earlier session left, for reading and cutting back: a regular
        file with one link (a hard link planted there would point outside)."""
        try:
            fd = self.destination.open(self.rel, os.O_RDWR, single_link=True)
        except SharedFileError:
            if not self._linked_to_own_target():
                raise
            fd = self.destination.open(self.rel, os.O_RDWR)
        self._remember(os.fstat(fd))
        return fd

    def _linked_to_own_target(self) -> bool:
        """Its one other link is the file's own final name: killed between the link that names
        a verified file and the unlink of its ``.part`` (`Destination.rename`)."""
        try:
            part, final = self.destination.lstat(self.rel), self.destination.lstat(self.target)
        except OSError:
            return False
        return (
            part is not None
            and final is not None
            and part.st_nlink == 2
            and (part.st_dev, part.st_ino) == (final.st_dev, final.st_ino)
        )

    def open(self, flags: int) -> int:
        """Open the ``.part`` made or taken over; `PartChanged` if it is not that file any more
        (replaced, or another file of the transfer now has its name)."""
        fd = self.destination.open(self.rel, flags)
        st = os.fstat(fd)
        if self.identity is not None and (st.st_dev, st.st_ino) != self.identity:
            os.close(fd)
            raise PartChanged("its .part was replaced by another file meanwhile")
        if self.identity is None and st.st_nlink != 1:
            os.close(fd)
            raise PartChanged(f"its .part has {st.st_nlink} hard links")
        self._remember(st)
        return fd

    def _remember(self, st: os.stat_result) -> None:
        self.identity = (st.st_dev, st.st_ino)

    def write_at(self, position: int, view: memoryview, fd: int | None = None) -> None:
        """Write at ``position`` and close: no handle outlives the call.

        ``fd``: the descriptor `create` kept open for a fresh file's first write (empty: made
        exclusively just now); otherwise the ``.part`` is opened and checked to be still this
        file. Leftovers of a failed write beyond ``position`` are cut off, so they can never
        shift what the hash describes.
        """
        fresh = fd is not None
        if fd is None:
            fd = self.open(os.O_WRONLY)
        try:
            held = 0 if fresh else os.fstat(fd).st_size
            if held < position:
                raise PartChanged(
                    f"its .part shrank to {held} bytes while {position} were held "
                    "(changed by another program?)"
                )
            if held > position:
                os.ftruncate(fd, position)
            if position:
                os.lseek(fd, position, os.SEEK_SET)
            while view:
                done = os.write(fd, view)
                view = view[done:]
        finally:
            os.close(fd)

    def cut_back(self, length: int) -> None:
        """Drop everything after the first ``length`` bytes."""
        fd = self.open(os.O_WRONLY)
        try:
            if os.fstat(fd).st_size > length:
                os.ftruncate(fd, length)
        finally:
            os.close(fd)

    def remove(self) -> None:
        """Delete it (for a retry: the next write makes a new one)."""
        self.identity = None
        self.destination.unlink(self.rel)

    # ----------------------------------------------------------------- naming
    def name_file(
        self,
        size: int,
        *,
        overwrite: bool,
        sync: bool,
        own_sha256: str | None,
        log: Callable[[str], None],
    ) -> tuple[str, os.stat_result | None]:
        """Make the ``.part`` the file: exactly ``size`` bytes, durable if ``sync``, moved to its
        final name following the overwrite choice (invariant 3). One walk to the folder for
        the whole naming. Returns the final name (relative to the destination) and its stat.

        ``own_sha256``: when resuming, the hash of these bytes, so a file under the final name
        that holds exactly them is recognised as this file's own earlier result.

        The stat returned (for the lock's proof) is the one taken of the ``.part`` when it was
        checked to be this writer's file: a link or rename keeps its size, mtime and inode, and
        a file swapped in between the check and the rename then fails the proof on resume (and
        is hashed again) instead of being vouched for.
        """
        folder_rel, _, leaf = self.rel.rpartition("/")
        with self.destination.folder(folder_rel) as folder:
            st: os.stat_result | None = self._prepare(folder, leaf, size, sync=sync)
            final_leaf, ours = self._place(folder, leaf, size, overwrite, own_sha256, log)
            if not ours:  # a file standing there already held these bytes: its own stat
                st = folder.lstat(final_leaf)
        return (f"{folder_rel}/{final_leaf}" if folder_rel else final_leaf), st

    def _prepare(self, folder: Folder, leaf: str, size: int, *, sync: bool) -> os.stat_result:
        """Check that the ``.part`` is this writer's and holds ``size`` bytes (cut back when
        longer), fsync it if ``sync``; its stat."""
        if self.identity is None:
            raise PartChanged("its .part is gone")
        if not sync:  # one stat in the common case (a group sync made the bytes durable)
            st = folder.lstat(leaf)
            if st is None:
                raise PartChanged("its .part is gone")
            if (st.st_dev, st.st_ino) != self.identity:
                raise PartChanged("its .part was replaced by another file meanwhile")
            if st.st_size == size:
                return st
        fd = folder.open(leaf, os.O_RDWR)
        try:
            st = os.fstat(fd)
            if (st.st_dev, st.st_ino) != self.identity:
                raise PartChanged("its .part was replaced by another file meanwhile")
            if st.st_size < size:
                raise PartChanged(f"its .part holds {st.st_size} of the {size} bytes written")
            if st.st_size > size:
                os.ftruncate(fd, size)
                st = os.fstat(fd)  # (the cut changed its mtime)
            if sync:
                os.fsync(fd)
        finally:
            os.close(fd)
        return st

    def _place(
        self,
        folder: Folder,
        leaf: str,
        size: int,
        overwrite: bool,
        own_sha256: str | None,
        log: Callable[[str], None],
    ) -> tuple[str, bool]:
        """The final name taken, and whether it is this ``.part``'s file (not an earlier
        copy of the same bytes, kept)."""
        target = self.target.rpartition("/")[2]
        if overwrite:
            st = folder.lstat(target)
            if st is not None and stat.S_ISDIR(st.st_mode):
                log(f"a folder stands at {self.target}; the file keeps a suffixed name")
                return self._claim_free_name(folder, leaf, target, size, own_sha256, log)
            try:
                folder.rename(leaf, target, replace=True)
                return target, True
            except OSError as err:
                if is_disk_full(err):
                    raise
                log(f"could not replace {self.target} ({err.strerror or err})")
        return self._claim_free_name(folder, leaf, target, size, own_sha256, log)

    def _claim_free_name(
        self,
        folder: Folder,
        leaf: str,
        target: str,
        size: int,
        own_sha256: str | None,
        log: Callable[[str], None],
    ) -> tuple[str, bool]:
        """``target`` or the first free ``name_N.ext``, taken without replacing anything
        (see `_place` for what is returned)."""
        if own_sha256 is not None and folder.sha256(target, size) == own_sha256:
            # A crash after our own rename (or between link and unlink) but before the lock
            # said "completed": a name_1 copy would be a duplicate.
            log(f"{self.target} already holds exactly these verified bytes; kept it")
            folder.unlink(leaf)
            return target, False
        for n in range(1000):
            candidate = target if n == 0 else suffixed_name(target, n)
            # (the name itself needs no look first: the rename refuses an existing one)
            if n and (
                folder.lstat(candidate) is not None
                or folder.lstat(part_name(candidate)) is not None
            ):
                continue
            try:
                folder.rename(leaf, candidate, replace=False)
            except FileExistsError:
                continue  # taken (perhaps meanwhile): look further
            return candidate, True
        raise FileExistsError(errno.EEXIST, "no free name found", self.target)
