"""TransferLockManager: ftransfer-compatible snapshot, journal, batching, resume plans."""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import uuid
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inlet.core.errors import DiskFullError, LockFileError
from inlet.core.events import FileInfo, FileStatus, FileStatusChanged
from inlet.core.lock import EMPTY_SHA256, LockSummary, TransferLockManager
from inlet.core.paths import JOURNAL_FILENAME, LOCK_FILENAME
from inlet.core.receive.resume import ResumeAction
from inlet.core.store import lockstore
from inlet.core.store.entries import PendingEntries
from inlet.core.store.lockfile import encode_entries

T0 = datetime(2024, 5, 1, 12, 0, 0)
H1 = hashlib.sha256(b"one").hexdigest()
H2 = hashlib.sha256(b"two").hexdigest()
FOUR = hashlib.sha256(b"four").hexdigest()
FILES = [("a.txt", 10), ("dir/b.bin", 2000), ("dir/sub/c", 0)]


class FakeClock:
    """Monotonic clock the tests move by hand (no sleeping)."""

    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


class WallClock:
    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def manager(dest: Path, **kw) -> TransferLockManager:
    """A manager with hand-moved clocks; no fsyncs unless a test asks (they check ordering)."""
    kw.setdefault("durable", False)
    kw.setdefault("clock", FakeClock())
    kw.setdefault("now", WallClock())
    return TransferLockManager(dest, **kw)


def reload(dest: Path, **kw) -> TransferLockManager:
    fresh = manager(dest, **kw)
    assert fresh.load()
    return fresh


def snapshot(dest: Path) -> dict:
    return json.loads((dest / LOCK_FILENAME).read_text("utf-8"))


def write_ftransfer_lock(dest: Path, files: dict, /, **over) -> None:
    """A lock as ftransfer 1.0.1 writes it (indented, empty strings for unknown hashes)."""
    files = over.pop("files", files)
    sizes = [e.get("size") for e in files.values() if isinstance(e, dict)] if files else []
    doc = {
        "version": "1.0",
        "session_id": str(uuid.uuid4()),
        "timestamp": T0.isoformat(),
        "sender_ip": "100.64.1.2",
        "total_files": len(files),
        "total_size": sum(n for n in sizes if isinstance(n, int)),
        "files": files,
    }
    doc.update(over)
    (dest / LOCK_FILENAME).write_text(json.dumps(doc, indent=2), "utf-8")


def entry(status="pending", size=10, held=0, partial="", original="") -> dict:
    return {
        "status": status,
        "size": size,
        "transferred_bytes": held,
        "partial_hash": partial,
        "original_hash": original,
        "last_modified": T0.isoformat(),
    }


# --------------------------------------------------------------------------- format
def test_create_writes_an_ftransfer_compatible_snapshot(tmp_path: Path) -> None:
    lock = manager(tmp_path)
    lock.create([FileInfo("a.txt", 10, 0), ("dir/b.bin", 2000)], "100.64.1.2")
    doc = snapshot(tmp_path)
    assert doc["version"] == "1.0"
    assert uuid.UUID(doc["session_id"]).version == 4
    assert datetime.fromisoformat(doc["timestamp"]) == T0
    assert doc["sender_ip"] == "100.64.1.2"
    assert (doc["total_files"], doc["total_size"]) == (2, 2010)
    assert set(doc["files"]) == {"a.txt", "dir/b.bin"}
    for name, size in (("a.txt", 10), ("dir/b.bin", 2000)):
        rec = doc["files"][name]
        assert set(rec) >= {
            "status",
            "size",
            "transferred_bytes",
            "partial_hash",
            "original_hash",
            "last_modified",
        }
        assert (rec["status"], rec["size"], rec["transferred_bytes"]) == ("pending", size, 0)
    assert lock.active and lock.session_id == doc["session_id"]
    assert (tmp_path / JOURNAL_FILENAME).exists()


@pytest.mark.parametrize("name", ["résumé/naïve ☃.txt", "odd\ud800name", 'quote"name'])
def test_any_name_round_trips(tmp_path: Path, name: str) -> None:
    lock = manager(tmp_path)
    lock.create([(name, 3), ("plain", 1)], "ip")
    lock.update_progress(name, 2, H1)
    lock.flush()
    (tmp_path / LOCK_FILENAME).read_bytes().decode("utf-8")  # valid UTF-8 on disk
    again = reload(tmp_path)
    assert again.names() == [name, "plain"]
    assert again.entry(name).transferred_bytes == 2


def test_create_refuses_duplicates_and_negative_sizes(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="twice"):
        manager(tmp_path).create([("a", 1), ("a", 1)], "ip")
    for size in (-1, 1.5, True, "3"):
        with pytest.raises(ValueError, match="0 or more"):
            manager(tmp_path).create([("a", size)], "ip")
        with pytest.raises(ValueError, match="0 or more"):  # a dict of sizes, as the receiver's
            manager(tmp_path).create({"b": 2, "a": size}, "ip")


