"""Issue 10, "Trust at the edges": each case failed on the main of 2026-12-01.

Real senders on loopback (``inlet send`` processes, or the scriptable legacy sender), the real
receiver, real files; the attacks are the ones a local user who can write into the destination
folder, or a hostile sender, would try.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from pathlib import Path

import pytest

from inlet.core import wire
from inlet.core.codes import parse_code
from inlet.core.events import FileProgress, FileStatus, FileStatusChanged, TransferStarted
from inlet.core.lock import TransferLockManager
from inlet.core.paths import JOURNAL_FILENAME, LOCK_FILENAME, WARNINGS_LOG
from inlet.core.receiver import Receiver, ReceiverOptions

from ..fake_sender import FakeFile, FakeSender
from ..helpers import run_receiver, start_sender, tree_hashes, write_random
from ..reliability import record

pytestmark = pytest.mark.timeout(120)


def receive(code: str, dest: Path, on_event=None, **options) -> Receiver:
    receiver = Receiver(parse_code(code), dest, ReceiverOptions(**options), on_event=on_event)
    receiver.run()
    return receiver


def row(case: str, tried: str, times: int, outcome: str) -> None:
    """One row of docs/RELIABILITY.md's table of these cases."""
    record(case, tried, times, outcome, group="edges")


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def outside_untouched(outside: Path, before: dict[str, str]) -> None:
    assert tree_hashes(outside) == before, "something outside the destination changed"


# -- 1. an empty file alone in a folder no other file creates ------------------------------------


@pytest.mark.parametrize("flags", [(), ("--no-ext",)])
def test_an_empty_file_alone_in_its_folder_lands(tmp_path: Path, flags) -> None:
    src = tmp_path / "pkg"
    (src / "emptydir").mkdir(parents=True)
    (src / "emptydir" / ".gitkeep").write_bytes(b"")
    (src / "readme.txt").write_text("hello\n")
    sender = start_sender(src, *flags)
    try:
        outcome = run_receiver(sender.code, tmp_path / "dest")
    finally:
        sender.stop()
    assert outcome.returncode == 0, outcome.stderr
    assert (tmp_path / "dest" / "pkg" / "emptydir" / ".gitkeep").read_bytes() == b""
    assert outcome.result["ok"] is True
    row(
        "An empty file alone in a folder no other file creates",
        "`pkg/emptydir/.gitkeep` from a real `" + " ".join(("inlet send", *flags)) + "`",
        1,
        "it lands (its folder is made when it is named); exit 0",
    )


# -- 2. old bytes never pass as verified ---------------------------------------------------------


def _completed_lock(dest: Path, name: str, data: bytes, *, final_path: str | None = None) -> None:
    """A lock (as an earlier session left it) that says ``name`` was received with ``data``."""
    lock = TransferLockManager(dest)
    lock.create([(name, len(data)), ("later.bin", 5)], sender_ip="127.0.0.1")
    lock.mark_completed(name, sha(data), final_path)
    lock.close()


def test_a_file_named_earlier_is_compared_with_this_senders_hash(tmp_path: Path) -> None:
    """Same name and size from another sender, other bytes: never reported as already here."""
    dest = tmp_path / "dest"
    dest.mkdir()
    old, new = b"A" * 1000, b"B" * 1000
    (dest / "report.txt").write_bytes(old)
    _completed_lock(dest, "report.txt", old)
    sender = FakeSender([FakeFile("report.txt", new), FakeFile("later.bin", b"12345")])
    receiver = receive(sender.code, dest)
    sender.join()
    by_name = {f.name: f for f in receiver.result.files}
    assert by_name["report.txt"].sha256 != sha(old)
    landed = {p.name: p.read_bytes() for p in dest.iterdir() if p.is_file()}
    assert new in landed.values(), "this sender's file never landed"
    assert landed["report.txt"] == old  # the earlier file is kept: the new one is a conflict
    assert receiver.result.ok, receiver.result.error
    row(
        "A file named in an earlier session, another sender's file of the same name and size",
        "legacy stream; the lock says completed",
        1,
        "this sender's hash differs from the recorded one: asked for again, kept as "
        "`report_1.txt` beside the earlier file",
    )


