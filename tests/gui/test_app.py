"""What ``inlet``, ``inlet CODE`` and ``inlet demo`` open (without entering the event loop)."""

import sys

import pytest

from inlet.gui import app as app_module
from inlet.gui.widgets import BannerKind


@pytest.fixture
def restore_switch_interval():
    before = sys.getswitchinterval()
    yield
    sys.setswitchinterval(before)


@pytest.mark.timeout(30)
def test_inlet_code_opens_the_window_with_the_code(qtbot, restore_switch_interval):
    app_module.make_application()
    assert sys.getswitchinterval() == pytest.approx(app_module.SWITCH_INTERVAL)  # kept in µs
    window = app_module.open_window(code="127.0.0.1:ocean-tiger")
    qtbot.addWidget(window)
    try:
        assert window.code_edit.text() == "127.0.0.1:ocean-tiger"
        assert not window.code_hint.isVisibleTo(window)
    finally:
        window.shutdown()


@pytest.mark.timeout(60)
def test_inlet_demo_fills_in_code_and_a_fresh_destination(qtbot, monkeypatch):
    monkeypatch.setattr("inlet.gui.demo.LARGE_SIZE", 1000)  # not 400 MB in a test
    window = app_module.open_window(demo=True)
    qtbot.addWidget(window)
    session = window.demo_session
    try:
        assert window.code_edit.text() == session.code
        qtbot.waitUntil(lambda: window.destination == session.dest, timeout=10_000)
        assert window.banner.kind == BannerKind.INFO and "Demo" in window.banner.text()
        assert session.sender.running
    finally:
        window.shutdown()
        session.stop()
    assert not session.sender.running