def test_journal_replay_restores_every_change(tmp_path: Path) -> None:
    events: list[FileStatusChanged] = []
    lock = manager(tmp_path, listener=events.append)
    lock.create(FILES, "ip")
    before = (tmp_path / LOCK_FILENAME).read_bytes()
    lock.update_progress("dir/b.bin", 700, H1)
    lock.mark_completed("a.txt", H2, final_path="a_1.txt")
    lock.mark_failed("dir/sub/c", "permission denied")
    lock.flush()
    # the snapshot was not rewritten: the changes live in the journal
    assert (tmp_path / LOCK_FILENAME).read_bytes() == before
    again = reload(tmp_path)
    b = again.entry("dir/b.bin")
    assert (b.status, b.transferred_bytes, b.partial_hash) == (FileStatus.IN_PROGRESS, 700, H1)
    a = again.entry("a.txt")
    assert (a.status, a.original_hash, a.final_path) == (FileStatus.COMPLETED, H2, "a_1.txt")
    assert a.transferred_bytes == 10
    c = again.entry("dir/sub/c")
    assert (c.status, c.reason) == (FileStatus.FAILED, "permission denied")
    assert again.resume_bytes("dir/b.bin") == 700
    assert again.resume_bytes("a.txt") == 0
    assert again.record("dir/b.bin") == (FileStatus.IN_PROGRESS, 700, H1)
    assert again.record("nope") is None and again.entry("nope") is None


