"""The ``inlet`` command's contract: help, version, progress line, and one-line errors."""

from __future__ import annotations

import io
import json
import subprocess
from pathlib import Path

import pytest

from inlet.core import __version__
from inlet.core.cli import main
from inlet.core.codes import TransferCode
from inlet.core.events import FileInfo, FileProgress, FileStatus, FileStatusChanged, TransferStarted
from inlet.core.progress import TerminalProgress, format_duration, format_size
from inlet.core.receive.incoming import IncomingFile
from inlet.core.receiver import Receiver, ReceiverOptions, TransferResult

from ..helpers import INLET

pytestmark = pytest.mark.timeout(60)


def test_help_and_version(capsys):
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out.strip() == f"inlet {__version__}"
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    for word in ("send", "receive", "demo", "install-launcher"):
        assert word in out


def test_receive_help_lists_the_contract(capsys):
    with pytest.raises(SystemExit):
        main(["receive", "--help"])
    out = capsys.readouterr().out
    for flag in ("-o", "--overwrite", "--json", "--pod", "--require-tailscale", "--no-ext"):
        assert flag in out


def test_installed_script_runs(tmp_path: Path):
    done = subprocess.run([*INLET, "--version"], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0 and done.stdout.startswith("inlet ")


def test_send_of_a_missing_path_is_one_clear_line(tmp_path: Path):
    done = subprocess.run(
        [*INLET, "send", str(tmp_path / "nope"), "--port", "0"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1 and "does not exist" in done.stderr


def test_receive_into_a_file_says_choose_a_folder(tmp_path: Path, capsys):
    target = tmp_path / "file.txt"
    target.write_text("x")
    assert main(["receive", "127.0.0.1:1:tok", "-o", str(target)]) == 1
    err = capsys.readouterr().err
    assert "is a file, not a folder" in err and err.count("\n") == 1
    assert target.read_text() == "x"


def test_require_tailscale_refuses_a_peer_outside_the_tailnet(tmp_path: Path):
    options = ReceiverOptions(require_tailscale=True, tailscale_peers=lambda: {"100.64.0.9"})
    result = Receiver(TransferCode("127.0.0.2", 1, "tok"), tmp_path, options).run()
    assert not result.ok and "not a peer in 'tailscale status'" in result.error
    pod = ReceiverOptions(
        require_tailscale=True, pod=True, tailscale_peers=lambda: set(), connect_timeout=5
    )
    result = Receiver(TransferCode("127.0.0.1", _closed_port(), "tok"), tmp_path, pod).run()
    assert "Nothing is listening" in result.error  # pod mode let it through to the connect


def _closed_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_progress_line_shows_percent_speed_and_eta():
    now = [0.0]
    stream = io.StringIO()
    progress = TerminalProgress(stream, clock=lambda: now[0])
    files = (FileInfo("a", 1_000_000, 0), FileInfo("b", 1_000_000, 1_000_000))
    progress.handle(TransferStarted(files=files, total_size=2_000_000))
    for step in range(1, 11):
        now[0] = step * 0.1
        progress.handle(FileProgress("a", step * 100_000, 1_000_000))
    progress.handle(FileStatusChanged("a", FileStatus.COMPLETED, FileStatus.IN_PROGRESS))
    progress.finish()
    last = stream.getvalue().split("\r")[-1]
    assert "50.0%" in last
    assert "1 of 2 files" in last
    assert "1.0 MB of 2.0 MB" in last
    assert "1.0 MB/s" in last
    assert "1 s left" in last
    assert last.endswith("\n")


@pytest.mark.parametrize(
    ("n", "text"),
    [
        (0, "0 B"),
        (999, "999 B"),
        (1_100, "1.1 KB"),
        (4_200_000, "4.2 MB"),
        (1_200_000_000, "1.2 GB"),
    ],
)
def test_format_size(n, text):
    assert format_size(n) == text


def test_format_duration():
    assert format_duration(9.4) == "9 s"
    assert format_duration(250) == "4 min 10 s"
    assert format_duration(7500) == "2 h 5 min"


def test_window_without_a_screen_says_what_to_do(monkeypatch, capsys):
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr("sys.platform", "linux")
    assert main([]) == 1
    err = capsys.readouterr().err
    assert "no screen" in err and "inlet receive CODE" in err and err.count("\n") == 1


@pytest.mark.parametrize("count", [0, 1, 2, 2500])
def test_json_report_in_pieces_is_the_one_shot_text(count: int) -> None:
    """``--json`` is written in pieces (100,000 files made it the largest memory peak); the
    text must stay exactly what one ``json.dumps`` gives, whatever the message says."""
    files = [IncomingFile.listed(FileInfo(f'd/\u00e9"{i}.bin', i)) for i in range(count)]
    for i, file in enumerate(files):
        file.named("ab" * 32, f"/x/{i}")
    result = TransferResult(
        ok=bool(count % 2),
        files=files,
        bytes_on_wire=7,
        seconds=1.23456,
        message_text='"files": [] and "ok": false',
        error=None if count else "nothing",
    )
    text = "".join(result.json_pieces())
    assert text == json.dumps(result.to_json())
    assert json.loads(text)["files"][-1:] == [f.to_json() for f in files[-1:]]


def test_the_progress_line_counts_the_files_a_streaming_folder_offered() -> None:
    from inlet.core.events import FileInfo, FilesAdded, TransferStarted
    from inlet.core.progress import TransferTotals

    totals = TransferTotals()
    totals.handle(TransferStarted(files=(), total_size=30, expected_files=3))
    totals.handle(FilesAdded(files=(FileInfo("f/a", 10),)))
    assert totals.total_files == 3
    totals.handle(FilesAdded(files=tuple(FileInfo(f"f/{n}", 5) for n in "bcde")))
    assert totals.total_files == 5  # more than offered: what arrived is what is counted
