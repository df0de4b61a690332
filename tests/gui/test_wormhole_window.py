"""The real window receiving from the stock ``wormhole send``, through magic-wormhole's real
mailbox server and transit relay on loopback (tests/wormhole_servers.py)."""

from __future__ import annotations

import itertools

import pytest
from PySide6.QtCore import Qt

from inlet.gui.widgets import BannerKind

from ..helpers import write_random
from .test_e2e import prepare, press_receive, statuses, tree

pytestmark = pytest.mark.timeout(120)

_codes = itertools.count(500)


@pytest.fixture(autouse=True)
def local_wormhole(wormhole_servers, monkeypatch):
    """The window finds the servers as the ``wormhole`` command does: the environment."""
    monkeypatch.setenv("WORMHOLE_RELAY_URL", wormhole_servers.mailbox_url)
    monkeypatch.setenv("WORMHOLE_TRANSIT_HELPER", wormhole_servers.relay_hint)


def send(wormhole_cli, *what):
    code = f"{next(_codes)}-crossover-clockwork"
    return code, wormhole_cli("send", "--no-qr", "--hide-progress", "--code", code, *what)


def answer(qtbot, win, choice: str) -> str:
    """Wait for the offer, press ``choice`` ("Receive" or "Decline"); the offer's text."""
    qtbot.waitUntil(lambda: win.offer_box is not None and win.offer_box.isVisible(), timeout=60_000)
    box = win.offer_box
    text = box.text()
    (button,) = [b for b in box.buttons() if b.text() == choice]
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    return text


def test_a_folder_from_wormhole_send_arrives_as_rows(qtbot, window, wormhole_cli, tmp_path):
    source = tmp_path / "album"
    write_random(source / "photos" / "one.jpg", 300_000, seed=1)
    write_random(source / "photos" / "2024" / "two.jpg", 1_200_000, seed=2)
    (source / "readme.txt").write_bytes(b"hello\n")
    (source / "empty.dat").write_bytes(b"")
    dest = tmp_path / "received"
    dest.mkdir()
    code, sender = send(wormhole_cli, source)
    prepare(qtbot, window, code, dest)
    with qtbot.waitSignal(window.transferDone, timeout=90_000) as done:
        qtbot.mouseClick(window.receive_button, Qt.MouseButton.LeftButton)
        offered = answer(qtbot, window, "Receive")
    finished = done.args[0]
    assert finished.ok, finished.error
    assert offered.startswith("The sender offers the folder album (4 files, 1.5 MB).")
    expected = {f"album/{p.relative_to(source).as_posix()}": p.read_bytes()
                for p in source.rglob("*") if p.is_file()}  # fmt: skip
    assert tree(dest) == expected
    assert statuses(window) == dict.fromkeys(expected, "Done")
    assert window.model.counts() == (4, 0, 4)
    sizes = {row.name: row.size for row in window.model.rows()}
    assert sizes == {name: len(data) for name, data in expected.items()}
    assert window.model.total_bytes == 1_500_006
    assert window.banner.kind == BannerKind.SUCCESS
    assert sender.wait() == 0


def test_a_declined_offer_writes_nothing(qtbot, window, wormhole_cli, tmp_path):
    source = write_random(tmp_path / "src" / "movie.mkv", 10_000)
    dest = tmp_path / "received"
    dest.mkdir()
    code, sender = send(wormhole_cli, source)
    prepare(qtbot, window, code, dest)
    with qtbot.waitSignal(window.transferDone, timeout=90_000) as done:
        qtbot.mouseClick(window.receive_button, Qt.MouseButton.LeftButton)
        answer(qtbot, window, "Decline")
    assert not done.args[0].ok
    assert window.banner.isVisible() and "You declined the file movie.mkv" in window.banner.text()
    assert list(dest.iterdir()) == []
    assert sender.wait() != 0


def test_a_text_message_opens_the_message_dialog(qtbot, window, wormhole_cli, tmp_path):
    code, sender = send(wormhole_cli, "--text", "the door code is 4711")
    prepare(qtbot, window, code, tmp_path)
    finished = press_receive(qtbot, window)
    assert finished.ok and finished.message_text == "the door code is 4711"
    qtbot.waitUntil(lambda: window.message_dialog is not None and window.message_dialog.isVisible())
    assert sender.wait() == 0


def test_cancel_while_the_offer_is_shown_declines_it(qtbot, window, wormhole_cli, tmp_path):
    source = write_random(tmp_path / "src" / "a.bin", 10_000)
    code, sender = send(wormhole_cli, source)
    prepare(qtbot, window, code, tmp_path)
    with qtbot.waitSignal(window.transferDone, timeout=90_000) as done:
        qtbot.mouseClick(window.receive_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: window.offer_box is not None, timeout=60_000)
        window.cancel()
    assert not done.args[0].ok
    assert window.offer_box is None
    assert "a wormhole code works once" in window.banner.text()
    assert sender.wait() != 0


def test_inlet_send_through_the_wormhole_arrives_as_rows_without_an_offer_to_answer(
    qtbot, window, wormhole_servers, tmp_path
):
    """Inlet to Inlet (core/tunnel.py): Inlet's own protocol through the relay, the rows as on
    the LAN; the person already chose this sender by typing its code, as with an Inlet code."""
    import subprocess

    from ..helpers import INLET

    source = tmp_path / "album"
    write_random(source / "one.jpg", 300_000, seed=1)
    write_random(source / "sub" / "two.jpg", 1_200_000, seed=2)
    dest = tmp_path / "received"
    dest.mkdir()
    servers = ["--mailbox", wormhole_servers.mailbox_url, "--relay", wormhole_servers.relay_hint]
    sender = subprocess.Popen(
        [*INLET, "send", "--wormhole", str(source), *servers, "--no-listen"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        code = sender.stdout.readline().split()[-1]
        prepare(qtbot, window, code, dest)
        finished = press_receive(qtbot, window, timeout_ms=90_000)
        assert finished.ok, finished.error
        assert window.offer_box is None or not window.offer_box.isVisible()
        expected = {f"album/{p.relative_to(source).as_posix()}": p.read_bytes()
                    for p in source.rglob("*") if p.is_file()}  # fmt: skip
        assert tree(dest) == expected
        assert statuses(window) == dict.fromkeys(expected, "Done")
        assert sender.wait(60) == 0
    finally:
        if sender.poll() is None:
            sender.kill()
        sender.wait(10)
        sender.stdout.close()
        sender.stderr.close()
