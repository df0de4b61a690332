"""`Destination`, the one gatekeeper of the destination folder: the rules, on every platform.

Each test runs twice: relative to held directory descriptors (POSIX), and in the checked
fallback for platforms without ``dir_fd`` (Windows), forced here so its rules are tested too.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from inlet.core.store.destination import (
    HAVE_DIR_FD,
    Destination,
    DestinationGoneError,
    EscapeError,
    NotRegularFileError,
    SharedFileError,
)
from inlet.core.store.folding import NameFolding, probe_folding

MODES = [pytest.param(True, id="dir_fd"), pytest.param(False, id="fallback")]


@pytest.fixture(params=MODES)
def dest(request, tmp_path: Path) -> Destination:
    if request.param and not HAVE_DIR_FD:
        pytest.skip("this platform has no dir_fd")
    root = tmp_path / "dest"
    root.mkdir()
    (tmp_path / "outside").mkdir()
    with Destination(root, use_dir_fd=request.param) as d:
        yield d


def write(dest: Destination, rel: str, data: bytes) -> None:
    fd = dest.create(rel)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)


def test_files_and_folders_are_made_inside(dest: Destination) -> None:
    write(dest, "a/b/c.txt", b"hello")
    assert (dest.root / "a" / "b" / "c.txt").read_bytes() == b"hello"
    assert dest.read_bytes("a/b/c.txt") == b"hello"
    assert dest.is_folder("a/b") and not dest.is_folder("a/b/c.txt")
    assert dest.lstat("a/missing") is None and dest.lstat("nope/x") is None


def test_a_symlinked_folder_on_the_way_is_never_followed(dest: Destination) -> None:
    outside = dest.root.parent / "outside"
    (dest.root / "a").mkdir()
    os.symlink(outside, dest.root / "a" / "link")
    for attempt in (
        lambda: dest.create("a/link/x.txt"),
        lambda: dest.lstat("a/link/x.txt"),
        lambda: dest.make_folders("a/link/sub"),
        lambda: dest.unlink("a/link/x.txt"),
    ):
        with pytest.raises(EscapeError):
            attempt()
    assert list(outside.iterdir()) == []


def test_a_symlink_in_place_of_a_file_is_not_opened(dest: Destination) -> None:
    secret = dest.root.parent / "outside" / "secret"
    secret.write_text("secret")
    os.symlink(secret, dest.root / "name.part")
    with pytest.raises(NotRegularFileError):
        dest.open("name.part", os.O_WRONLY)
    with pytest.raises(NotRegularFileError):
        dest.append("name.part", b"x")
    fd = dest.create("name.part", replace=True)  # the link is replaced, its target untouched
    os.close(fd)
    assert secret.read_text() == "secret" and not (dest.root / "name.part").is_symlink()


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_a_fifo_is_refused_without_blocking_and_not_removed(dest: Destination) -> None:
    os.mkfifo(dest.root / "stuck.part")
    for flags in (os.O_RDONLY, os.O_WRONLY, os.O_RDWR):
        with pytest.raises(NotRegularFileError):
            dest.open("stuck.part", flags)
    with pytest.raises(NotRegularFileError):
        dest.create("stuck.part", replace=True)
    assert (dest.root / "stuck.part").exists()


def test_a_file_with_another_hard_link_is_not_taken_over(dest: Destination) -> None:
    victim = dest.root.parent / "outside" / "victim"
    victim.write_text("precious")
    os.link(victim, dest.root / "f.part")
    with pytest.raises(SharedFileError):
        dest.open("f.part", os.O_RDWR, single_link=True)
    fd = dest.create("f.part", replace=True)
    os.write(fd, b"new")
    os.close(fd)
    assert victim.read_text() == "precious"


def test_exclusive_creation_refuses_an_existing_name(dest: Destination) -> None:
    write(dest, "x.part", b"first")
    with pytest.raises(FileExistsError):
        dest.create("x.part")
    assert dest.read_bytes("x.part") == b"first"


def test_rename_without_replace_never_replaces(dest: Destination) -> None:
    write(dest, "a.part", b"new")
    write(dest, "a", b"old")
    with pytest.raises(FileExistsError):
        dest.rename("a.part", "a", replace=False)
    dest.rename("a.part", "a_1", replace=False)
    assert dest.read_bytes("a") == b"old" and dest.read_bytes("a_1") == b"new"
    write(dest, "b.part", b"newer")
    dest.rename("b.part", "a", replace=True)
    assert dest.read_bytes("a") == b"newer" and not dest.exists("b.part")


def test_unlink_never_removes_a_folder(dest: Destination) -> None:
    (dest.root / "folder").mkdir()
    with pytest.raises(OSError):
        dest.unlink("folder")
    assert (dest.root / "folder").is_dir()
    assert dest.unlink("absent") is False


def test_deep_folders_are_walked_without_recursion(dest: Destination) -> None:
    """Deeper than the 128 folders a name may have; pytest's recursive cleanup of the tmp
    folder still copes with this depth."""
    deep = "/".join(["d"] * 300)
    write(dest, deep + "/f", b"deep")
    assert dest.read_bytes(deep + "/f") == b"deep"


@pytest.mark.parametrize("how", ["moved", "deleted", "replaced"])
def test_a_folder_moved_or_deleted_is_noticed(tmp_path: Path, how: str) -> None:
    root = tmp_path / "dest"
    root.mkdir()
    d = Destination(root)
    d.check_present()
    if how == "moved":
        root.rename(tmp_path / "elsewhere")
    elif how == "deleted":
        root.rmdir()
    else:
        root.rename(tmp_path / "elsewhere")
        root.mkdir()  # a new, empty folder of the same name
    with pytest.raises(DestinationGoneError, match="moved or deleted"):
        d.check_present()
    if how != "replaced":
        assert not root.exists()
    d.close()


def test_folding_keys() -> None:
    exact, case, nfd = NameFolding(), NameFolding.named("casefold"), NameFolding.named("nfd")
    assert exact.key("Report.txt") != exact.key("report.txt")
    assert case.key("Report.txt") == case.key("report.txt")
    assert nfd.key("caf\u00e9") == nfd.key("cafe\u0301") and nfd.key("A") != nfd.key("a")
    both = NameFolding.named("casefold+nfd")
    assert both.key("CAF\u00c9") == both.key("cafe\u0301")
    with pytest.raises(ValueError):
        NameFolding.named("sometimes")


def test_the_probe_finds_this_file_system_exact_and_leaves_nothing(tmp_path: Path) -> None:
    """ext4 and tmpfs (where CI runs) compare names exactly; the probe file is removed."""
    with Destination(tmp_path) as d:
        assert probe_folding(d) == NameFolding()
    assert list(tmp_path.iterdir()) == []