def test_compaction_folds_the_journal_into_the_snapshot(tmp_path: Path) -> None:
    lock = manager(tmp_path, compact_min_bytes=0, batch_size=1)
    names = [f"f{i:03d}" for i in range(40)]
    lock.create([(n, 100) for n in names], "ip")
    journal = tmp_path / JOURNAL_FILENAME
    for i in range(100):  # far more journal bytes than the snapshot holds
        lock.update_progress(names[i % 40], 1 + i // 40, H1)
    assert journal.stat().st_size < (tmp_path / LOCK_FILENAME).stat().st_size
    doc = snapshot(tmp_path)
    assert "inlet" in doc and doc["files"]["f000"]["transferred_bytes"] >= 2
    again = reload(tmp_path)
    assert [again.entry(n).transferred_bytes for n in names[:4]] == [3, 3, 3, 3]


def test_bookkeeping_bytes_grow_linearly_with_the_file_count(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ftransfer rewrote the whole lock per batch (quadratic); 4x the files must cost ~4x."""
    written = {"n": 0}
    real = lockstore._write_all

    def counting(fd: int, data: bytes) -> None:
        written["n"] += len(data)
        real(fd, data)

    monkeypatch.setattr(lockstore, "_write_all", counting)

    def run(count: int) -> int:
        written["n"] = 0
        dest = tmp_path / str(count)
        dest.mkdir()
        lock = manager(dest, batch_size=10, compact_min_bytes=0, durable=False)
        names = [f"d/f{i:06d}" for i in range(count)]
        lock.create([(n, 50) for n in names], "ip")
        for n in names:
            lock.update_progress(n, 25, H1)
            lock.mark_completed(n, H2)
        lock.flush()
        return written["n"]

    small, large = run(500), run(2000)
    assert large < 5 * small, (small, large)


# --------------------------------------------------------------------------- validation
BAD_SNAPSHOTS = {
    "not json": b"{not json",
    "not utf8": b'{"version": "1.0\xff"}',
    "array": b"[1, 2]",
    "deep nesting": b"[" * 100_000 + b"]" * 100_000,
}


@pytest.mark.parametrize("raw", BAD_SNAPSHOTS.values(), ids=BAD_SNAPSHOTS.keys())
def test_garbage_lock_raises_lock_file_error(tmp_path: Path, raw: bytes) -> None:
    (tmp_path / LOCK_FILENAME).write_bytes(raw)
    with pytest.raises(LockFileError):
        manager(tmp_path).load()


GOOD = {"a.txt": entry(), "b": entry("in_progress", 20, 5, H1)}
BAD_DOCS = {
    "no version": {"version": None},
    "future version": {"version": "2.0"},
    "bad timestamp": {"timestamp": "yesterday"},
    "no sender": {"sender_ip": 5},
    "negative total": {"total_size": -1},
    "bool count": {"total_files": True},
    "files list": {"files": []},
    "size mismatch": {"total_size": 999},
    "too few files": {"total_files": 1},
    "record not object": {"files": {"a.txt": "done"}, "total_size": 0, "total_files": 1},
    "unknown status": {"files": {**GOOD, "a.txt": entry("done")}},
    "held beyond size": {"files": {**GOOD, "a.txt": entry("in_progress", 10, 11, H1)}},
    "bad hash": {"files": {**GOOD, "a.txt": entry("in_progress", 10, 5, "xyz")}},
    "string size": {"files": {**GOOD, "a.txt": {**entry(), "size": "10"}}},
    "unsafe name": {"files": {"../etc/passwd": entry(size=10), "b": GOOD["b"]}},
    "absolute name": {"files": {"/etc/passwd": entry(size=10), "b": GOOD["b"]}},
    "unnormalized": {"files": {"dir\\x": entry(size=10), "b": GOOD["b"]}},
    "unsafe final": {"files": {**GOOD, "a.txt": {**entry("completed"), "final_path": "../x"}}},
}


@pytest.mark.parametrize("over", BAD_DOCS.values(), ids=BAD_DOCS.keys())
def test_malformed_or_inconsistent_lock_raises(tmp_path: Path, over: dict) -> None:
    write_ftransfer_lock(tmp_path, GOOD, **over)
    with pytest.raises(LockFileError) as info:
        manager(tmp_path).load()
    assert str(info.value)  # a sentence for the window
    assert LOCK_FILENAME in str(info.value) or "lock record" in str(info.value)


def test_a_good_ftransfer_lock_loads_with_empty_hashes_as_none(tmp_path: Path) -> None:
    write_ftransfer_lock(tmp_path, GOOD)
    lock = reload(tmp_path)
    assert lock.entry("a.txt").partial_hash is None
    assert lock.entry("b").partial_hash == H1
    assert lock.sender_ip == "100.64.1.2"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    doc=st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=8),
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
        max_leaves=20,
    ),
    base=st.booleans(),
)
def test_fuzzed_lock_files_never_crash(tmp_path_factory, doc, base: bool) -> None:
    """Anything on disk either loads or raises LockFileError, never another exception."""
    dest = tmp_path_factory.mktemp("fuzz")
    if base and isinstance(doc, dict):  # mostly-valid documents reach the deeper checks
        doc = {**dict.fromkeys(("version", "session_id"), "1.0"), **doc}
    (dest / LOCK_FILENAME).write_text(json.dumps(doc), "utf-8")
    with contextlib.suppress(LockFileError):
        manager(dest).load()


def test_fuzzed_journal_lines_never_crash(tmp_path: Path) -> None:
    lock = manager(tmp_path)
    lock.create(FILES, "ip")
    head = (tmp_path / JOURNAL_FILENAME).read_bytes()
    t = "2024-01-01T00:00:00"
    bad_lines = [
        {"t": "x", "batch": {}},
        {"t": t, "batch": {"nope": ["pending", 0, None, None, None, None]}},
        {"t": t, "batch": {"a.txt": ["pending", 0]}},
        {"t": t, "batch": {"a.txt": ["zzz", 0, None, None, None, None]}},
        {"t": t, "batch": {"a.txt": ["pending", 99, None, None, None, None]}},
        ["batch"],
    ]
    for bad in bad_lines:
        line = json.dumps(bad).encode() + b"\n"
        (tmp_path / JOURNAL_FILENAME).write_bytes(head + line)
        with pytest.raises(LockFileError):
            manager(tmp_path).load()


# --------------------------------------------------------------------------- torn journals
def test_torn_last_journal_line_is_ignored_and_cut_before_appending(tmp_path: Path) -> None:
    lock = manager(tmp_path)
    lock.create(FILES, "ip")
    lock.update_progress("dir/b.bin", 100, H1)
    lock.flush()
    journal = tmp_path / JOURNAL_FILENAME
    good = journal.read_bytes()
    journal.write_bytes(good + b'{"t":"2024-05-01T12:00:00","batch":{"dir/b.bin":["in_pro')
    again = reload(tmp_path)
    assert again.entry("dir/b.bin").transferred_bytes == 100
    assert any("torn" in note for note in again.load_notes)
    again.update_progress("dir/b.bin", 300, H2)
    again.flush()
    assert journal.read_bytes().startswith(good)
    assert journal.read_bytes().count(b"\n") == good.count(b"\n") + 1
    assert reload(tmp_path).entry("dir/b.bin").transferred_bytes == 300


def test_garbled_middle_line_stops_the_replay_there(tmp_path: Path) -> None:
    lock = manager(tmp_path)
    lock.create(FILES, "ip")
    lock.update_progress("dir/b.bin", 100, H1)
    lock.flush()
    journal = tmp_path / JOURNAL_FILENAME
    data = journal.read_bytes()
    later = data.splitlines(keepends=True)[-1].replace(b"100", b"900")
    journal.write_bytes(data + b"\x00garbage\n" + later)
    again = reload(tmp_path)
    assert again.entry("dir/b.bin").transferred_bytes == 100
    assert any("garbled" in note for note in again.load_notes)


def test_journal_of_an_older_snapshot_is_ignored(tmp_path: Path) -> None:
    """A crash between the snapshot's replace and the journal's reset must not roll back."""
    lock = manager(tmp_path)
    lock.create(FILES, "ip")
    lock.update_progress("dir/b.bin", 100, H1)
    lock.flush()
    old_journal = (tmp_path / JOURNAL_FILENAME).read_bytes()
    lock.update_progress("dir/b.bin", 500, H2)
    lock.flush()
    lock._compact(lock._stamp())  # the snapshot now holds 500
    (tmp_path / JOURNAL_FILENAME).write_bytes(old_journal)  # as if the reset never happened
    again = reload(tmp_path)
    assert again.entry("dir/b.bin").transferred_bytes == 500
    again.update_progress("dir/b.bin", 600, H1)
    again.flush()  # must compact: appending to the foreign journal would be lost
    assert reload(tmp_path).entry("dir/b.bin").transferred_bytes == 600


def test_a_deleted_journal_falls_back_to_a_snapshot(tmp_path: Path) -> None:
    lock = manager(tmp_path)
    lock.create(FILES, "ip")
    (tmp_path / JOURNAL_FILENAME).unlink()
    lock.update_progress("dir/b.bin", 42, H1)
    lock.flush()
    assert snapshot(tmp_path)["files"]["dir/b.bin"]["transferred_bytes"] == 42
    assert reload(tmp_path).entry("dir/b.bin").transferred_bytes == 42


def test_ftransfer_lock_gets_a_snapshot_before_any_journal(tmp_path: Path) -> None:
    write_ftransfer_lock(tmp_path, GOOD)
    lock = reload(tmp_path)
    lock.update_progress("b", 7, H2)
    lock.flush()
    assert "inlet" in snapshot(tmp_path)
    assert snapshot(tmp_path)["files"]["b"]["transferred_bytes"] == 7


# --------------------------------------------------------------------------- staleness
def test_stale_locks_are_ignored(tmp_path: Path) -> None:
    manager(tmp_path).create(FILES, "ip")
    late = manager(tmp_path, now=WallClock(T0 + timedelta(hours=24, seconds=1)))
    assert late.load() is False and late.stale and not late.active
    assert TransferLockManager.inspect(tmp_path, now=WallClock(T0 + timedelta(hours=25))) is None
    fresh = manager(tmp_path, now=WallClock(T0 + timedelta(hours=23)))
    assert fresh.load() is True and not fresh.stale


def test_journal_activity_keeps_a_lock_fresh(tmp_path: Path) -> None:
    wall = WallClock()
    lock = manager(tmp_path, now=wall)
    lock.create(FILES, "ip")
    wall.now = T0 + timedelta(hours=20)
    lock.update_progress("dir/b.bin", 5, H1)
    lock.flush()
    later = manager(tmp_path, now=WallClock(T0 + timedelta(hours=30)))
    assert later.load() is True
    assert later.summary().timestamp == T0 + timedelta(hours=20)


def test_no_lock_means_nothing_to_resume(tmp_path: Path) -> None:
    lock = manager(tmp_path)
    assert lock.load() is False and not lock.stale
    assert TransferLockManager.inspect(tmp_path) is None
    plan = lock.plan_resume(FILES)
    assert [e.action for e in plan] == [ResumeAction.FRESH] * 3
    assert not plan.is_resume and plan.held() == {}
    with pytest.raises(LockFileError):
        lock.summary()


# --------------------------------------------------------------------------- resume plan
def test_resume_plan_sorts_files(tmp_path: Path) -> None:
    lock = manager(tmp_path)
    names = [("done", 4), ("gone", 4), ("part", 100), ("grown", 50), ("bad", 9), ("idle", 3)]
    lock.create(names, "ip")
    (tmp_path / "done_1").write_bytes(b"four")
    lock.mark_completed("done", FOUR, final_path="done_1")
    lock.mark_completed("gone", H2)  # its file is deleted below
    lock.update_progress("part", 60, H1)
    lock.update_progress("grown", 20, H2)
    lock.mark_failed("bad", "hash mismatch")
    lock.flush()
    again = reload(tmp_path)
    plan = again.plan_resume(
        [*names[:3], ("grown", 51), ("bad", 9), ("idle", 3), FileInfo("new", 8, 0)]
    )
    assert plan["done"].action is ResumeAction.SKIP
    assert (plan["done"].final_path, plan["done"].sha256, plan["done"].completed) == (
        "done_1",
        FOUR,
        True,
    )
    assert plan["gone"].action is ResumeAction.FRESH and "gone" in plan["gone"].why
    assert (plan["part"].action, plan["part"].held, plan["part"].prefix_sha256) == (
        ResumeAction.CONTINUE,
        60,
        H1,
    )
    assert plan["grown"].action is ResumeAction.FRESH and "size changed" in plan["grown"].why
    assert plan["bad"].action is ResumeAction.FRESH and "failed" in plan["bad"].why
    assert plan["idle"].action is ResumeAction.FRESH and plan["new"].action is ResumeAction.FRESH
    assert [e.name for e in plan.completed] == ["done"]
    assert [e.name for e in plan.partial] == ["part"]
    assert len(plan.fresh) == 5 and len(plan) == 7 and plan.is_resume
    assert plan.held() == {"done": 4, "part": 60}
    assert plan.get("missing") is None and plan.session_id == again.session_id


def test_create_with_a_plan_carries_the_kept_state(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_bytes(b"0123456789")
    lock = manager(tmp_path)
    lock.create(FILES, "ip")
    lock.mark_completed("a.txt", hashlib.sha256(b"0123456789").hexdigest())
    lock.update_progress("dir/b.bin", 512, H2)
    lock.flush()
    session = lock.session_id
    again = manager(tmp_path)
    plan = again.prepare(FILES, "10.0.0.9")
    assert again.session_id == session and again.sender_ip == "10.0.0.9"
    assert again.entry("a.txt").status is FileStatus.COMPLETED
    b = again.entry("dir/b.bin")
    assert (b.status, b.transferred_bytes, b.partial_hash) == (FileStatus.IN_PROGRESS, 512, H2)
    assert again.entry("dir/sub/c").status is FileStatus.PENDING
    assert plan.held() == {"a.txt": 10, "dir/b.bin": 512}
    on_disk = reload(tmp_path)
    assert on_disk.entry("dir/b.bin").transferred_bytes == 512


def test_start_without_a_lock_is_a_fresh_session(tmp_path: Path) -> None:
    lock = manager(tmp_path)
    plan = lock.start(FILES, "ip")
    assert not plan.is_resume and plan.session_id is None
    assert reload(tmp_path).session_id == lock.session_id


def test_a_fresh_start_plans_every_file_fresh_without_a_record_each(tmp_path: Path) -> None:
    lock = manager(tmp_path)
    plan = lock.start(FILES, "ip")
    assert [(e.name, e.size, e.action) for e in plan] == [
        (name, size, ResumeAction.FRESH) for name, size in FILES
    ]
    assert plan["dir/b.bin"].held == 0 and plan.get("missing") is None and len(plan) == 3
    assert not plan.is_resume and plan.held() == {} and plan.fresh == list(plan)
    lock.update_progress("dir/b.bin", 5, H1)  # the plan stays what it was at the start
    assert plan["dir/b.bin"].held == 0 and plan["dir/b.bin"].size == 2000


def test_the_snapshot_reads_the_same_whichever_records_were_touched(tmp_path: Path) -> None:
    """A new lock keeps an untouched file as its size only; its snapshot is still the text of
    every record encoded, in the list's order."""
    names = [(f"f{i}", i) for i in range(7)] + [('quote"name', 3), ("odd\ud800", 4)]
    lock = manager(tmp_path)
    lock.create(names, "ip")
    lock.update_progress("f2", 1, H1)
    lock.mark_completed("f5", H2)
    lock.mark_failed('quote"name', "hash mismatch")
    assert lock.entry("f6").status is FileStatus.PENDING  # read, not changed
    lock.close()
    written = (tmp_path / LOCK_FILENAME).read_text("utf-8")
    doc = json.loads(written)
    assert list(doc["files"]) == [name for name, _ in names]
    stamp = T0.isoformat()
    assert doc["files"]["f0"] == {
        "status": "pending",
        "size": 0,
        "transferred_bytes": 0,
        "partial_hash": None,
        "original_hash": None,
        "last_modified": stamp,
    }
    assert doc["files"]["f2"]["transferred_bytes"] == 1
    assert doc["files"]["f5"]["status"] == "completed"
    assert doc["files"]['quote"name']["reason"] == "hash mismatch"
    everything = json.dumps(doc["files"], separators=(",", ":"))
    assert written.endswith(',"files":' + everything + "}")
    again = reload(tmp_path)
    assert [again.entry(n).size for n, _ in names] == [size for _, size in names]


@pytest.mark.parametrize("touched", ["none", "every other", "all"])
def test_the_snapshot_is_handed_out_a_few_records_at_a_time(touched: str) -> None:
    """However many records were made (a whole receive makes every one), no piece of the
    snapshot holds more than ``chunk`` of them: 100,000 files once built 56 MiB at a time."""
    entries = PendingEntries({f"f{i}": i for i in range(23)}, T0.isoformat())
    step = {"none": 0, "every other": 2, "all": 1}[touched]
    for i in range(0, 23, step) if step else ():
        entries[f"f{i}"]["status"] = FileStatus.COMPLETED
    pieces = list(entries.encoded(chunk=4))
    assert all(len(json.loads("{" + piece + "}")) <= 4 for piece in pieces)
    whole = json.loads("{" + ",".join(pieces) + "}")
    assert list(whole) == list(entries) and whole == dict(entries.items())


def test_a_snapshot_is_encoded_a_few_hundred_records_per_call() -> None:
    """Each encoder call holds the GIL throughout: 2,000 records a call made a 100,000-file
    receive's lock compaction freeze the window for 0.55 s (bench/window.py)."""
    entries = PendingEntries({f"f{i}": i for i in range(1000)}, T0.isoformat())
    for i in range(1000):
        entries[f"f{i}"]["status"] = FileStatus.COMPLETED
    for pieces in (list(entries.encoded()), list(encode_entries(dict(entries.items())))):
        assert max(len(json.loads("{" + piece + "}")) for piece in pieces) <= 250
        assert len(json.loads("{" + ",".join(pieces) + "}")) == 1000


# --------------------------------------------------------------------------- statuses
def test_status_changes_reach_the_listener_synchronously(tmp_path: Path) -> None:
    events: list[FileStatusChanged] = []
    lock = manager(tmp_path, listener=events.append)
    lock.create(FILES, "ip")
    lock.mark_in_progress("a.txt")
    assert events == [FileStatusChanged("a.txt", FileStatus.IN_PROGRESS, FileStatus.PENDING)]
    lock.mark_in_progress("a.txt")  # unchanged: no event
    lock.mark_completed("a.txt", H1.upper(), final_path="a_1.txt")
    assert events[-1] == FileStatusChanged(
        "a.txt", FileStatus.COMPLETED, FileStatus.IN_PROGRESS, final_path="a_1.txt"
    )
    assert lock.entry("a.txt").original_hash == H1
    lock.mark_failed("dir/b.bin", "permission denied")
    assert events[-1] == FileStatusChanged(
        "dir/b.bin", FileStatus.FAILED, FileStatus.PENDING, reason="permission denied"
    )
    lock.mark_pending("dir/b.bin")
    assert events[-1].status is FileStatus.PENDING and lock.entry("dir/b.bin").reason is None
    lock.update_progress("dir/b.bin", 10, H2)  # first bytes move it along
    assert events[-1] == FileStatusChanged("dir/b.bin", FileStatus.IN_PROGRESS, FileStatus.PENDING)
    assert len(events) == 5


def test_retry_resets_the_held_bytes(tmp_path: Path) -> None:
    lock = manager(tmp_path)
    lock.create(FILES, "ip")
    lock.update_progress("dir/b.bin", 2000, H1)
    lock.mark_failed("dir/b.bin", "hash mismatch")
    lock.set_status("dir/b.bin", "pending")
    e = lock.entry("dir/b.bin")
    assert (e.status, e.transferred_bytes, e.partial_hash) == (FileStatus.PENDING, 0, None)


@pytest.mark.parametrize(
    ("steps", "bad"),
    [
        (["completed"], "in_progress"),
        (["failed"], "completed"),
        (["completed"], "failed"),
        (["failed"], "in_progress"),
    ],
)
def test_nonsense_transitions_are_refused(tmp_path: Path, steps: list[str], bad: str) -> None:
    lock = manager(tmp_path)
    lock.create(FILES, "ip")
    for step in steps:
        lock.set_status("a.txt", FileStatus(step), reason="x", original_hash=H1)
    with pytest.raises(ValueError):
        lock.set_status("a.txt", FileStatus(bad))


def test_bad_progress_and_unknown_names_are_refused(tmp_path: Path) -> None:
    lock = manager(tmp_path)
    lock.create(FILES, "ip")
    with pytest.raises(KeyError):
        lock.update_progress("nope", 1, H1)
    with pytest.raises(KeyError):
        lock.mark_in_progress("nope")
    with pytest.raises(ValueError):
        lock.update_progress("a.txt", 11, H1)
    with pytest.raises(ValueError):
        lock.update_progress("a.txt", -1, H1)
    with pytest.raises(ValueError):
        lock.update_progress("a.txt", 3, "not-a-hash")
    with pytest.raises(ValueError):
        lock.mark_completed("a.txt", "short")
    assert lock.entry("a.txt").status is FileStatus.PENDING  # nothing half-applied
    lock.mark_completed("a.txt", H1)
    with pytest.raises(ValueError):
        lock.update_progress("a.txt", 3, H1)


# --------------------------------------------------------------------------- batching
def journal_lines(dest: Path) -> int:
    return (dest / JOURNAL_FILENAME).read_bytes().count(b"\n")


def test_count_batches_count_distinct_entries_and_hold_back_unsynced_progress(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    syncs: list[int] = []
    real = lockstore._fdatasync
    monkeypatch.setattr(lockstore, "_fdatasync", lambda fd: (syncs.append(fd), real(fd)))
    lock = manager(tmp_path, batch_size=3, durable=True)
    names = [f"f{i}" for i in range(5)]
    lock.create([(n, 100) for n in names], "ip")
    (tmp_path / "f0.part").write_bytes(b"x" * 19)
    base, synced = journal_lines(tmp_path), len(syncs)
    for held in range(1, 20):  # progress whose .part is not synced: held back
        lock.update_progress("f0", held, H1)
    lock.mark_in_progress("f1")
    lock.mark_failed("f1", "a")
    lock.mark_failed("f1", "b")  # many changes of one entry are one pending entry
    lock.mark_completed("f2", H2)
    assert journal_lines(tmp_path) == base
    lock.mark_completed("f3", H2)  # the third ready entry writes the batch, unsynced
    assert journal_lines(tmp_path) == base + 1 and len(syncs) == synced
    again = reload(tmp_path)
    assert again.entry("f3").status is FileStatus.COMPLETED
    assert again.entry("f1").reason == "b"
    assert again.entry("f0").transferred_bytes == 0  # not recorded before its bytes are synced
    lock.flush()
    assert journal_lines(tmp_path) == base + 2 and len(syncs) == synced + 1
    assert reload(tmp_path).entry("f0").transferred_bytes == 19


def test_many_unsynced_parts_force_a_durable_batch(tmp_path: Path) -> None:
    lock = manager(tmp_path, batch_size=3, durable=True)
    lock.create([(f"f{i}", 100) for i in range(3)], "ip")
    base = journal_lines(tmp_path)
    for i in range(3):
        (tmp_path / f"f{i}.part").write_bytes(b"y" * 10)
        lock.update_progress(f"f{i}", 10, H1)
    assert journal_lines(tmp_path) == base + 1
    assert [reload(tmp_path).entry(f"f{i}").transferred_bytes for i in range(3)] == [10] * 3


def test_flush_syncs_lines_appended_without_sync(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lock = manager(tmp_path, batch_size=1, durable=True)
    lock.create(FILES, "ip")
    syncs: list[int] = []
    monkeypatch.setattr(lockstore, "_fdatasync", syncs.append)
    lock.mark_completed("a.txt", H1)  # written at once, not synced
    assert reload(tmp_path).entry("a.txt").status is FileStatus.COMPLETED and syncs == []
    lock.flush()  # nothing pending, but the journal still needs its sync
    assert len(syncs) == 1
    lock.flush()
    assert len(syncs) == 1


def test_changes_are_batched_by_time(tmp_path: Path) -> None:
    clock = FakeClock()
    lock = manager(tmp_path, clock=clock, flush_interval=2.0)
    lock.create(FILES, "ip")
    base = journal_lines(tmp_path)
    lock.update_progress("dir/b.bin", 1, H1)
    clock.t += 1.9
    lock.update_progress("dir/b.bin", 2, H1)
    assert journal_lines(tmp_path) == base
    clock.t += 0.1
    lock.update_progress("dir/b.bin", 3, H1)
    assert journal_lines(tmp_path) == base + 1
    assert reload(tmp_path).entry("dir/b.bin").transferred_bytes == 3


def test_explicit_flush_close_and_context_manager(tmp_path: Path) -> None:
    lock = manager(tmp_path)
    lock.create(FILES, "ip")
    lock.update_progress("dir/b.bin", 9, H1)
    assert reload(tmp_path).entry("dir/b.bin").transferred_bytes == 0
    lock.flush()
    assert reload(tmp_path).entry("dir/b.bin").transferred_bytes == 9
    with lock:
        lock.update_progress("dir/b.bin", 10, H1)
    assert reload(tmp_path).entry("dir/b.bin").transferred_bytes == 10
    lock.update_progress("dir/b.bin", 11, H1)
    lock.close()
    assert reload(tmp_path).entry("dir/b.bin").transferred_bytes == 11


def test_invalid_batch_size_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        manager(tmp_path, batch_size=0)


# --------------------------------------------------------------------------- durability order
def fd_path(fd: int) -> str:
    return os.readlink(f"/proc/self/fd/{fd}")


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc")
def test_part_bytes_are_synced_before_the_lock_records_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    order: list[tuple[str, str]] = []
    real_fsync, real_datasync = os.fsync, lockstore._fdatasync

    def spy_fsync(fd: int) -> None:
        order.append(("fsync", fd_path(fd)))
        real_fsync(fd)

    def spy_datasync(fd: int) -> None:
        order.append(("journal", Path(fd_path(fd)).read_text("utf-8")))
        real_datasync(fd)

    lock = manager(tmp_path, durable=True)
    lock.create(FILES, "ip")
    part = tmp_path / "dir" / "b.bin.part"
    part.parent.mkdir()
    part.write_bytes(b"x" * 700)
    monkeypatch.setattr(os, "fsync", spy_fsync)
    monkeypatch.setattr(lockstore, "_fdatasync", spy_datasync)
    lock.update_progress("dir/b.bin", 700, H1)
    lock.flush()
    synced = [i for i, (kind, what) in enumerate(order) if kind == "fsync" and what == str(part)]
    recorded = [i for i, (kind, what) in enumerate(order) if kind == "journal" and "700" in what]
    assert synced and recorded and synced[0] < recorded[0], order


def test_progress_of_a_missing_part_is_not_recorded(tmp_path: Path) -> None:
    lock = manager(tmp_path, durable=True)
    lock.create(FILES, "ip")
    lock.update_progress("dir/b.bin", 700, H1)  # no .part exists: nothing can vouch for it
    lock.flush()
    assert reload(tmp_path).entry("dir/b.bin").transferred_bytes == 0


def test_completed_files_need_no_part_sync(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    lock = manager(tmp_path, durable=True)
    lock.create(FILES, "ip")
    lock.update_progress("dir/b.bin", 2000, H1)
    lock.mark_completed("dir/b.bin", H1)
    synced: list[int] = []
    monkeypatch.setattr(os, "fsync", synced.append)
    lock.flush()
    assert reload(tmp_path).entry("dir/b.bin").status is FileStatus.COMPLETED
    assert len(synced) == 0


# --------------------------------------------------------------------------- write errors
def test_disk_full_while_appending_keeps_state_for_a_later_flush(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lock = manager(tmp_path)
    lock.create(FILES, "ip")
    journal = tmp_path / JOURNAL_FILENAME
    size_before = journal.stat().st_size
    real = lockstore._write_all

    def half_then_full(fd: int, data: bytes) -> None:
        os.write(fd, data[: len(data) // 2])
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(lockstore, "_write_all", half_then_full)
    lock.mark_completed("a.txt", H1)
    with pytest.raises(DiskFullError):
        lock.flush()
    assert journal.stat().st_size == size_before  # the torn half was cut off again
    monkeypatch.setattr(lockstore, "_write_all", real)
    lock.flush()  # still pending in memory
    assert reload(tmp_path).entry("a.txt").status is FileStatus.COMPLETED


@pytest.mark.parametrize(
    ("code", "error"), [(errno.ENOSPC, DiskFullError), (errno.EACCES, LockFileError)]
)
def test_snapshot_write_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, code: int, error: type
) -> None:
    def refuse(fd: int, data: bytes) -> None:
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(lockstore, "_write_all", refuse)
    with pytest.raises(error) as info:
        manager(tmp_path).create(FILES, "ip")
    assert not (tmp_path / (LOCK_FILENAME + ".tmp")).exists()
    if error is LockFileError:
        assert "write" in str(info.value)


# --------------------------------------------------------------------------- ending
def test_remove_deletes_lock_and_journal_only(tmp_path: Path) -> None:
    (tmp_path / "keep.txt").write_text("mine")
    lock = manager(tmp_path)
    lock.create(FILES, "ip")
    (tmp_path / (LOCK_FILENAME + ".tmp")).write_text("leftover")
    lock.remove()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.txt"]
    assert not lock.active
    lock.remove()  # twice is fine


def test_discard_deletes_only_the_parts_the_lock_names(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "victim.part").write_text("not yours")
    dest = tmp_path / "dest"
    (dest / "dir").mkdir(parents=True)
    lock = manager(dest)
    lock.create([("a.txt", 10), ("dir/b.bin", 20), ("link/victim", 5), ("folder", 1)], "ip")
    (dest / "a.txt.part").write_text("half")
    (dest / "a.txt").write_text("user's own")
    (dest / "dir" / "b.bin.part").write_text("half")
    (dest / "dir" / "other.part").write_text("not in the lock")
    (dest / "link").symlink_to(outside)
    (dest / "folder.part").mkdir()
    removed = lock.discard()
    gone = sorted(p.relative_to(dest).as_posix() for p in removed)
    assert gone == ["a.txt.part", "dir/b.bin.part"]
    assert (dest / "a.txt").read_text() == "user's own"
    assert (dest / "dir" / "other.part").exists() and (dest / "folder.part").is_dir()
    assert (outside / "victim.part").read_text() == "not yours"
    assert not (dest / LOCK_FILENAME).exists() and not (dest / JOURNAL_FILENAME).exists()


def test_discard_reads_the_lock_from_disk_and_survives_garbage(tmp_path: Path) -> None:
    manager(tmp_path).create([("x", 3)], "ip")
    (tmp_path / "x.part").write_text("abc")
    assert [p.name for p in manager(tmp_path).discard()] == ["x.part"]
    (tmp_path / LOCK_FILENAME).write_text("garbage")
    (tmp_path / "x.part").write_text("abc")
    assert manager(tmp_path).discard() == []
    assert (tmp_path / "x.part").exists() and not (tmp_path / LOCK_FILENAME).exists()


def test_summary_for_the_window(tmp_path: Path) -> None:
    lock = manager(tmp_path)
    names = [(f"f{i}", 100) for i in range(7)]
    lock.create(names, "100.64.1.9")
    lock.mark_completed("f0", H1)
    lock.mark_completed("f1", H1)
    lock.update_progress("f2", 40, H2)
    lock.mark_failed("f3", "permission denied")
    lock.mark_in_progress("f4")  # in progress, nothing held yet: still waiting
    lock.flush()
    summary = TransferLockManager.inspect(tmp_path, now=WallClock())
    assert summary == LockSummary(
        completed=2,
        partial=1,
        pending=3,
        failed=1,
        total_files=7,
        total_size=700,
        held_bytes=240,
        sender_ip="100.64.1.9",
        timestamp=T0,
        session_id=lock.session_id,
    )
    assert summary.describe() == "2 done, 1 partial, 3 waiting, 1 failed"


def test_inspect_reports_a_damaged_lock(tmp_path: Path) -> None:
    (tmp_path / LOCK_FILENAME).write_text("{}")
    with pytest.raises(LockFileError):
        TransferLockManager.inspect(tmp_path)


def test_empty_hash_constant() -> None:
    assert hashlib.sha256(b"").hexdigest() == EMPTY_SHA256