def test_a_lock_that_says_completed_while_the_file_holds_other_bytes_is_not_trusted(
    tmp_path: Path,
) -> None:
    dest = tmp_path / "dest"
    dest.mkdir()
    data = b"the real content" * 100
    _completed_lock(dest, "doc.txt", data)
    (dest / "doc.txt").write_bytes(b"X" * len(data))  # other bytes, same size
    sender = start_sender_files(tmp_path, {"doc.txt": data, "later.bin": b"12345"})
    try:
        outcome = run_receiver(sender.code, dest)
    finally:
        sender.stop()
    assert outcome.returncode == 0, outcome.stderr
    kept = {p.name: p.read_bytes() for p in dest.rglob("*") if p.is_file()}
    assert data in kept.values(), "the sender's bytes never landed"
    row(
        "A lock that says completed while the file holds other bytes",
        "same size, other bytes; real `inlet send`",
        1,
        "not trusted (proof and re-hash fail): received again",
    )


def test_a_lock_whose_final_path_names_another_file_is_not_trusted(tmp_path: Path) -> None:
    dest = tmp_path / "dest"
    dest.mkdir()
    data = b"content of doc" * 50
    (dest / "unrelated.txt").write_bytes(b"U" * len(data))
    _completed_lock(dest, "doc.txt", data, final_path="unrelated.txt")
    sender = FakeSender([FakeFile("doc.txt", data), FakeFile("later.bin", b"12345")])
    receiver = receive(sender.code, dest)
    sender.join()
    assert receiver.result.ok, receiver.result.error
    assert (dest / "doc.txt").read_bytes() == data
    assert (dest / "unrelated.txt").read_bytes() == b"U" * len(data)


def start_sender_files(tmp_path: Path, files: dict[str, bytes], *flags: str):
    src = tmp_path / "src"
    for name, data in files.items():
        (src / name).parent.mkdir(parents=True, exist_ok=True)
        (src / name).write_bytes(data)
    tops = sorted({name.split("/")[0] for name in files})
    return start_sender(*(src / top for top in tops), *flags)


def receive_from(tmp_path: Path, files: dict[str, bytes], dest: Path, extension: bool, **kw):
    """Receive ``files`` in process from a real ``inlet send`` (with or without the Inlet
    extension)."""
    sender = start_sender_files(tmp_path, files, *(() if extension else ("--no-ext",)))
    try:
        return receive(sender.code, dest, **kw)
    finally:
        sender.stop()


# -- 3. nothing is written outside the destination -----------------------------------------------


@pytest.mark.parametrize("extension", [True, False])
def test_a_folder_swapped_for_a_symlink_after_the_file_list(tmp_path: Path, extension) -> None:
    dest, outside = tmp_path / "dest", tmp_path / "outside"
    (dest / "pkg").mkdir(parents=True)
    outside.mkdir()
    files = {"pkg/a.bin": b"a" * 5000, "pkg/sub/b.bin": b"b" * 70}

    def swap(event: object) -> None:
        if isinstance(event, TransferStarted):
            os.rename(dest / "pkg", tmp_path / "aside")
            os.symlink(outside, dest / "pkg")

    receiver = receive_from(tmp_path, files, dest, extension, on_event=swap)
    assert list(outside.iterdir()) == []
    assert not receiver.result.ok
    assert "symlink" in (receiver.result.error or "")


def test_a_folder_swapped_for_a_symlink_while_many_files_arrive(tmp_path: Path) -> None:
    """A local attacker flips a folder between a real folder and a symlink to outside again
    and again while a 2,000-file transfer runs (at the receiver's own events, so the flips
    land in the middle of the stream whatever the machine's speed): nothing lands outside."""
    src, dest, outside = tmp_path / "src" / "many", tmp_path / "dest", tmp_path / "outside"
    for i in range(2000):
        folder = src / f"d{i % 4}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"f{i}.txt").write_text(f"file {i}\n")
    outside.mkdir()
    target, held = dest / "many" / "d1", tmp_path / "held"
    seen = flips = 0

    def flip(event: object) -> None:
        nonlocal seen, flips
        if not isinstance(event, FileProgress | FileStatusChanged):
            return
        seen += 1
        if seen % 40 == 0 and target.is_dir() and not target.is_symlink():
            os.rename(target, held)
            os.symlink(outside, target)
            flips += 1
        elif seen % 40 == 20 and target.is_symlink():
            os.unlink(target)
            os.rename(held, target)

    sender = start_sender(src)
    try:
        receive(sender.code, dest, on_event=flip)
    finally:
        sender.stop()
    assert flips > 10
    assert list(outside.rglob("*")) == []
    row(
        "A folder flipped to a symlink to outside while 2,000 files arrive",
        "swapped at every 40th receiver event, restored 20 events later",
        flips,
        "nothing created outside; files reached through the symlink fail",
    )


