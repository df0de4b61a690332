"""Hostile and odd wormhole offers and zip streams, against the real landing code (no network:
the stream a sender would send is made here, by the same zip writers senders use)."""

from __future__ import annotations

import io
import os
import struct
import zipfile

import pytest
from zipstream.ng import ZipStream

from inlet.core.events import FileStatus, FileStatusChanged
from inlet.core.store.destination import Destination
from inlet.core.wormhole.landing import Landing, TransferStopped
from inlet.core.wormhole.offer import FOLDER, Offer, OfferRefused, parse_offer
from inlet.core.wormhole.unzip import ZipStreamError, entries


def stock_zip(files: dict[str, bytes]) -> bytes:
    """A folder as a stock ``wormhole send`` streams it (zipstream-ng, sized: stored entries
    with data descriptors and no sizes in their headers)."""
    stream = ZipStream(sized=True)
    for name, data in files.items():
        stream.add(data, arcname=name)
    return b"".join(stream)


def deflated_zip(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def chunked(data: bytes, size: int = 4096) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


def land(tmp_path, data: bytes, offer: Offer):
    events: list[object] = []
    dest = tmp_path / "dest"
    dest.mkdir(exist_ok=True)
    with Destination(dest) as destination:
        landing = Landing(destination, offer, lambda name: False, events.append)
        try:
            landing.receive(chunked(data))
        finally:
            files = {f.info.name: f for f in landing.files}
    return files, events


def folder_offer(data: bytes, contents: dict[str, bytes], **changes) -> Offer:
    fields = dict(
        kind=FOLDER,
        name="album",
        size=len(data),
        total=sum(map(len, contents.values())),
        files=len(contents),
    )
    fields.update(changes)
    return Offer(**fields)


# -- the offer --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("offer", "words"),
    [
        ({"file": {"filename": "../../.bashrc", "filesize": 1}}, "climbs out"),
        ({"file": {"filename": "a/b", "filesize": 1}}, "a path, not a name"),
        ({"file": {"filename": "x\x00y", "filesize": 1}}, "NUL"),
        ({"file": {"filename": "", "filesize": 1}}, "empty file name"),
        ({"file": {"filename": 7, "filesize": 1}}, "not text"),
        ({"file": {"filename": "a", "filesize": -1}}, "impossible file size"),
        ({"file": {"filename": "a", "filesize": True}}, "impossible file size"),
        ({"file": {"filename": "a", "filesize": 1 << 70}}, "impossible file size"),
        ({"file": {"filename": "a", "filesize": "12"}}, "impossible file size"),
        (
            {
                "directory": {
                    "mode": "zipfile/deflated",
                    "dirname": "d",
                    "zipsize": 1,
                    "numbytes": 1,
                    "numfiles": 10**9,
                }
            },
            "claims 1000000000 files",
        ),
        (
            {
                "directory": {
                    "mode": "tarball",
                    "dirname": "d",
                    "zipsize": 1,
                    "numbytes": 1,
                    "numfiles": 1,
                }
            },
            "cannot unpack",
        ),
        ({"telepathy": {}}, "does not know"),
        (["not", "an", "object"], "not an object"),
    ],
)
def test_hostile_offers_are_refused_with_a_reason(offer, words):
    with pytest.raises(OfferRefused) as refused:
        parse_offer(offer)
    assert words in str(refused.value)


def test_a_sane_folder_offer_is_read():
    offer = parse_offer(
        {"directory": {"mode": "zipfile/deflated", "dirname": "pics", "zipsize": 10,
                       "numbytes": 8, "numfiles": 2}}
    )  # fmt: skip
    assert (offer.kind, offer.name, offer.size, offer.total, offer.files) == (
        FOLDER, "pics", 10, 8, 2,
    )  # fmt: skip


# -- the zip stream ---------------------------------------------------------------------------


def test_a_descriptor_signature_inside_a_file_does_not_end_it():
    tricky = b"head" + b"PK\x07\x08" + struct.pack("<III", 0, 4, 4) + b"PK tail" * 1000
    files = {"a/tricky.bin": tricky, "b.txt": b"after"}
    got = {name: b"".join(body) for name, _, body in entries(chunked(stock_zip(files), 7))}
    assert got == files


def test_deflated_entries_from_other_zip_writers_unpack():
    files = {"x/y.txt": b"hello " * 10_000, "empty": b""}
    got = {name: b"".join(body) for name, _, body in entries(chunked(deflated_zip(files)))}
    assert got == files


def test_a_damaged_entry_fails_its_crc_check():
    data = bytearray(stock_zip({"a.bin": os.urandom(5000)}))
    data[200] ^= 0xFF
    with pytest.raises(ZipStreamError):
        for _, _, body in entries(chunked(bytes(data))):
            for _ in body:
                pass


