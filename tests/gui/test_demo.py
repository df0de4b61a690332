"""``inlet demo``: the sample folder, the destination with a conflict, the local sender."""

from __future__ import annotations

import pytest

from inlet.gui.demo import (
    CONFLICT_NAME,
    LARGE_NAME,
    SAMPLE_FOLDER,
    SenderProcess,
    make_sample,
    start_demo,
)


@pytest.mark.timeout(30)
def test_the_sample_shows_what_the_window_can_do(tmp_path):
    folder = make_sample(tmp_path, large=3_000_000)
    files = {p.relative_to(folder).as_posix(): p.stat().st_size for p in folder.rglob("*")
             if p.is_file()}  # fmt: skip
    assert any("/" in name and name.count("/") >= 2 for name in files)  # nested subfolders
    assert 0 in files.values()  # an empty file
    assert max(files.values()) >= 2_000_000  # a larger file that takes a moment
    assert 3_000_000 <= sum(files.values()) <= 10_000_000  # a few MB
    assert CONFLICT_NAME in files
    assert LARGE_NAME < CONFLICT_NAME  # sent first: the conflict's toggle waits meanwhile
    assert make_sample(tmp_path / "again") != folder  # deterministic, rewritable


@pytest.mark.timeout(60)
def test_start_demo_runs_a_sender_and_stop_ends_it(tmp_path):
    session = start_demo(tmp_path, large=1000)
    try:
        assert session.code.startswith("127.0.0.1:")
        assert session.sender.running
        existing = session.dest / SAMPLE_FOLDER / CONFLICT_NAME
        assert existing.is_file()  # the overwrite toggle will show on this row
        assert (tmp_path / "send" / SAMPLE_FOLDER / "video" / "clip.mp4").is_file()
    finally:
        session.stop()
    assert not session.sender.running
    assert not tmp_path.exists()  # the demo's folder is removed when it ends


@pytest.mark.timeout(60)
def test_a_sender_that_cannot_start_says_why(tmp_path):
    sender = SenderProcess(tmp_path / "does-not-exist")
    with pytest.raises(RuntimeError, match="did not print its code"):
        sender.start(timeout=30)
    assert not sender.running


@pytest.mark.timeout(60)
def test_the_demo_folder_is_not_remembered(qtbot, tmp_path, settings):
    from inlet.gui.window import SETTINGS_DESTINATION, MainWindow

    window = MainWindow(settings=settings, destination=str(tmp_path), remember_destination=False)
    qtbot.addWidget(window)
    try:
        qtbot.waitUntil(lambda: window.destination == tmp_path, timeout=10_000)
        assert settings.value(SETTINGS_DESTINATION) is None
    finally:
        window.shutdown()
