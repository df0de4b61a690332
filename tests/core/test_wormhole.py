"""Receiving from the stock ``wormhole send`` through the real mailbox server and transit relay
on loopback (tests/wormhole_servers.py): the real parts at both ends."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
import threading

import pytest

from inlet.core.events import FileProgress, FilesAdded, FileStatus, FileStatusChanged
from inlet.core.wormhole.offer import FILE, FOLDER, TEXT
from inlet.core.wormhole.receiver import WormholeOptions, WormholeReceiver

from ..helpers import INLET, tree_hashes, write_random

pytestmark = pytest.mark.timeout(120)

_codes = itertools.count(10)


def fresh_code() -> str:
    """A code no other test of this session uses (the mailbox server is shared)."""
    return f"{next(_codes)}-crossover-clockwork"


def send(wormhole_cli, *what, code: str | None = None, flags=()):
    code = code or fresh_code()
    return code, wormhole_cli("send", "--no-qr", "--hide-progress", *flags, "--code", code, *what)


def receive(servers, code, dest, **options):
    events: list[object] = []
    on_event = options.pop("on_event", events.append)
    receiver = WormholeReceiver(
        code,
        dest,
        WormholeOptions(mailbox_url=servers.mailbox_url, relay=servers.relay_hint, **options),
        on_event=on_event,
    )
    return receiver.run(), events


def test_a_file_arrives_whole_and_the_sender_hears_it_did(wormhole_servers, wormhole_cli, tmp_path):
    source = write_random(tmp_path / "src" / "photo.raw", 3_000_000)
    dest = tmp_path / "dest"
    dest.mkdir()
    code, sender = send(wormhole_cli, source)
    result, events = receive(wormhole_servers, code, dest)
    assert result.ok, result.error
    assert result.offer.kind == FILE and result.offer.name == "photo.raw"
    assert tree_hashes(dest) == tree_hashes(source.parent)
    assert [f.status for f in result.files] == ["completed"]
    assert sender.wait() == 0
    assert "Transfer complete" in sender.output()[1]
    statuses = [e.status for e in events if isinstance(e, FileStatusChanged)]
    assert statuses == [FileStatus.IN_PROGRESS, FileStatus.COMPLETED]
    assert max(e.held for e in events if isinstance(e, FileProgress)) == 3_000_000


def test_a_folder_arrives_as_its_files(wormhole_servers, wormhole_cli, tmp_path):
    source = tmp_path / "album"
    write_random(source / "top.bin", 200_000, seed=1)
    write_random(source / "sub" / "deeper" / "b.bin", 1_500_000, seed=2)
    (source / "sub" / "notes.txt").write_text("café\n")
    (source / "empty.txt").write_bytes(b"")
    (source / "nothing-inside").mkdir()
    dest = tmp_path / "dest"
    dest.mkdir()
    code, sender = send(wormhole_cli, source)
    result, events = receive(wormhole_servers, code, dest)
    assert result.ok, result.error
    assert result.offer.kind == FOLDER and result.offer.files == 4
    assert tree_hashes(dest / "album") == tree_hashes(source)
    assert (dest / "album" / "nothing-inside").is_dir()
    assert not list(dest.rglob("*.part"))
    added = [f.name for e in events if isinstance(e, FilesAdded) for f in e.files]
    assert sorted(added) == sorted(f"album/{n}" for n in tree_hashes(source))
    assert sender.wait() == 0


def test_a_text_message_is_returned_not_saved(wormhole_servers, wormhole_cli, tmp_path):
    code, sender = send(wormhole_cli, flags=("--text", "meet at 6\x1b[2J"))
    result, _ = receive(wormhole_servers, code, tmp_path)
    assert result.ok and result.offer.kind == TEXT
    assert result.message_text == "meet at 6\x1b[2J"
    assert list(tmp_path.iterdir()) == []
    assert sender.wait() == 0


def test_a_declined_offer_writes_nothing_and_the_sender_is_told(
    wormhole_servers, wormhole_cli, tmp_path
):
    source = write_random(tmp_path / "src" / "big.iso", 100_000)
    dest = tmp_path / "dest"
    dest.mkdir()
    code, sender = send(wormhole_cli, source)
    offers = []
    result, _ = receive(wormhole_servers, code, dest, accept=lambda o: offers.append(o) or False)
    assert not result.ok
    assert result.error.startswith("You declined the file big.iso (100.0 KB).")
    assert [o.name for o in offers] == ["big.iso"]
    assert list(dest.iterdir()) == []
    assert sender.wait() != 0
    assert "transfer rejected" in sender.output()[1]


def test_a_wrong_code_fails_the_key_exchange_on_both_sides(
    wormhole_servers, wormhole_cli, tmp_path
):
    source = write_random(tmp_path / "src" / "a.bin", 1000)
    code, sender = send(wormhole_cli, source)
    wrong = code.replace("clockwork", "clocktower")
    result, _ = receive(wormhole_servers, wrong, tmp_path / "src")
    assert not result.ok
    assert "does not match the sender's (the key exchange failed)" in result.error
    assert sender.wait() != 0
    assert "Key confirmation failed" in sender.output()[1]


def test_without_direct_addresses_the_data_goes_through_the_relay(
    wormhole_servers, wormhole_cli, tmp_path
):
    source = write_random(tmp_path / "src" / "via-relay.bin", 2_000_000, seed=3)
    dest = tmp_path / "dest"
    dest.mkdir()
    before = len(wormhole_servers.relay_usage())
    code, sender = send(wormhole_cli, source, flags=("--no-listen",))
    result, _ = receive(wormhole_servers, code, dest, no_listen=True)
    assert result.ok, result.error
    assert "relay" in result.via
    assert tree_hashes(dest) == tree_hashes(source.parent)
    assert sender.wait() == 0
    # the relay logs a pairing when both of its sides have hung up
    from ..helpers import wait_until

    wait_until(
        lambda: any(u["mood"] == "happy" for u in wormhole_servers.relay_usage()[before:]),
        30,
        "the relay's record of the transfer",
    )
    happy = [u for u in wormhole_servers.relay_usage()[before:] if u["mood"] == "happy"]
    assert happy[0]["total_bytes"] >= 2_000_000


def test_a_killed_sender_fails_the_transfer_and_leaves_no_part_file(
    wormhole_servers, wormhole_cli, tmp_path
):
    source = write_random(tmp_path / "src" / "big.bin", 64 << 20, seed=4)
    dest = tmp_path / "dest"
    dest.mkdir()
    code, sender = send(wormhole_cli, source)
    killed = threading.Event()

    def on_event(event):
        if isinstance(event, FileProgress) and not killed.is_set():
            killed.set()
            sender.kill()

    result, _ = receive(wormhole_servers, code, dest, on_event=on_event)
    assert killed.is_set()
    assert not result.ok
    assert "connection to the sender was lost" in result.error
    assert [f.status for f in result.files] == ["failed"]
    assert list(dest.iterdir()) == []


def test_a_file_that_cannot_be_saved_fails_and_the_sender_hears_it(
    wormhole_servers, wormhole_cli, tmp_path
):
    source = write_random(tmp_path / "src" / "a.bin", 50_000)
    dest = tmp_path / "dest"
    (dest / "a.bin.part").mkdir(parents=True)  # something stands where its .part goes
    code, sender = send(wormhole_cli, source)
    result, _ = receive(wormhole_servers, code, dest)
    assert not result.ok
    assert result.error.startswith("1 of 1 file could not be saved: a.bin")
    assert [f.status for f in result.files] == ["failed"]
    assert sender.wait() != 0
    assert "Transfer failed (remote says" in sender.output()[1]


def test_cancel_stops_a_receive_that_waits_for_its_sender(wormhole_servers, tmp_path):
    receiver = WormholeReceiver(
        fresh_code(),
        tmp_path,
        WormholeOptions(
            mailbox_url=wormhole_servers.mailbox_url, relay=wormhole_servers.relay_hint
        ),
    )
    events: list[object] = []
    receiver._emit_callback = events.append
    done = threading.Event()
    outcome = []
    thread = threading.Thread(target=lambda: (outcome.append(receiver.run()), done.set()))
    thread.start()
    receiver.cancel()
    assert done.wait(60)
    thread.join()
    assert not outcome[0].ok and "cancelled" in outcome[0].error


def _inlet_receive(servers, *args):
    env = {**os.environ, "WORMHOLE_RELAY_URL": servers.mailbox_url}
    return subprocess.run(
        [*INLET, "receive", "--relay", servers.relay_hint, *args],
        capture_output=True,
        text=True,
        timeout=90,
        env=env,
    )


def test_inlet_receive_takes_a_wormhole_code_and_prints_json(
    wormhole_servers, wormhole_cli, tmp_path
):
    source = tmp_path / "trip"
    write_random(source / "day1" / "a.jpg", 50_000, seed=5)
    (source / "empty").write_bytes(b"")
    dest = tmp_path / "new" / "dest"  # made when the offer is accepted
    code, sender = send(wormhole_cli, source)
    done = _inlet_receive(wormhole_servers, code, "-o", dest, "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["ok"] is True and report["error"] is None
    assert sorted(f["name"] for f in report["files"]) == ["trip/day1/a.jpg", "trip/empty"]
    assert {f["status"] for f in report["files"]} == {"completed"}
    assert tree_hashes(dest / "trip") == tree_hashes(source)
    assert sender.wait() == 0


def test_inlet_receive_says_a_wrong_code_in_one_line(wormhole_servers, wormhole_cli, tmp_path):
    code, sender = send(wormhole_cli, flags=("--text", "hi"))
    done = _inlet_receive(wormhole_servers, code.replace("clockwork", "crowbar"), "-o", tmp_path)
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert done.stderr.startswith("inlet: The wormhole code does not match the sender's")
    sender.wait()


def test_inlet_receive_prints_a_text_message_escaped(wormhole_servers, wormhole_cli, tmp_path):
    code, sender = send(wormhole_cli, flags=("--text", "line one\x1b[31m"))
    done = _inlet_receive(wormhole_servers, code, "-o", tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "line one\\x1b[31m\n"
    assert sender.wait() == 0


if sys.platform == "win32":  # pragma: no cover - the servers' ``twist`` scripts are POSIX here
    pytest.skip("magic-wormhole's servers are started as POSIX processes", allow_module_level=True)