# -- the landing ------------------------------------------------------------------------------


def test_a_stock_folder_lands_file_by_file(tmp_path):
    files = {"top.txt": b"1", "sub/deep/b.bin": os.urandom(70_000), "empty": b""}
    data = stock_zip(files)
    records, _ = land(tmp_path, data, folder_offer(data, files))
    assert {n: r.status for n, r in records.items()} == {f"album/{n}": "completed" for n in files}
    for name, content in files.items():
        assert (tmp_path / "dest" / "album" / name).read_bytes() == content
    assert records["album/sub/deep/b.bin"].size == 70_000


def test_an_entry_that_inflates_past_its_declared_size_stops_the_transfer(tmp_path):
    files = {"bomb.txt": b"A" * 100_000}
    data = bytearray(deflated_zip(files))
    header = data.index(b"PK\x03\x04")
    struct.pack_into("<I", data, header + 22, 1000)  # its header now says 1,000 bytes
    with pytest.raises(TransferStopped, match="grew past the 1,000 bytes"):
        land(tmp_path, bytes(data), folder_offer(bytes(data), files))
    assert not list((tmp_path / "dest").rglob("*.part"))


def test_a_stream_past_the_offered_size_stops_the_transfer(tmp_path):
    files = {"a.bin": os.urandom(50_000)}
    data = stock_zip(files)
    with pytest.raises(TransferStopped, match="more than the 10,000 bytes it offered"):
        land(tmp_path, data, folder_offer(data, files, size=10_000))


def test_files_past_the_offered_total_stop_the_transfer(tmp_path):
    files = {"a.bin": os.urandom(20_000), "b.bin": os.urandom(20_000)}
    data = stock_zip(files)
    with pytest.raises(
        TransferStopped, match="would pass the 30,000 bytes the sender offered in all"
    ):
        land(tmp_path, data, folder_offer(data, files, total=30_000))
    assert (tmp_path / "dest" / "album" / "a.bin").read_bytes() == files["a.bin"]
    assert not (tmp_path / "dest" / "album" / "b.bin").exists()
    assert not list((tmp_path / "dest").rglob("*.part"))


def test_more_files_than_offered_stop_the_transfer(tmp_path):
    files = {f"f{i}": b"x" for i in range(5)}
    data = stock_zip(files)
    with pytest.raises(TransferStopped, match="more files than the 2"):
        land(tmp_path, data, folder_offer(data, files, files=2))


def test_unsafe_names_in_a_folder_are_refused_and_the_rest_lands(tmp_path):
    files = {
        "../escape.txt": b"out",
        "ok.txt": b"fine",
        ".transfer_lock.json": b"{}",
        "ok.txt.part": b"clash",
    }
    data = stock_zip(files)
    records, events = land(tmp_path, data, folder_offer(data, files))
    assert records["album/ok.txt"].status == "completed"
    for bad in ("album/../escape.txt", "album/.transfer_lock.json", "album/ok.txt.part"):
        assert records[bad].status == "failed", bad
    assert not (tmp_path / "escape.txt").exists()
    assert sorted(p.name for p in (tmp_path / "dest" / "album").iterdir()) == ["ok.txt"]
    failed = [e for e in events if isinstance(e, FileStatusChanged) and e.status == "failed"]
    assert {e.name for e in failed} == {
        "album/../escape.txt", "album/.transfer_lock.json", "album/ok.txt.part",
    }  # fmt: skip
    assert all(e.status is FileStatus.FAILED and e.reason for e in failed)


def test_an_existing_file_is_kept_and_the_new_one_lands_beside_it(tmp_path):
    files = {"a.txt": b"new"}
    data = stock_zip(files)
    (tmp_path / "dest" / "album").mkdir(parents=True)
    (tmp_path / "dest" / "album" / "a.txt").write_bytes(b"old")
    records, _ = land(tmp_path, data, folder_offer(data, files))
    assert (tmp_path / "dest" / "album" / "a.txt").read_bytes() == b"old"
    assert (tmp_path / "dest" / "album" / "a_1.txt").read_bytes() == b"new"
    assert records["album/a.txt"].path.endswith("a_1.txt")


def test_a_symlinked_folder_in_the_destination_is_not_written_through(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (tmp_path / "dest").mkdir()
    os.symlink(outside, tmp_path / "dest" / "album")
    files = {"a.txt": b"data"}
    data = stock_zip(files)
    records, _ = land(tmp_path, data, folder_offer(data, files))
    assert records["album/a.txt"].status == "failed"
    assert list(outside.iterdir()) == []