@pytest.mark.parametrize("extension", [True, False])
def test_a_hard_link_planted_as_the_part_file_leaves_its_target_alone(
    tmp_path: Path, extension
) -> None:
    dest, outside = tmp_path / "dest", tmp_path / "outside"
    dest.mkdir()
    outside.mkdir()
    victim = outside / "victim.txt"
    victim.write_bytes(b"precious " * 100)
    before = tree_hashes(outside)
    os.link(victim, dest / "big.bin.part")
    receiver = receive_from(tmp_path, {"big.bin": b"z" * 20000}, dest, extension)
    outside_untouched(outside, before)
    assert receiver.result.ok, receiver.result.error
    assert (dest / "big.bin").read_bytes() == b"z" * 20000


@pytest.mark.parametrize("extension", [True, False])
def test_a_hard_link_planted_as_a_resumed_part_file_is_not_appended_to(
    tmp_path: Path, extension
) -> None:
    dest, outside = tmp_path / "dest", tmp_path / "outside"
    dest.mkdir()
    outside.mkdir()
    data = b"0123456789" * 2000
    victim = outside / "victim.bin"
    victim.write_bytes(data[:7000])  # looks like a valid prefix of the incoming file
    before = tree_hashes(outside)
    lock = TransferLockManager(dest)
    lock.create([("big.bin", len(data))], sender_ip="127.0.0.1")
    lock.update_progress("big.bin", 7000, sha(data[:7000]))
    lock.close()
    os.link(victim, dest / "big.bin.part")
    receiver = receive_from(tmp_path, {"big.bin": data}, dest, extension)
    outside_untouched(outside, before)
    assert receiver.result.ok, receiver.result.error
    assert (dest / "big.bin").read_bytes() == data
    row(
        "A hard link to an outside file planted as a resumed `.part`",
        f"the lock claims a valid prefix; {'extension' if extension else 'legacy'} sender",
        1,
        "the `.part` is not taken over (two links): received fresh, the outside file unchanged",
    )


def test_symlinks_planted_at_the_bookkeeping_files_are_not_written_through(
    tmp_path: Path,
) -> None:
    dest, outside = tmp_path / "dest", tmp_path / "outside"
    dest.mkdir()
    outside.mkdir()
    (outside / "keep.txt").write_text("mine\n")
    before = tree_hashes(outside)
    for name in (LOCK_FILENAME + ".tmp", JOURNAL_FILENAME, WARNINGS_LOG):
        os.symlink(outside / f"via-{name}", dest / name)
    os.symlink(outside / "keep.txt", dest / "keep2")
    # a hash mismatch makes a real warning, and the retry makes the lock write its journal
    sender = FakeSender([FakeFile("a.bin", b"a" * 3000)], wrong_hashes={"a.bin"})
    receiver = receive(sender.code, dest)
    sender.join()
    assert receiver.result.ok, receiver.result.error
    outside_untouched(outside, before)


# -- 4. a FIFO as the part file --------------------------------------------------------------------


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_a_fifo_planted_as_the_part_file_fails_that_file_only(tmp_path: Path) -> None:
    dest = tmp_path / "dest"
    dest.mkdir()
    os.mkfifo(dest / "stuck.bin.part")
    sender = start_sender_files(tmp_path, {"stuck.bin": b"s" * 500, "fine.txt": b"fine\n"})
    try:
        outcome = run_receiver(sender.code, dest, timeout=60)
    finally:
        sender.stop()
    assert outcome.returncode != 0
    assert (dest / "fine.txt").read_bytes() == b"fine\n"
    by_name = {f["name"]: f for f in outcome.result["files"]}
    assert by_name["stuck.bin"]["status"] == "failed"
    assert "not a regular file" in outcome.stderr
    assert "Traceback" not in outcome.stderr
    row(
        "A FIFO planted as `name.part`",
        "real `inlet send` and `inlet receive`",
        1,
        "no hang: that file fails (not a regular file), the other lands",
    )


# -- 5. deep names, and any unexpected exception ---------------------------------------------------


def test_a_name_of_twelve_hundred_components_is_refused_clearly(tmp_path: Path) -> None:
    deep = "a/" * 1200 + "x.txt"
    sender = FakeSender([FakeFile(deep, b"deep"), FakeFile("ok.txt", b"ok")])
    receiver = receive(sender.code, tmp_path / "dest")
    sender.join()
    result = receiver.result
    assert not result.ok
    assert (tmp_path / "dest" / "ok.txt").read_bytes() == b"ok"
    assert "folders deep" in result.error
    assert "Recursion" not in result.error
    row(
        "A name 1,200 folders deep (under 4,096 bytes)",
        "scripted legacy sender",
        1,
        "refused with the depth in the message; the other file lands",
    )


