"""The fast paths of issue 6 give the same answers as the simple ones, and keep invariants 2/4.

- `DestinationResolver` (each folder looked at once) decides exactly like `resolve_destination`;
- `GroupCommit` names verified files only after their bytes were synced, one sync for many;
- a fresh file's `FileWriter` is made with its first byte, and creates its folders, ``.part`` and
  hash context with its first chunk;
- `FrameBuffer` read in place (`get_buffer`/`buffer_updated`) parses like `feed`;
- the extension's per-file hash message is parsed the same by its fast and its full path.
"""

from __future__ import annotations

import gc
import hashlib
import json
import os
import random
from pathlib import Path

import pytest

from inlet.core import framing, messages
from inlet.core import receiver as receiver_module
from inlet.core import writer as writer_module
from inlet.core.codes import parse_code
from inlet.core.errors import ProtocolError, UnsafeNameError
from inlet.core.events import FileProgress, FileStatus, TransferStarted
from inlet.core.lock import TransferLockManager
from inlet.core.paths import DestinationResolver, resolve_destination
from inlet.core.receive import writers as writers_module
from inlet.core.session import SessionCipher
from inlet.core.store import durable
from inlet.core.store.groupcommit import GroupCommit
from inlet.core.writer import FileWriter

from ..helpers import start_sender, tree_hashes


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# -- DestinationResolver ------------------------------------------------------------------------


def _outcome(fn, name):
    try:
        return ("ok", *fn(name))
    except UnsafeNameError as err:
        return ("refused", err.message)


@pytest.mark.skipif(os.name == "nt", reason="symlinks need privileges on Windows")
def test_resolver_decides_like_resolve_destination(tmp_path: Path) -> None:
    dest = tmp_path / "dest"
    (dest / "real" / "deep").mkdir(parents=True)
    (dest / "real" / "file.txt").write_text("x")
    (dest / "real" / "held.bin.part").write_text("x")
    (dest / "afile").write_text("x")
    outside = tmp_path / "outside"
    outside.mkdir()
    (dest / "link").symlink_to(outside)
    (dest / "real" / "linked").symlink_to(outside / "nothing")
    (dest / "real" / "trap.txt.part").symlink_to(outside / "trap")
    names = [
        "new/a.txt",
        "new/b/c.txt",
        "real/file.txt",
        "real/held.bin",
        "real/deep/x",
        "real/new.txt",
        "afile/under",
        "link/x.txt",
        "link/deeper/x.txt",
        "real/linked",
        "real/linked/x",
        "real/trap.txt",
        "top.txt",
        "../escape",
    ]
    resolver = DestinationResolver(dest)
    for name in names:  # twice, in shuffled orders: the cache must not change an answer
        for _ in range(2):
            simple = _outcome(lambda n: (str(resolve_destination(dest, n)),), name)
            fast = _outcome(resolver.resolve, name)
            assert fast[:2] == simple[:2], name
            if fast[0] == "ok":
                target, exists, has_part = fast[1:]
                assert exists == os.path.lexists(target), name
                assert has_part == os.path.lexists(str(target) + ".part"), name
        random.Random(1).shuffle(names)


# -- GroupCommit and the writer's lazy .part ----------------------------------------------------


