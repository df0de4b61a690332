"""Inlet to Inlet through magic-wormhole's real mailbox server and transit relay on loopback:
``inlet send --wormhole`` and ``inlet receive WORMHOLE-CODE``, forced through the relay."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time

import pytest

from inlet.core.tunnel import InletOffer, inlet_offer

from ..helpers import INLET, sha256_file, tree_hashes, wait_until, write_random

pytestmark = pytest.mark.timeout(240)

SIZE = 96 << 20
#: Bytes that travel besides file data: the protocol's framing and messages, the records'.
OVERHEAD = 1 << 20


def flags(servers) -> list[str]:
    """Both ends use the local servers and offer no direct address: the data takes the relay."""
    return ["--mailbox", servers.mailbox_url, "--relay", servers.relay_hint, "--no-listen"]


def start(*args, **kwargs) -> subprocess.Popen:
    return subprocess.Popen(
        [*INLET, *map(str, args)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        **kwargs,
    )


def next_code(sender: subprocess.Popen) -> str:
    line = sender.stdout.readline()
    assert line.startswith("inlet receive "), (line, sender.poll())
    return line.split()[-1]


@pytest.fixture
def processes():
    started: list[subprocess.Popen] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.kill()
        process.wait(10)
        for stream in (process.stdout, process.stderr):
            if stream:
                stream.close()


def part_size(dest) -> int:
    return sum(p.stat().st_size for p in dest.rglob("*.part"))


def test_a_receiver_killed_mid_file_resumes_through_the_relay_with_only_the_missing_bytes(
    tmp_path, wormhole_servers, processes
):
    source = tmp_path / "send" / "album"
    write_random(source / "big.bin", SIZE)
    write_random(source / "notes.txt", 1234, seed=1)
    dest = tmp_path / "dest"
    dest.mkdir()
    since = time.time() - 1
    sender = start("send", "--wormhole", source, *flags(wormhole_servers))
    processes.append(sender)

    first = start("receive", next_code(sender), "-o", dest, "--json", *flags(wormhole_servers))
    processes.append(first)
    wait_until(lambda: part_size(dest) >= 8 << 20 or first.poll() is not None, 120, "8 MiB")
    first.send_signal(signal.SIGKILL)
    assert first.wait(30) == -signal.SIGKILL, "the first receive ended before it was killed"
    held = part_size(dest)
    assert 0 < held < SIZE

    # The sender is still there, with a new code (a wormhole code works once).
    again = subprocess.run(
        [*INLET, "receive", next_code(sender), "-o", dest, "--json", *flags(wormhole_servers)],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert again.returncode == 0, again.stderr
    result = json.loads(again.stdout)
    assert result["ok"] and tree_hashes(dest / "album") == tree_hashes(source)
    assert sha256_file(dest / "album" / "big.bin") == sha256_file(source / "big.bin")
    # What a kill -9 left on disk is kept: the file data that travelled is what was missing.
    assert result["bytes_on_wire"] <= SIZE - held + 1234 + OVERHEAD
    assert sender.wait(60) == 0
    log = sender.stderr.read()
    assert "Waiting for the receiver to come back" in log and "received every file" in log

    # Counted at the relay: the second connection carried only what was missing.
    def ours() -> list[dict]:
        return [u for u in wormhole_servers.relay_usage() if u["started"] >= since]

    wait_until(lambda: len([u for u in ours() if u["total_bytes"]]) >= 2, 60, "relay records")
    carried = [
        u["total_bytes"] for u in sorted(ours(), key=lambda u: u["started"]) if u["total_bytes"]
    ]
    assert carried[0] >= held and carried[-1] <= SIZE - held + OVERHEAD


def test_a_stock_wormhole_receiver_is_told_no_and_an_inlet_offer_is_checked(
    tmp_path, wormhole_servers, wormhole_cli, processes
):
    write_random(tmp_path / "f.bin", 1000)
    sender = start("send", "--wormhole", tmp_path / "f.bin", *flags(wormhole_servers))
    processes.append(sender)
    stock = wormhole_cli("receive", "--accept-file", "-o", tmp_path / "got", next_code(sender))
    assert stock.wait(60) != 0
    assert not (tmp_path / "got").exists()
    assert sender.wait(60) == 1
    said = sender.stderr.read()
    assert "The receiver declined" in said and "Traceback" not in said, said

    good = InletOffer("7-amber-ocean-tiger-river", 2, 10).to_message()["offer"]
    assert inlet_offer(good) == InletOffer("7-amber-ocean-tiger-river", 2, 10)
    for bad in (
        {"inlet": {**good["inlet"], "token": "ocean-tiger"}},  # an ftransfer token
        {"inlet": {**good["inlet"], "token": "7-" + "a" * 300}},
        {"inlet": {**good["inlet"], "size": -1}},
        {"inlet": {**good["inlet"], "files": True}},
        {"inlet": {**good["inlet"], "v": 2}},
        {"file": {"filename": "x", "filesize": 1}},
        "inlet",
    ):
        assert inlet_offer(bad) is None