def test_an_unexpected_exception_is_one_clear_sentence_and_a_logged_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    from inlet.core.paths import DestinationResolver

    def broken(*args, **kwargs):
        raise RuntimeError("a bug nobody foresaw")

    monkeypatch.setattr(DestinationResolver, "__init__", broken)
    sender = FakeSender([FakeFile("a.txt", b"a")])
    receiver = receive(sender.code, tmp_path / "dest")
    sender.join(timeout=30)
    assert isinstance(sender.ended_early, wire.ConnectionClosed)  # it stopped before READY
    error = receiver.result.error or ""
    assert "unexpected" in error.lower() and "\n" not in error
    logs = list((tmp_path / "state" / "inlet").glob("*.log"))
    assert logs, "no log file in the state folder"
    text = logs[0].read_text()
    assert "Traceback" in text and "a bug nobody foresaw" in text
    assert str(logs[0]) in error


# -- 6. names that differ by case or normalization -------------------------------------------------


def test_names_that_collide_on_a_case_insensitive_folder_keep_both(tmp_path: Path) -> None:
    dest = tmp_path / "dest"
    files = [FakeFile("Report.txt", b"upper" * 10), FakeFile("report.txt", b"lower" * 10)]
    sender = FakeSender(files)
    events: list[object] = []
    receiver = receive(sender.code, dest, on_event=events.append, name_folding="casefold")
    sender.join()
    assert receiver.result.ok, receiver.result.error
    assert (dest / "Report.txt").read_bytes() == b"upper" * 10
    assert (dest / "report_1.txt").read_bytes() == b"lower" * 10
    assert not (dest / "report.txt").exists()
    later = {f.name: f for f in receiver.result.files}["report.txt"]
    assert later.path.endswith("report_1.txt")
    row(
        "Names that differ only by case, on a case-insensitive folder",
        "`Report.txt` and `report.txt`; folding injected on ext4",
        1,
        "both kept: the later one lands as `report_1.txt`",
    )


def test_nfc_and_nfd_names_collide_on_a_normalizing_folder(tmp_path: Path) -> None:
    dest = tmp_path / "dest"
    nfc, nfd = "caf\u00e9.txt", "cafe\u0301.txt"
    sender = FakeSender([FakeFile(nfc, b"nfc"), FakeFile(nfd, b"nfd")])
    receiver = receive(sender.code, dest, name_folding="nfd")
    sender.join()
    assert receiver.result.ok, receiver.result.error
    contents = sorted(p.read_bytes() for p in dest.iterdir() if p.is_file())
    assert contents == [b"nfc", b"nfd"]
    assert len(list(dest.iterdir())) == 2


def test_on_a_case_sensitive_folder_both_names_land(tmp_path: Path) -> None:
    dest = tmp_path / "dest"
    files = [FakeFile("Report.txt", b"upper"), FakeFile("report.txt", b"lower")]
    sender = FakeSender(files)
    receiver = receive(sender.code, dest)
    sender.join()
    assert receiver.result.ok, receiver.result.error
    assert (dest / "Report.txt").read_bytes() == b"upper"
    assert (dest / "report.txt").read_bytes() == b"lower"


# -- 7. long components ----------------------------------------------------------------------------


@pytest.mark.parametrize("length", [251, 253, 255])
def test_a_component_close_to_255_bytes_lands(tmp_path: Path, length: int) -> None:
    name = "n" * (length - 4) + ".bin"
    sender = FakeSender([FakeFile(name, b"long name" * 100)])
    receiver = receive(sender.code, tmp_path / "dest")
    sender.join()
    assert receiver.result.ok, receiver.result.error
    assert (tmp_path / "dest" / name).read_bytes() == b"long name" * 100


def test_a_long_name_that_exists_already_gets_a_suffixed_name_that_fits(tmp_path: Path) -> None:
    dest = tmp_path / "dest"
    dest.mkdir()
    name = "m" * 251 + ".bin"
    (dest / name).write_bytes(b"old")
    sender = FakeSender([FakeFile(name, b"new")])
    receiver = receive(sender.code, dest)
    sender.join()
    assert receiver.result.ok, receiver.result.error
    assert (dest / name).read_bytes() == b"old"
    landed = Path(receiver.result.files[0].path)
    assert landed.read_bytes() == b"new" and len(landed.name.encode()) <= 255