class Recorder:
    """Counts whole-file-system syncs and fsyncs, and what was on disk when a name appeared."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.syncfs = 0
        self.fsyncs = 0
        real_syncfs, real_fsync = durable.syncfs, os.fsync

        def counted_syncfs(folder):
            self.syncfs += 1
            return real_syncfs(folder)

        def counted_fsync(fd):
            self.fsyncs += 1
            return real_fsync(fd)

        monkeypatch.setattr(durable, "syncfs", counted_syncfs)
        monkeypatch.setattr(os, "fsync", counted_fsync)


def _lock(dest: Path, files: list[tuple[str, bytes]]) -> TransferLockManager:
    lock = TransferLockManager(dest, durable=True, sync_batch=1000)
    lock.create([(n, len(d)) for n, d in files], "127.0.0.1")
    return lock


def test_group_commit_names_files_only_at_the_commit_with_one_sync(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = [(f"d{i % 3}/f{i}.bin", os.urandom(100 + i)) for i in range(20)] + [("empty", b"")]
    lock = _lock(tmp_path, files)
    commits = GroupCommit(lock.sync_clock, max_files=1000)
    rec = Recorder(monkeypatch)
    named: list[tuple[str, bool]] = []
    for name, data in files:
        w = FileWriter(tmp_path / name, len(data), 0, lock, lock_key=name)
        w.open_for_writing(defer_create=True)
        assert not w.part_file.exists()  # made by the first chunk, not before
        w.write_chunk(data)
        assert w.verify(sha(data))
        commits.add(w, lambda w, ok: named.append((w.lock_key, ok)))
        assert not (tmp_path / name).exists()  # invariant 2: no name before the sync
    assert not commits.due() and named == []
    commits.commit()
    assert sorted(named) == sorted((n, True) for n, _ in files)
    for name, data in files:
        assert (tmp_path / name).read_bytes() == data
        assert lock.entry(name).status is FileStatus.COMPLETED
    if durable._syncfs is not None:
        assert rec.syncfs == 1 and rec.fsyncs == 0  # one sync for the group, not one per file


def _verified_group(
    tmp_path: Path, lock: TransferLockManager, files: list[tuple[str, bytes]]
) -> GroupCommit:
    """A group commit holding ``files``, each written whole and verified, none named yet."""
    commits = GroupCommit(lock.sync_clock)
    for name, data in files:
        w = FileWriter(tmp_path / name, len(data), 0, lock, lock_key=name)
        w.open_for_writing(defer_create=True)
        w.write_chunk(data)
        assert w.verify(sha(data))
        commits.add(w, lambda w, ok: None)
    return commits


def test_group_commit_skips_the_sync_a_lock_flush_already_made(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if durable._syncfs is None:
        pytest.skip("no syncfs here: every file is fsynced on its own")
    files = [(f"f{i}", os.urandom(50)) for i in range(5)]
    lock = _lock(tmp_path, files)
    commits = _verified_group(tmp_path, lock, files)
    lock.flush()  # syncs the five .part files with one syncfs
    rec = Recorder(monkeypatch)
    commits.commit()
    assert rec.syncfs == 0 and rec.fsyncs == 0
    assert all((tmp_path / n).exists() for n, _ in files)


def test_a_failed_sync_names_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    files = [(f"f{i}", os.urandom(50)) for i in range(4)]
    lock = _lock(tmp_path, files)
    commits = _verified_group(tmp_path, lock, files)

    def broken(folder):
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(durable, "syncfs", broken)
    monkeypatch.setattr(os, "fsync", lambda fd: broken(None))
    commits.commit()
    for name, _ in files:
        assert not (tmp_path / name).exists()
        assert (tmp_path / (name + ".part")).exists()
        assert lock.entry(name).status is FileStatus.FAILED


def test_group_commit_is_due_by_count_bytes_and_age(tmp_path: Path) -> None:
    now = [0.0]
    commits = GroupCommit(
        None, max_files=3, max_bytes=1000, max_delay=0.5, time_source=lambda: now[0]
    )
    w = FileWriter(tmp_path / "a", 10, 0)
    commits.add(w, lambda w, ok: None)
    assert not commits.due() and commits.seconds_left() == 0.5
    now[0] = 0.6
    assert commits.due()
    big = GroupCommit(None, max_bytes=1000)
    big.add(FileWriter(tmp_path / "b", 1000, 0), lambda w, ok: None)
    assert big.due()


def test_a_fresh_writer_makes_its_folders_with_the_first_chunk(tmp_path: Path) -> None:
    w = FileWriter(tmp_path / "a" / "b" / "c.txt", 5, 0)
    w.open_for_writing(defer_create=True)
    assert not (tmp_path / "a").exists()
    assert w.write_chunk(b"hello") == 5
    assert w.complete_file(sha(b"hello"))
    assert (tmp_path / "a" / "b" / "c.txt").read_bytes() == b"hello"


def test_a_waiting_writer_holds_no_hash_context_until_its_first_byte(tmp_path: Path) -> None:
    """100,000 files waiting for their bytes cost ~24 MiB of OpenSSL contexts otherwise."""
    w = FileWriter(tmp_path / "c.txt", 10, 0)
    w.open_for_writing(defer_create=True)
    assert w._hasher is None
    w.write_chunk(b"hello")
    assert w._hasher is not None and w.get_hash() == sha(b"hello")
    w.reset_for_retry()
    assert w._hasher is None and w.get_hash() == sha(b"")
    w.write_chunk(b"hello")
    w.write_chunk(b"world")
    assert w.complete_file(sha(b"helloworld"))


@pytest.mark.timeout(60)
@pytest.mark.parametrize("flags", [(), ("--no-ext",)], ids=["ext", "legacy"])
def test_a_fresh_file_gets_its_writer_with_its_first_byte(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, flags: tuple[str, ...]
) -> None:
    """No writer exists while the list is announced (100,000 waiting writers were ~40 MiB);
    each file, the empty one too, gets exactly one and lands byte-identical."""
    src = tmp_path / "src"
    src.mkdir()
    for i in range(40):
        (src / f"f{i:02d}.bin").write_bytes(os.urandom(i * 97))
    made: list[str] = []

    class CountingWriter(FileWriter):
        def __init__(self, filename, *args, **kwargs) -> None:
            made.append(os.fspath(filename))
            super().__init__(filename, *args, **kwargs)

    monkeypatch.setattr(writers_module, "FileWriter", CountingWriter)
    at_start: list[int] = []

    def on_event(event: object) -> None:
        if isinstance(event, TransferStarted):
            at_start.append(len(made))

    sender = start_sender(src, *flags)
    try:
        dest = tmp_path / "dest"
        receiver = receiver_module.Receiver(parse_code(sender.code), dest, on_event=on_event)
        result = receiver.run()
    finally:
        sender.stop()
    assert result.ok, result.error
    assert at_start == [0]
    assert sorted(made) == sorted(str(dest / "src" / f"f{i:02d}.bin") for i in range(40))
    assert tree_hashes(dest / "src") == tree_hashes(src)


def test_young_objects_are_collected_less_often_while_files_stream(tmp_path: Path) -> None:
    """Each small file makes a writer, events and a lock record: while the stream runs, the
    youngest generation is collected every 10,000 new objects instead of 700, and the
    collector's thresholds are the caller's again afterwards."""
    src = tmp_path / "src"
    src.mkdir()
    for i in range(5):
        (src / f"f{i}.bin").write_bytes(os.urandom(100 + i))
    before = gc.get_threshold()
    during: list[int] = []

    def on_event(event: object) -> None:
        if isinstance(event, FileProgress):
            during.append(gc.get_threshold()[0])

    sender = start_sender(src)
    try:
        receiver = receiver_module.Receiver(
            parse_code(sender.code), tmp_path / "dest", on_event=on_event
        )
        result = receiver.run()
    finally:
        sender.stop()
    assert result.ok, result.error
    assert during and min(during) >= 10_000
    assert gc.get_threshold() == before


def test_a_stale_part_is_emptied_by_the_first_chunk(tmp_path: Path) -> None:
    (tmp_path / "c.txt.part").write_bytes(b"garbage from an earlier crash, longer")
    w = FileWriter(tmp_path / "c.txt", 5, 0)
    w.open_for_writing(defer_create=True)
    w.write_chunk(b"hello")
    assert w.part_file.read_bytes() == b"hello"


def test_a_file_in_place_of_a_folder_fails_only_that_file(tmp_path: Path) -> None:
    (tmp_path / "a").write_text("a file")
    w = FileWriter(tmp_path / "a" / "c.txt", 5, 0)
    w.open_for_writing(defer_create=True)
    assert w.write_chunk(b"hello") == 0
    assert w.failed and "a file stands where its folder should be" in w.failed_reason


def test_writer_module_keeps_the_fsync_per_file_without_a_group(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    synced: list[int] = []
    real = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (synced.append(fd), real(fd)))
    w = writer_module.FileWriter(tmp_path / "x", 3, 0)
    w.open_for_writing()
    w.write_chunk(b"abc")
    assert w.complete_file(sha(b"abc")) and len(synced) == 1


# -- FrameBuffer read in place ------------------------------------------------------------------


def _frames(count: int, seed: int) -> tuple[bytes, list[bytes]]:
    rng = random.Random(seed)
    cipher = SessionCipher(bytes(32))
    payloads = [rng.randbytes(rng.choice([0, 1, 100, 5000, 70_000, 300_000])) for _ in range(count)]
    return b"".join(cipher.seal(p) for p in payloads), payloads


@pytest.mark.parametrize("seed", range(5))
def test_reading_into_the_buffer_parses_like_feeding_it(seed: int) -> None:
    stream, payloads = _frames(40, seed)
    rng = random.Random(seed)
    buf = framing.FrameBuffer()
    cipher = SessionCipher(bytes(32))
    got: list[bytes] = []
    pos = 0
    while len(got) < len(payloads):
        frame = buf.read_sealed("data", framing.MAX_DATA_PAYLOAD)
        if frame is not None:
            got.append(cipher.open(*frame))
            continue
        view = buf.get_buffer(rng.choice([1, 7, 4096, 1 << 20]))
        n = min(len(view), rng.randint(1, 200_000), len(stream) - pos)
        view[:n] = stream[pos : pos + n]
        pos += n
        buf.buffer_updated(n)
    assert got == payloads and len(buf) == 0
    assert len(buf._buf) <= 4 * (300_000 + 64) + (1 << 20) * 2 + (8 << 20)


def test_a_huge_announced_length_does_not_size_the_buffer() -> None:
    buf = framing.FrameBuffer()
    header = (12).to_bytes(4, "big") + bytes(12) + (0xFFFFFFF0).to_bytes(4, "big")
    buf.feed(header)
    view = buf.get_buffer(4096)
    assert len(view) < 1 << 20  # the hint ignores a length beyond any data message
    with pytest.raises(ProtocolError):
        buf.read_sealed("a data message", framing.MAX_DATA_PAYLOAD)


# -- data decrypted into one reused buffer ------------------------------------------------------


@pytest.mark.parametrize("extension", [True, False])
def test_reused_buffers_hand_on_the_same_bytes(extension: bool) -> None:
    from inlet.core import wire

    rng = random.Random(3)
    sizes = [0, 10, 5000, 1 << 20, (1 << 20) + 7]
    files = {f"f{i}": rng.randbytes(rng.choice(sizes)) for i in range(8)}
    sender = wire.SenderConnection("tok", extension=extension)
    receiver = wire.ReceiverConnection("tok", extension=extension, reuse_buffers=True)

    def pump(a, b) -> None:
        if data := a.data_to_send():
            b.receive_data(data)

    sender.start()
    pump(sender, receiver)  # the sender's key
    assert receiver.next_event() is wire.NEED_DATA
    pump(receiver, sender)  # the receiver's key
    assert sender.next_event() is wire.NEED_DATA
    pump(sender, receiver)  # the challenge
    assert receiver.next_event() is wire.NEED_DATA
    pump(receiver, sender)  # the answer
    assert isinstance(sender.next_event(), wire.Authenticated)
    sender.send_metadata([(n, len(d)) for n, d in files.items()])
    pump(sender, receiver)
    assert isinstance(receiver.next_event(), wire.Metadata)
    receiver.accept(plan={} if extension else None)
    pump(receiver, sender)
    sender.next_event()
    if extension:
        sender.send_accept([0] * len(files))
        for i, data in enumerate(files.values()):
            for at in range(0, len(data), 1 << 20):
                sender.send_data(i, at, data[at : at + (1 << 20)])
            sender.send_file_hash(i, sha(data))
    else:
        blob = b"".join(files.values())
        for at in range(0, len(blob), 1 << 20):
            sender.send_stream_slice(blob[at : at + (1 << 20)])
        sender.send_hashes({n: sha(d) for n, d in files.items()})
    sender.send_end()
    pump(sender, receiver)
    got = {i: bytearray() for i in range(len(files))}
    while not isinstance(event := receiver.next_event(), wire.EndOfStream):
        if isinstance(event, wire.FileData):
            got[event.index] += event.data  # used at once, as the receiver does
    assert [bytes(b) for b in got.values()] == list(files.values())


# -- the per-file hash message --------------------------------------------------------------------


def test_file_hash_fast_and_full_parse_agree() -> None:
    digest = sha(b"x")
    exact = messages.build_file_hash(7, digest)
    assert messages.parse_file_hash(exact, 7) == digest
    spaced = b'{"sha256": "%s", "index": 7, "type": "inlet_hash"}' % digest.upper().encode()
    assert messages.parse_file_hash(spaced, 7) == digest  # another spelling: the full parser
    with pytest.raises(ProtocolError):
        messages.parse_file_hash(exact, 8)  # names another file
    twice = exact[:-1] + b', "index": 7}'
    with pytest.raises(ProtocolError):
        messages.parse_file_hash(twice, 7)  # a duplicate key is still refused


# -- the file list, a run of entries at a time ----------------------------------------------


def _metadata(entries: list[str], total: int) -> bytes:
    """A metadata message whose file list is ``entries``, each spelled as given."""
    files = ", ".join(entries)
    head = f'{{"type": "stream", "file_count": {len(entries)}, "total_size": {total}, '
    return (head + f'"files": [{files}]}}').encode("utf-8")


def _entries(count: int, seed: int) -> tuple[list[str], list[tuple[str, int, int]], int]:
    """``count`` entries, most in json.dumps's spelling, some in others (spaces, escapes,
    extra keys, raw UTF-8): (the entries, what they hold, the bytes their names take)."""
    rnd = random.Random(seed)
    spelled, expected, offset, name_bytes = [], [], 0, 0
    for i in range(count):
        size = rnd.choice([0, 1, 7, 4096, 10**12])
        name = rnd.choice([f"f{i}.bin", f"d{i % 3}/é{i}", f'q"{i}', f"s p{i}", f"u\u2603{i}"])
        entry = {"filename": name, "size": size, "offset": offset}
        kind = rnd.random()
        ascii_only = kind < 0.95
        if kind < 0.8:
            text = json.dumps(entry)
        elif kind < 0.9:
            text = json.dumps(entry, indent=1)
        elif kind < 0.95:
            text = json.dumps({"offset": offset, "x": [1], "filename": name, "size": size})
        else:
            text = json.dumps(entry, ensure_ascii=False)
        spelled.append(text)
        expected.append((name, size, offset))
        name_bytes += len(json.dumps(name, ensure_ascii=ascii_only).encode("utf-8"))
        offset += size
    return spelled, expected, name_bytes


@pytest.mark.parametrize("seed", range(6))
def test_the_file_list_reads_the_same_a_run_or_an_entry_at_a_time(seed: int) -> None:
    spelled, expected, name_bytes = _entries(5000, seed)
    total = sum(size for _, size, _ in expected)
    meta = messages.parse_metadata(_metadata(spelled, total))
    assert [(f.name, f.size, f.offset) for f in meta.files] == expected
    assert meta.name_bytes == name_bytes


def test_a_broken_entry_inside_a_run_is_named() -> None:
    names = [f"f{i:05d}" for i in range(3000)]
    entries = [json.dumps({"filename": n, "size": 1, "offset": i}) for i, n in enumerate(names)]
    bad = list(entries)
    bad[1500] = json.dumps({"filename": names[1500], "size": 1, "offset": 1501})
    with pytest.raises(ProtocolError, match="The offset of 'f01500' is 1501, but the files before"):
        messages.parse_metadata(_metadata(bad, 3000))
    capped = _metadata(entries, 3000).replace(b'"file_count": 3000', b'"file_count": 2000', 1)
    with pytest.raises(ProtocolError, match="more than 2,000 files"):
        messages.parse_metadata(capped)
    not_utf8 = _metadata(entries, 3000).replace(b'"f01700"', b'"f\xff1700"', 1)
    with pytest.raises(ProtocolError, match="not UTF-8"):
        messages.parse_metadata(not_utf8)
