"""Self-hosted wormhole servers chosen in the window (Wormhole servers…), used by the next
receive: the real mailbox server and transit relay on loopback, the stock ``wormhole send``."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from inlet.core.wormhole.servers import MAILBOX_ENV, RELAY_ENV
from inlet.gui.servers import SETTINGS_MAILBOX, SETTINGS_RELAY, chosen_servers

from .test_e2e import prepare, press_receive

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(autouse=True)
def no_environment(monkeypatch):
    """Only the window's preferences may name the local servers."""
    monkeypatch.delenv(MAILBOX_ENV, raising=False)
    monkeypatch.delenv(RELAY_ENV, raising=False)


def open_dialog(qtbot, window):
    qtbot.mouseClick(window.servers_button, Qt.MouseButton.LeftButton)
    dialog = window.servers_dialog
    qtbot.waitUntil(dialog.isVisible)
    return dialog


def test_servers_typed_in_the_window_are_the_ones_a_wormhole_code_uses(
    qtbot, window, wormhole_servers, wormhole_cli, tmp_path
):
    dialog = open_dialog(qtbot, window)
    qtbot.keyClicks(dialog.mailbox, wormhole_servers.mailbox_url)
    qtbot.keyClicks(dialog.relay, wormhole_servers.relay_hint)
    dialog.accept()
    assert not dialog.isVisible()
    assert window.settings.value(SETTINGS_MAILBOX) == wormhole_servers.mailbox_url
    code = "731-crossover-clockwork"
    sender = wormhole_cli("send", "--no-qr", "--code", code, "--text", "meet at the mill")
    prepare(qtbot, window, code, tmp_path)
    finished = press_receive(qtbot, window, timeout_ms=90_000)
    assert finished.ok and finished.message_text == "meet at the mill", finished.error
    assert sender.wait() == 0


def test_a_server_that_is_no_url_is_explained_and_nothing_is_saved(qtbot, window):
    dialog = open_dialog(qtbot, window)
    qtbot.keyClicks(dialog.mailbox, "relay.example.org")
    dialog.accept()
    assert dialog.isVisible() and dialog.error.isVisibleTo(dialog)
    assert "ws:// or wss:// URL" in dialog.error.text()
    assert window.settings.value(SETTINGS_MAILBOX, "") == ""
    dialog.mailbox.clear()
    qtbot.keyClicks(dialog.relay, "transit.example.org:4001")
    dialog.accept()
    assert "tcp:HOST:PORT" in dialog.error.text() and dialog.isVisible()
    dialog.reject()


def test_empty_fields_mean_the_environment_then_the_public_servers(monkeypatch, settings):
    monkeypatch.setenv(RELAY_ENV, "tcp:127.0.0.1:4999")
    chosen = chosen_servers(settings)
    assert chosen.relay == "tcp:127.0.0.1:4999"
    assert chosen.mailbox.startswith("ws://relay.magic-wormhole.io")
    settings.setValue(SETTINGS_RELAY, "tcp:transit.example.org:4001")
    assert chosen_servers(settings).relay == "tcp:transit.example.org:4001"