# -- 8. the destination deleted or moved away mid-transfer -----------------------------------------


@pytest.mark.parametrize("how", ["moved", "deleted"])
def test_a_destination_moved_or_deleted_mid_transfer_is_not_recreated(
    tmp_path: Path, how: str
) -> None:
    dest = tmp_path / "dest"
    src = tmp_path / "src"
    write_random(src / "first.bin", 3 << 20, seed=1)
    write_random(src / "second.bin", 3 << 20, seed=2)
    done = threading.Event()

    def away(event: object) -> None:
        if isinstance(event, FileProgress) and event.held and not done.is_set():
            done.set()
            if how == "moved":
                os.rename(dest, tmp_path / "moved")
            else:
                import shutil

                shutil.rmtree(dest)

    sender = start_sender(src / "first.bin", src / "second.bin")
    try:
        receiver = receive(sender.code, dest, on_event=away)
    finally:
        sender.stop()
    assert done.is_set()
    assert not dest.exists(), "the destination was re-created at its old path"
    assert not receiver.result.ok
    assert "moved or deleted" in (receiver.result.error or "")
    row(
        f"The destination {how} mid-transfer",
        "at the first progress event of a 6 MiB, two-file transfer",
        1,
        "the transfer stops saying so; nothing is re-created at the old path",
    )


# -- 9. the lock never claims more than the part file holds ----------------------------------------


@pytest.mark.parametrize("extension", [True, False])
def test_the_lock_never_claims_more_than_the_part_holds(tmp_path: Path, extension) -> None:
    """The sender's file changed since the prefix was received: the held bytes are thrown away
    (at the accept with the extension, at the retry without). A kill -9 at any event must leave
    a lock that claims no more than what the ``.part`` holds."""
    dest = tmp_path / "dest"
    dest.mkdir()
    held = b"h" * 9000
    lock = TransferLockManager(dest)
    lock.create([("f.bin", 20000)], sender_ip="127.0.0.1")
    lock.update_progress("f.bin", len(held), sha(held))
    lock.close()
    (dest / "f.bin.part").write_bytes(held)
    checks: list[tuple[int, int]] = []

    def on_disk_now(event: object) -> None:  # what a kill -9 at this event would leave
        if not isinstance(event, TransferStarted | FileStatusChanged):
            return
        state = TransferLockManager(dest)
        if not state.load():
            return
        entry = state.entry("f.bin")
        if entry.status is FileStatus.COMPLETED:
            return
        part = dest / "f.bin.part"
        checks.append((entry.transferred_bytes, part.stat().st_size if part.exists() else 0))

    receiver = receive_from(
        tmp_path, {"f.bin": b"n" * 20000}, dest, extension, on_event=on_disk_now
    )
    assert receiver.result.ok, receiver.result.error
    assert checks and all(claimed <= size for claimed, size in checks), checks
    row(
        "The lock read back at every status event while a held prefix is thrown away",
        f"{'extension' if extension else 'legacy'} sender whose file changed",
        len(checks),
        "the lock never claimed more than the `.part` held",
    )


def test_status_events_and_json_agree_for_a_refused_file(tmp_path: Path) -> None:
    """A file refused up front says so in its status event and in the result, once."""
    sender = FakeSender([FakeFile("a/" * 1200 + "x", b"x"), FakeFile("fine", b"f")])
    events: list[object] = []
    receiver = receive(sender.code, tmp_path / "dest", on_event=events.append)
    sender.join()
    failed = [e for e in events if isinstance(e, FileStatusChanged)]
    assert [e.status for e in failed if e.name.startswith("a/")] == [FileStatus.FAILED]
    record = receiver.result.files[0]
    assert record.status == "failed" and "deep" in record.reason
    json.dumps(receiver.result.to_json())


def test_the_warnings_log_gets_peer_names_escaped(tmp_path: Path) -> None:
    """A name with a bidi override and a C1 control (CSI) reaches transfer_warnings.log as
    escapes on one line (a person may ``cat`` the log)."""
    name = "evil\u202e\u009b2Jname.txt"
    sender = FakeSender([FakeFile(name, b"x" * 10)], wrong_hashes={name}, close_on_retry=True)
    receive(sender.code, tmp_path / "dest")
    sender.join()
    log = (tmp_path / "dest" / WARNINGS_LOG).read_text("utf-8")
    assert "hash mismatch" in log
    assert "\u009b" not in log and "\u202e" not in log
    assert all(line.count("evil") <= 1 for line in log.splitlines())
