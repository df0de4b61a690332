"""FileWriter: .part lifecycle, verification before naming, resume, conflicts, failures."""

from __future__ import annotations

import errno
import hashlib
import os
import subprocess
import sys
import textwrap
import tracemalloc
from pathlib import Path

import pytest

from inlet.core.errors import DiskFullError
from inlet.core.events import FileStatus, FileStatusChanged
from inlet.core.lock import EMPTY_SHA256, TransferLockManager
from inlet.core.paths import LOCK_FILENAME, WARNINGS_LOG
from inlet.core.store import partfile as partfile_module
from inlet.core.store.destination import Folder
from inlet.core.writer import FileWriter


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def content(size: int, seed: int = 0) -> bytes:
    block = hashlib.sha256(f"{seed}".encode()).digest() * 2048  # 64 KiB pattern
    return (block * (size // len(block) + 1))[:size]


class Dest:
    """A destination folder with a lock for the given files and an event log."""

    def __init__(self, root: Path, files: list[tuple[str, int]], **lock_kw) -> None:
        self.root = root
        self.events: list[FileStatusChanged] = []
        lock_kw.setdefault("durable", False)
        self.lock = TransferLockManager(root, listener=self.events.append, **lock_kw)
        self.plan = self.lock.start(files, "127.0.0.1")
        self.offsets: dict[str, int] = {}
        offset = 0
        for name, size in files:
            self.offsets[name] = offset
            offset += size
        self.sizes = dict(files)

    def writer(self, name: str, **kw) -> FileWriter:
        return FileWriter(
            self.root / name, self.sizes[name], self.offsets[name], self.lock, lock_key=name, **kw
        )

    def log(self) -> str:
        path = self.root / WARNINGS_LOG
        return path.read_text("utf-8") if path.exists() else ""

    def statuses(self, name: str) -> list[FileStatus]:
        return [e.status for e in self.events if e.name == name]

    def reopen(self, files: list[tuple[str, int]] | None = None) -> Dest:
        self.lock.flush()
        return Dest(self.root, files or list(self.sizes.items()))


@pytest.fixture
def dest(tmp_path: Path) -> Dest:
    return Dest(tmp_path, [("docs/report.pdf", 300_000), ("b.txt", 5), ("empty", 0)])


def write_all(w: FileWriter, data: bytes, chunk: int = 64 * 1024) -> None:
    for i in range(0, len(data), chunk):
        assert w.write_chunk(data[i : i + chunk]) == len(data[i : i + chunk])


# --------------------------------------------------------------------------- happy path
def test_seed_attributes_and_a_verified_file_lands_under_its_name(dest: Dest) -> None:
    data = content(300_000)
    w = dest.writer("docs/report.pdf")
    assert (w.filename, w.size, w.offset, w.written) == (
        str(dest.root / "docs/report.pdf"),
        300_000,
        0,
        0,
    )
    assert w.part_file == dest.root / "docs/report.pdf.part"
    assert (w.is_complete, w.needs_rehash, w.overwrite_mode) == (False, False, False)
    assert w.lock_manager is dest.lock and w.hasher.hexdigest() == EMPTY_SHA256
    w.open_for_writing()
    assert w.part_file.exists() and w.part_file.stat().st_size == 0  # parents created
    write_all(w, data)
    # all bytes held, nothing renamed yet: it still awaits the sender's hash
    assert w.all_bytes_held and not w.is_complete
    assert not (dest.root / "docs/report.pdf").exists()
    assert w.part_file.read_bytes() == data
    assert w.get_hash() == sha(data)
    assert w.complete_file(sha(data).upper()) is True
    assert (dest.root / "docs/report.pdf").read_bytes() == data
    assert not w.part_file.exists()
    assert w.is_complete and w.final_path == dest.root / "docs/report.pdf"
    assert dest.statuses("docs/report.pdf") == [FileStatus.IN_PROGRESS, FileStatus.COMPLETED]
    assert dest.events[-1].final_path == "docs/report.pdf"
    entry = dest.lock.entry("docs/report.pdf")
    assert (entry.status, entry.original_hash) == (FileStatus.COMPLETED, sha(data))
    assert w.complete_file(sha(data)) is True  # idempotent
    w.close()


def test_write_chunk_takes_no_more_than_the_file_size(dest: Dest) -> None:
    w = dest.writer("b.txt")
    w.open_for_writing()
    assert w.write_chunk(b"abc") == 3
    assert w.write_chunk(b"defgh") == 2  # "fgh" belongs to the next file
    assert w.write_chunk(b"x") == 0 and w.write_chunk(b"") == 0
    assert w.part_file.read_bytes() == b"abcde" and w.written == 5
    assert dest.lock.entry("b.txt").transferred_bytes == 5


def test_progress_reaches_the_lock_with_the_prefix_hash(dest: Dest) -> None:
    data = content(300_000)
    w = dest.writer("docs/report.pdf")
    w.open_for_writing()
    w.write_chunk(data[:100_000])
    e = dest.lock.entry("docs/report.pdf")
    assert (e.status, e.transferred_bytes, e.partial_hash) == (
        FileStatus.IN_PROGRESS,
        100_000,
        sha(data[:100_000]),
    )


def test_zero_byte_file_is_created_after_verifying_the_empty_hash(dest: Dest) -> None:
    w = dest.writer("empty")
    w.open_for_writing()
    assert w.all_bytes_held and not (dest.root / "empty").exists()
    assert w.complete_file(EMPTY_SHA256) is True
    assert (dest.root / "empty").read_bytes() == b""
    assert dest.statuses("empty") == [FileStatus.IN_PROGRESS, FileStatus.COMPLETED]


def test_zero_byte_file_with_a_wrong_hash_fails(dest: Dest) -> None:
    w = dest.writer("empty")
    w.open_for_writing()
    assert w.complete_file(sha(b"x")) is False
    assert not (dest.root / "empty").exists() and w.failed_reason == "hash mismatch"


def test_without_a_lock_manager(tmp_path: Path) -> None:
    w = FileWriter(str(tmp_path / "solo.bin"), 4, 10)
    assert w.lock_key == "solo.bin" and w.warnings_log == tmp_path / WARNINGS_LOG
    w.open_for_writing()
    assert w.needs_data(10) and not w.needs_data(9)
    assert w.write_chunk(b"1234") == 4
    assert w.complete_file(sha(b"1234"))
    assert (tmp_path / "solo.bin").read_bytes() == b"1234"
    assert w.status is FileStatus.COMPLETED


def test_a_name_the_file_system_cannot_store_fails_that_file(tmp_path: Path) -> None:
    name = "odd\ud800name"
    lock = TransferLockManager(tmp_path, durable=False)
    lock.create([(name, 3)], "ip")
    w = FileWriter(tmp_path / name, 3, 0, lock)
    w.open_for_writing()
    assert w.failed and "cannot be stored" in w.failed_reason
    assert w.write_chunk(b"abc") == 0
    assert lock.entry(name).status is FileStatus.FAILED


def test_a_key_missing_from_the_lock_is_a_programming_error(dest: Dest) -> None:
    with pytest.raises(KeyError):
        FileWriter(dest.root / "unknown", 1, 0, dest.lock)


# --------------------------------------------------------------------------- verification
def test_hash_mismatch_keeps_the_part_and_never_the_final_name(dest: Dest) -> None:
    data = content(300_000)
    w = dest.writer("docs/report.pdf")
    w.open_for_writing()
    write_all(w, data)
    assert w.complete_file(sha(b"something else")) is False
    assert not (dest.root / "docs/report.pdf").exists()
    assert w.part_file.read_bytes() == data
    assert w.failed and w.retryable and w.failed_reason == "hash mismatch"
    entry = dest.lock.entry("docs/report.pdf")
    assert (entry.status, entry.reason) == (FileStatus.FAILED, "hash mismatch")
    assert dest.events[-1].reason == "hash mismatch"
    assert "hash mismatch" in dest.log()
    assert w.write_chunk(b"more") == 0 and w.complete_file(sha(data)) is False


def test_the_caller_can_fail_a_file_and_keep_its_part(dest: Dest) -> None:
    w = dest.writer("b.txt")
    w.open_for_writing()
    w.write_chunk(b"abcde")
    w.mark_failed("the sender could not resend it")
    assert w.failed and w.retryable and w.failed_reason == "the sender could not resend it"
    assert w.part_file.read_bytes() == b"abcde" and w.write_chunk(b"x") == 0
    assert dest.lock.entry("b.txt").reason == "the sender could not resend it"
    w.mark_failed("refused", retryable=False)
    assert not w.retryable


def test_incomplete_file_fails_instead_of_being_named(dest: Dest) -> None:
    w = dest.writer("b.txt")
    w.open_for_writing()
    w.write_chunk(b"abc")
    assert w.complete_file(sha(b"abc")) is False
    assert "3 of 5" in w.failed_reason and not (dest.root / "b.txt").exists()


def test_reset_for_retry_starts_the_file_over(dest: Dest) -> None:
    w = dest.writer("b.txt")
    w.open_for_writing()
    w.write_chunk(b"abXde")
    assert not w.complete_file(sha(b"abcde"))
    w.reset_for_retry()
    assert (w.written, w.failed, w.failure_reason, w.get_hash()) == (0, False, None, EMPTY_SHA256)
    assert not w.part_file.exists()
    e = dest.lock.entry("b.txt")
    assert (e.status, e.transferred_bytes) == (FileStatus.PENDING, 0)
    assert w.write_chunk(b"abcde") == 5
    assert w.complete_file(sha(b"abcde"))
    assert (dest.root / "b.txt").read_bytes() == b"abcde"
    assert dest.statuses("b.txt") == [
        FileStatus.IN_PROGRESS,
        FileStatus.FAILED,
        FileStatus.PENDING,
        FileStatus.IN_PROGRESS,
        FileStatus.COMPLETED,
    ]


# --------------------------------------------------------------------------- needs_data
def test_needs_data_follows_the_unified_stream(tmp_path: Path) -> None:
    w = FileWriter(tmp_path / "f", 50, 100)
    w.open_for_writing()
    assert [w.needs_data(p) for p in (99, 100, 149, 150)] == [False, True, True, False]
    w.write_chunk(b"x" * 20)
    assert [w.needs_data(p) for p in (100, 119, 120, 149)] == [False, False, True, True]
    w.write_chunk(b"x" * 30)
    assert not w.needs_data(149)
    assert w.complete_file(sha(b"x" * 50)) and not w.needs_data(149)


def test_needs_data_is_false_for_a_failed_file(tmp_path: Path) -> None:
    (tmp_path / "blocked").write_text("a file where a folder must go")
    w = FileWriter(tmp_path / "blocked" / "f", 50, 0, warnings_log=tmp_path / "log")
    w.open_for_writing()
    assert w.failed and not w.needs_data(0)


# --------------------------------------------------------------------------- conflicts
def test_existing_files_get_numbered_names(dest: Dest) -> None:
    (dest.root / "b.txt").write_text("mine")
    w = dest.writer("b.txt")
    w.open_for_writing()
    w.write_chunk(b"hello")
    assert w.complete_file(sha(b"hello"))
    assert w.final_path == dest.root / "b_1.txt"
    assert (dest.root / "b.txt").read_text() == "mine"
    assert (dest.root / "b_1.txt").read_bytes() == b"hello"
    assert dest.lock.entry("b.txt").final_path == "b_1.txt"
    assert dest.events[-1].final_path == "b_1.txt"
    assert dest.log() == ""  # a routine keep-both name is no problem to log
    w2 = FileWriter(dest.root / "b.txt", 5, 0)
    w2.open_for_writing()
    w2.write_chunk(b"again")
    assert w2.complete_file(sha(b"again")) and w2.final_path == dest.root / "b_2.txt"


def test_a_name_taken_at_the_last_moment_is_not_replaced(
    dest: Dest, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A suffixed name was free when looked at, then someone took it: the link that claims it
    fails and the next free name is taken; nothing is replaced. (The name itself is claimed
    without a look first: its link is the check.)"""
    (dest.root / "b.txt").write_text("there before")
    real = Folder.lstat
    calls = {"n": 0}

    def racing(self, leaf: str):
        found = real(self, leaf)
        if leaf == "b_1.txt" and calls["n"] == 0:
            calls["n"] += 1
            (dest.root / "b_1.txt").write_text("appeared meanwhile")
            return None  # it was free when checked
        return found

    monkeypatch.setattr(Folder, "lstat", racing)
    w = dest.writer("b.txt")
    w.open_for_writing()
    w.write_chunk(b"hello")
    assert w.complete_file(sha(b"hello"))
    assert calls["n"] == 1
    assert (dest.root / "b.txt").read_text() == "there before"
    assert (dest.root / "b_1.txt").read_text() == "appeared meanwhile"
    assert w.final_path == dest.root / "b_2.txt"


def test_a_part_swapped_just_before_its_naming_is_not_vouched_for_on_resume(
    dest: Dest, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Someone replaces the checked ``.part`` by a file of the same size in the instant before
    the rename names it (the one window no check closes): the lock's proof is the checked
    file's, so a resume hashes what is there and does not trust it unread."""
    real = Folder.rename

    def swapping(self, src: str, dst: str, *, replace: bool) -> None:
        if src == "b.txt.part":
            (dest.root / "planted").write_bytes(b"HELLO")
            os.replace(dest.root / "planted", dest.root / "b.txt.part")
        return real(self, src, dst, replace=replace)

    monkeypatch.setattr(Folder, "rename", swapping)
    w = dest.writer("b.txt")
    w.open_for_writing()
    w.write_chunk(b"hello")
    assert w.complete_file(sha(b"hello"))
    assert (dest.root / "b.txt").read_bytes() == b"HELLO"
    again = dest.reopen()
    assert not again.plan["b.txt"].completed


def test_without_hard_links_a_checked_rename_is_used(
    dest: Dest, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_links(src, dst, **kw) -> None:
        raise OSError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(os, "link", no_links)
    (dest.root / "b.txt").write_text("mine")
    w = dest.writer("b.txt")
    w.open_for_writing()
    w.write_chunk(b"hello")
    assert w.complete_file(sha(b"hello"))
    assert (dest.root / "b.txt").read_text() == "mine"
    assert (dest.root / "b_1.txt").read_bytes() == b"hello" and not w.part_file.exists()


def test_overwrite_replaces_a_file(dest: Dest) -> None:
    target = dest.root / "b.txt"
    target.write_text("old content")
    w = dest.writer("b.txt", overwrite_mode=True)
    w.open_for_writing()
    w.write_chunk(b"hello")
    assert w.complete_file(sha(b"hello"))
    assert target.read_bytes() == b"hello" and w.final_path == target
    assert not (dest.root / "b_1.txt").exists()


def test_overwrite_never_deletes_a_folder(dest: Dest) -> None:
    folder = dest.root / "b.txt"
    folder.mkdir()
    (folder / "inside").write_text("precious")
    w = dest.writer("b.txt", overwrite_mode=True)
    w.open_for_writing()
    w.write_chunk(b"hello")
    assert w.complete_file(sha(b"hello"))
    assert (folder / "inside").read_text() == "precious"
    assert w.final_path == dest.root / "b_1.txt"
    assert "folder" in dest.log() and "b.txt" in dest.log()


def test_overwrite_that_cannot_replace_falls_back_to_a_suffix(
    dest: Dest, monkeypatch: pytest.MonkeyPatch
) -> None:
    (dest.root / "b.txt").write_text("old")

    def refuse(src, dst, **kw) -> None:
        raise OSError(errno.EBUSY, "Device or resource busy")

    monkeypatch.setattr(os, "replace", refuse)
    w = dest.writer("b.txt", overwrite_mode=True)
    w.open_for_writing()
    w.write_chunk(b"hello")
    assert w.complete_file(sha(b"hello"))
    assert (dest.root / "b.txt").read_text() == "old"
    assert w.final_path == dest.root / "b_1.txt"
    assert "could not replace" in dest.log()


def test_the_overwrite_choice_can_change_before_completion(dest: Dest) -> None:
    (dest.root / "b.txt").write_text("old")
    w = dest.writer("b.txt", overwrite_mode=True)
    w.open_for_writing()
    w.write_chunk(b"hello")
    w.set_overwrite(False)
    assert w.complete_file(sha(b"hello"))
    assert (dest.root / "b.txt").read_text() == "old" and w.final_path.name == "b_1.txt"


# --------------------------------------------------------------------------- resume
def interrupted(dest: Dest, name: str, data: bytes, held: int) -> Dest:
    """Write ``held`` bytes of ``name``, flush the lock and come back as a new session."""
    w = dest.writer(name)
    w.open_for_writing()
    w.write_chunk(data[:held])
    return dest.reopen()


def test_resume_continues_from_the_verified_prefix(dest: Dest) -> None:
    data = content(300_000)
    again = interrupted(dest, "docs/report.pdf", data, 120_000)
    planned = again.plan["docs/report.pdf"]
    assert planned.held == 120_000
    w = again.writer("docs/report.pdf")
    w.open_for_writing(resume_bytes=planned.held)
    assert w.needs_rehash
    assert w.verify_prefix() == 120_000  # explicit, before the stream starts
    assert (w.written, w.resumed_bytes, w.needs_rehash) == (120_000, 120_000, False)
    assert w.get_hash() == sha(data[:120_000])
    assert not w.needs_data(119_999) and w.needs_data(120_000)
    write_all(w, data[120_000:])
    assert w.complete_file(sha(data))
    assert (again.root / "docs/report.pdf").read_bytes() == data
    assert again.log() == ""


def test_resume_hash_is_checked_lazily_on_the_first_chunk(dest: Dest) -> None:
    data = content(300_000)
    again = interrupted(dest, "docs/report.pdf", data, 100_000)
    w = again.writer("docs/report.pdf")
    w.open_for_writing(resume_bytes=100_000)
    assert w.written == 0 and w.needs_rehash
    assert w.write_chunk(data[100_000:150_000]) == 50_000
    assert w.written == 150_000 and w.resumed_bytes == 100_000
    assert w.part_file.read_bytes() == data[:150_000]


def test_longer_part_is_cut_back_to_the_verified_length(dest: Dest) -> None:
    data = content(300_000)
    again = interrupted(dest, "docs/report.pdf", data, 100_000)
    part = again.root / "docs/report.pdf.part"
    part.write_bytes(data[:180_000])  # bytes written after the last lock flush
    w = again.writer("docs/report.pdf")
    w.open_for_writing(resume_bytes=100_000)
    assert w.verify_prefix() == 100_000
    assert part.stat().st_size == 100_000
    assert "cut the .part back from 180000" in again.log()
    write_all(w, data[100_000:])
    assert w.complete_file(sha(data))


@pytest.mark.parametrize(
    ("damage", "why"),
    [
        (lambda p, d: p.write_bytes(d[:50_000]), "holds 50000 bytes"),
        (lambda p, d: p.write_bytes(b"Z" + d[1:100_000]), "do not match"),
        (lambda p, d: p.unlink(), "missing"),
    ],
    ids=["shorter", "wrong-hash", "missing"],
)
def test_unverifiable_prefix_starts_fresh(dest: Dest, damage, why: str) -> None:
    data = content(300_000)
    again = interrupted(dest, "docs/report.pdf", data, 100_000)
    damage(again.root / "docs/report.pdf.part", data)
    w = again.writer("docs/report.pdf")
    w.open_for_writing(resume_bytes=100_000)
    assert w.verify_prefix() == 0
    assert w.written == w.resumed_bytes == 0 and w.part_file.stat().st_size == 0
    assert why in again.log() and "from the start" in again.log()
    assert again.lock.entry("docs/report.pdf").transferred_bytes == 0
    assert w.needs_data(0)
    write_all(w, data)
    assert w.complete_file(sha(data))
    assert (again.root / "docs/report.pdf").read_bytes() == data


def test_resume_without_a_recorded_hash_is_not_trusted(tmp_path: Path) -> None:
    data = content(1000)
    (tmp_path / "f.part").write_bytes(data[:400])
    w = FileWriter(tmp_path / "f", 1000, 0)
    w.open_for_writing(resume_bytes=400)
    assert w.verify_prefix() == 0
    assert "no hash is recorded" in (tmp_path / WARNINGS_LOG).read_text()
    w2 = FileWriter(tmp_path / "g", 1000, 0)
    (tmp_path / "g.part").write_bytes(data[:400])
    w2.open_for_writing(resume_bytes=400, prefix_sha256=sha(data[:400]))
    assert w2.verify_prefix() == 400


def test_resume_claim_beyond_the_size_starts_fresh(tmp_path: Path) -> None:
    w = FileWriter(tmp_path / "f", 10, 0)
    w.open_for_writing(resume_bytes=11, prefix_sha256=EMPTY_SHA256)
    assert not w.needs_rehash and w.written == 0
    assert "claims 11 of 10" in (tmp_path / WARNINGS_LOG).read_text()
    with pytest.raises(ValueError):
        w.open_for_writing(resume_bytes=-1)


def test_fully_held_file_only_awaits_its_hash(dest: Dest) -> None:
    again = interrupted(dest, "b.txt", b"hello", 5)
    w = again.writer("b.txt")
    w.open_for_writing(resume_bytes=again.plan["b.txt"].held)
    assert not w.needs_data(again.offsets["b.txt"] + 4)
    assert w.all_bytes_held and w.complete_file(sha(b"hello"))


def test_prefix_check_reads_in_chunks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Memory stays bounded whatever the size (invariant 5): never read a file whole."""
    size = 8 * 1024 * 1024
    data = content(size)
    (tmp_path / "big.part").write_bytes(data)
    monkeypatch.setattr(partfile_module, "READ_CHUNK", 64 * 1024)
    w = FileWriter(tmp_path / "big", size, 0)
    w.open_for_writing(resume_bytes=size, prefix_sha256=sha(data))
    del data
    tracemalloc.start()
    try:
        assert w.verify_prefix() == size
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 1024 * 1024, peak


def test_a_crash_after_our_rename_does_not_duplicate_the_file(dest: Dest) -> None:
    """The lock still says in_progress but the verified file already has its final name."""
    data = content(300_000)
    w = dest.writer("docs/report.pdf")
    w.open_for_writing()
    write_all(w, data)
    dest.lock.flush()  # progress recorded: all bytes held
    os.rename(w.part_file, dest.root / "docs/report.pdf")  # ... renamed, then killed
    again = Dest(dest.root, list(dest.sizes.items()))
    w2 = again.writer("docs/report.pdf")
    w2.open_for_writing(resume_bytes=again.plan["docs/report.pdf"].held)
    assert w2.verify_prefix() == 0  # the .part is gone: the sender resends it
    write_all(w2, data)
    assert w2.complete_file(sha(data))
    assert w2.final_path == again.root / "docs/report.pdf"
    assert not (again.root / "docs/report_1.pdf").exists()


def test_a_crash_between_link_and_unlink_is_recognised(dest: Dest) -> None:
    data = b"hello"
    w = dest.writer("b.txt")
    w.open_for_writing()
    w.write_chunk(data)
    os.link(w.part_file, dest.root / "b.txt")  # linked, then killed before the unlink
    again = dest.reopen()
    w2 = again.writer("b.txt")
    w2.open_for_writing(resume_bytes=5)
    assert w2.complete_file(sha(data))
    assert w2.final_path == again.root / "b.txt" and not w2.part_file.exists()
    assert not (again.root / "b_1.txt").exists()


def test_a_users_identical_file_still_gets_a_new_name_outside_resume(dest: Dest) -> None:
    (dest.root / "b.txt").write_bytes(b"hello")
    w = dest.writer("b.txt")
    w.open_for_writing()
    w.write_chunk(b"hello")
    assert w.complete_file(sha(b"hello")) and w.final_path.name == "b_1.txt"


# --------------------------------------------------------------------------- failures
def opens(path, kw: dict, part: Path) -> bool:
    """``os.open(path, ..., **kw)`` opens ``part`` (by its full path, or by its last component
    relative to a folder's descriptor, as the destination's gatekeeper does)."""
    if kw.get("dir_fd") is not None:
        return os.fspath(path) == part.name
    return os.fspath(path) == os.fspath(part)


def refuse_part(monkeypatch: pytest.MonkeyPatch, part: Path, code: int) -> None:
    real_open = os.open

    def guarded(path, flags, *args, **kw):
        if opens(path, kw, part) and flags & (os.O_WRONLY | os.O_RDWR):
            raise OSError(code, os.strerror(code), os.fspath(path))
        return real_open(path, flags, *args, **kw)

    monkeypatch.setattr(os, "open", guarded)


def test_permission_denied_fails_only_that_file(
    dest: Dest, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = content(300_000)
    w = dest.writer("docs/report.pdf")
    other = dest.writer("b.txt")
    w.open_for_writing()
    other.open_for_writing()
    w.write_chunk(data[:1000])
    refuse_part(monkeypatch, w.part_file, errno.EACCES)
    assert w.write_chunk(data[1000:2000]) == 0
    assert w.failed and not w.retryable
    assert "permission denied" in w.failed_reason
    assert w.write_chunk(data[2000:3000]) == 0  # later chunks: consumed by the caller, 0 here
    e = dest.lock.entry("docs/report.pdf")
    assert e.status is FileStatus.FAILED and "permission denied" in e.reason
    assert dest.events[-1].status is FileStatus.FAILED
    assert "permission denied" in dest.log()
    assert other.write_chunk(b"hello") == 5 and other.complete_file(sha(b"hello"))


def test_permission_denied_when_creating_the_part(
    dest: Dest, monkeypatch: pytest.MonkeyPatch
) -> None:
    refuse_part(monkeypatch, dest.root / "b.txt.part", errno.EACCES)
    w = dest.writer("b.txt")
    w.open_for_writing()
    assert w.failed and w.write_chunk(b"hello") == 0
    assert dest.lock.entry("b.txt").status is FileStatus.FAILED


def test_a_file_where_a_folder_must_go_fails_that_file(dest: Dest) -> None:
    (dest.root / "docs").write_text("I am a file")
    w = dest.writer("docs/report.pdf")
    w.open_for_writing()
    assert w.failed and "folder" in w.failed_reason
    assert w.write_chunk(b"data") == 0 and not w.complete_file(sha(b"data"))
    assert (dest.root / "docs").read_text() == "I am a file"
    other = dest.writer("b.txt")
    other.open_for_writing()
    assert other.write_chunk(b"hello") == 5 and other.complete_file(sha(b"hello"))


@pytest.mark.parametrize(
    "code", [errno.ENOSPC, errno.EDQUOT, errno.EFBIG], ids=["ENOSPC", "EDQUOT", "EFBIG"]
)
def test_disk_full_stops_with_state_kept_for_resume(
    dest: Dest, monkeypatch: pytest.MonkeyPatch, code: int
) -> None:
    data = content(300_000)
    w = dest.writer("docs/report.pdf")
    w.open_for_writing()
    write_all(w, data[: 128 * 1024])
    real_open, real_write, real_close = os.open, os.write, os.close
    part_fds: set[int] = set()

    def tracking_open(path, flags, *args, **kw):
        fd = real_open(path, flags, *args, **kw)
        if opens(path, kw, w.part_file):
            part_fds.add(fd)
        return fd

    def tracking_close(fd):
        part_fds.discard(fd)  # the number may be reused for another file (the warnings log)
        real_close(fd)

    def half_then_full(fd, data):
        if fd in part_fds:
            real_write(fd, bytes(data[: len(data) // 2]))
            raise OSError(code, os.strerror(code))
        return real_write(fd, data)

    monkeypatch.setattr(os, "open", tracking_open)
    monkeypatch.setattr(os, "close", tracking_close)
    monkeypatch.setattr(os, "write", half_then_full)
    with pytest.raises(DiskFullError) as info:
        w.write_chunk(data[128 * 1024 : 192 * 1024])
    monkeypatch.undo()
    assert "full" in str(info.value) and "report.pdf" in str(info.value)
    assert "131.1 KB of it is kept." in str(info.value)  # a size a person reads, not 131072
    assert not w.failed and w.written == 128 * 1024
    assert w.part_file.stat().st_size == 128 * 1024  # the half-written chunk was cut off
    assert dest.lock.entry("docs/report.pdf").status is FileStatus.IN_PROGRESS
    assert "disk full" in dest.log()
    again = dest.reopen()
    w2 = again.writer("docs/report.pdf")
    w2.open_for_writing(resume_bytes=again.plan["docs/report.pdf"].held)
    assert w2.verify_prefix() == 128 * 1024
    write_all(w2, data[128 * 1024 :])
    assert w2.complete_file(sha(data))


def test_rename_failure_keeps_the_part_and_fails_the_file(
    dest: Dest, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*args, **kw) -> None:
        raise OSError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(os, "link", refuse)
    monkeypatch.setattr(os, "rename", refuse)
    w = dest.writer("b.txt")
    w.open_for_writing()
    w.write_chunk(b"hello")
    assert w.complete_file(sha(b"hello")) is False
    assert w.part_file.read_bytes() == b"hello" and not (dest.root / "b.txt").exists()
    assert "permission denied" in w.failed_reason and "final name" in dest.log()


def test_disk_full_while_renaming_raises(dest: Dest, monkeypatch: pytest.MonkeyPatch) -> None:
    def full(*args, **kw) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "link", full)
    w = dest.writer("b.txt")
    w.open_for_writing()
    w.write_chunk(b"hello")
    with pytest.raises(DiskFullError):
        w.complete_file(sha(b"hello"))
    assert w.part_file.exists() and not w.failed


def test_a_part_that_shrinks_behind_our_back_fails_the_file(dest: Dest) -> None:
    data = content(300_000)
    w = dest.writer("docs/report.pdf")
    w.open_for_writing()
    w.write_chunk(data[:1000])
    os.truncate(w.part_file, 10)  # another program touched it
    assert w.write_chunk(data[1000:2000]) == 0
    assert w.failed and "shrank" in w.failed_reason


def test_leftover_bytes_after_the_held_length_are_overwritten(dest: Dest) -> None:
    w = dest.writer("b.txt")
    w.open_for_writing()
    w.write_chunk(b"ab")
    with open(w.part_file, "ab") as f:  # e.g. the tail of a write that failed
        f.write(b"JUNK")
    w.write_chunk(b"cde")
    assert w.part_file.read_bytes() == b"abcde"
    assert w.complete_file(sha(b"abcde"))


def test_an_unwritable_log_never_stops_a_transfer(dest: Dest) -> None:
    (dest.root / "log-dir").mkdir()
    w = dest.writer("b.txt", warnings_log=dest.root / "log-dir")  # a folder: cannot append
    w.open_for_writing()
    w.write_chunk(b"abcdX")
    assert w.complete_file(sha(b"abcde")) is False and w.failed_reason == "hash mismatch"


# --------------------------------------------------------------------------- real limits
CHILD = textwrap.dedent(
    """
    import resource, signal, sys
    from pathlib import Path
    from inlet.core.errors import DiskFullError
    from inlet.core.lock import TransferLockManager
    from inlet.core.writer import FileWriter

    dest, limit = Path(sys.argv[1]), int(sys.argv[2])
    data = bytes(range(256)) * 4096  # 1 MiB
    lock = TransferLockManager(dest)
    lock.create([("big.bin", len(data))], "127.0.0.1")
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # writes past the limit fail with EFBIG
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    w = FileWriter(dest / "big.bin", len(data), 0, lock)
    w.open_for_writing()
    try:
        for i in range(0, len(data), 65536):
            w.write_chunk(data[i : i + 65536])
    except DiskFullError:
        lock.flush()
        print("FULL", w.written)
    else:
        print("NOT FULL", w.written)
    """
)


@pytest.mark.timeout(60)
@pytest.mark.skipif(sys.platform == "win32", reason="RLIMIT_FSIZE is POSIX")
def test_a_real_file_size_limit_raises_disk_full_and_resume_completes(tmp_path: Path) -> None:
    limit = 300_000
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, str(tmp_path), str(limit)],
        capture_output=True,
        text=True,
        timeout=50,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    verdict, held = proc.stdout.split()
    held = int(held)
    assert verdict == "FULL" and 0 < held <= limit and held % 65536 == 0
    data = bytes(range(256)) * 4096
    part = tmp_path / "big.bin.part"
    assert part.read_bytes() == data[:held]
    lock = TransferLockManager(tmp_path)
    plan = lock.start([("big.bin", len(data))], "127.0.0.1")
    assert plan["big.bin"].held == held
    w = FileWriter(tmp_path / "big.bin", len(data), 0, lock)
    w.open_for_writing(resume_bytes=held)
    assert w.verify_prefix() == held
    assert w.write_chunk(data[held:]) == len(data) - held
    assert w.complete_file(sha(data))
    assert (tmp_path / "big.bin").read_bytes() == data
    lock.remove()
    assert not (tmp_path / LOCK_FILENAME).exists()
