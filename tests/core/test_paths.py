"""Where sender-supplied names may land (invariant 1) and how conflicts are named."""

import hashlib
import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inlet.core.errors import UnsafeNameError
from inlet.core.paths import (
    MAX_DEPTH,
    DestinationResolver,
    FileListChecker,
    file_list_is_plain,
    is_suffixed_twin,
    normalized_name,
    part_name,
    part_path,
    resolve_destination,
    split_name,
    suffixed_name,
    validate_file_list,
    windows_name_problem,
)
from inlet.core.store.destination import Destination
from inlet.core.store.folding import NameFolding
from inlet.core.writer import FileWriter

HOSTILE = [
    ("../x", "'..'"),
    ("a/../../x", "'..'"),
    ("a/..", "'..'"),
    ("..\\x", "'..'"),
    ("/etc/x", "absolute"),
    ("\\x", "absolute"),
    ("C:\\x", "drive"),
    ("c:x", "drive"),
    ("\\\\srv\\share\\x", "UNC"),
    ("//srv/share/x", "UNC"),
    ("a\x00b", "NUL"),
    ("", "empty"),
    ("a//b", "empty or '.'"),
    ("./a", "empty or '.'"),
    ("a/", "empty or '.'"),
    (".transfer_lock.json", "reserved"),
    ("sub/.transfer_lock.json", "reserved"),
    (".transfer_lock.journal", "reserved"),
    ("a\nb", "control character"),
    ("x" * 256, "longer than 255"),
]


@pytest.mark.parametrize(("name", "why"), HOSTILE)
def test_hostile_names_are_refused_with_a_specific_reason(name, why):
    with pytest.raises(UnsafeNameError, match=why.replace("(", r"\(").replace(")", r"\)")):
        split_name(name)


def test_non_text_name_is_refused():
    with pytest.raises(UnsafeNameError, match="not text"):
        split_name(b"x")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("name", "parts"),
    [
        ("a..b.txt", ("a..b.txt",)),
        ("..hidden", ("..hidden",)),
        ("dir/sub/file.bin", ("dir", "sub", "file.bin")),
        ("dir\\sub\\file.bin", ("dir", "sub", "file.bin")),
        ("video.part", ("video.part",)),
        ("ünïcødé/名前.txt", ("ünïcødé", "名前.txt")),
    ],
)
def test_harmless_names_are_accepted(name, parts):
    assert split_name(name) == parts
    assert normalized_name(name) == "/".join(parts)


def test_symlink_in_destination_is_refused(tmp_path: Path):
    outside = tmp_path / "outside"
    outside.mkdir()
    dest = tmp_path / "dest"
    dest.mkdir()
    (dest / "link").symlink_to(outside, target_is_directory=True)
    with pytest.raises(UnsafeNameError, match="symlink 'link'"):
        resolve_destination(dest, "link/x.txt")
    (dest / "f.txt").symlink_to(outside / "f.txt")
    with pytest.raises(UnsafeNameError, match="symlink"):
        resolve_destination(dest, "f.txt")


def test_symlinked_part_file_is_refused(tmp_path: Path):
    (tmp_path / "victim").write_text("keep")
    (tmp_path / "x.txt.part").symlink_to(tmp_path / "victim")
    with pytest.raises(UnsafeNameError, match="unfinished file"):
        resolve_destination(tmp_path, "x.txt")


def test_resolve_destination_stays_inside(tmp_path: Path):
    target = resolve_destination(tmp_path, "a\\b/c.txt")
    assert target == tmp_path / "a" / "b" / "c.txt"
    assert part_path(target) == tmp_path / "a" / "b" / "c.txt.part"


def test_file_list_collisions_are_refused():
    assert validate_file_list(["a/b", "a/c", "x.part"]) == ["a/b", "a/c", "x.part"]
    with pytest.raises(UnsafeNameError, match="twice"):
        validate_file_list(["a/b", "a\\b"])
    with pytest.raises(UnsafeNameError, match="both as a file and as the folder"):
        validate_file_list(["a", "a/b"])
    with pytest.raises(UnsafeNameError, match="unfinished file of 'x'"):
        validate_file_list(["x", "x.part"])


def keep_both(tmp_path: Path, name: str, data: bytes = b"new") -> Path:
    """Where a verified file called ``name`` lands in ``tmp_path`` without overwrite."""
    w = FileWriter(tmp_path / name, len(data), 0)
    w.open_for_writing()
    w.write_chunk(data)
    assert w.complete_file(hashlib.sha256(data).hexdigest())
    return w.final_path


def test_keep_both_names_count_up(tmp_path: Path):
    assert suffixed_name("docs/document.pdf", 1) == "docs/document_1.pdf"
    assert keep_both(tmp_path, "document.pdf") == tmp_path / "document.pdf"
    assert keep_both(tmp_path, "document.pdf") == tmp_path / "document_1.pdf"
    assert keep_both(tmp_path, "document.pdf") == tmp_path / "document_2.pdf"


def test_keep_both_names_skip_folders_dangling_links_and_parts(tmp_path: Path):
    (tmp_path / "archive.tar.gz").mkdir()
    os.symlink(tmp_path / "nowhere", tmp_path / "archive.tar_1.gz")
    (tmp_path / "archive.tar_2.gz.part").write_text("unfinished")
    assert keep_both(tmp_path, "archive.tar.gz") == tmp_path / "archive.tar_3.gz"
    assert not (tmp_path / "nowhere").exists()
    (tmp_path / ".bashrc").write_text("x")
    assert keep_both(tmp_path, ".bashrc") == tmp_path / ".bashrc_1"


def test_a_keep_both_name_of_a_255_byte_name_still_fits():
    name = "n" * 251 + ".bin"
    twin = suffixed_name(name, 12)
    assert len(twin.encode()) <= 255 and twin.endswith(".bin") and twin != name
    assert is_suffixed_twin(twin, name) and is_suffixed_twin("r_3.txt", "r.txt")
    assert not is_suffixed_twin("other.txt", "r.txt")
    assert not is_suffixed_twin("sub/r_1.txt", "r.txt")
    assert len(part_name("d/" + name).rsplit("/", 1)[1].encode()) <= 255


@pytest.mark.parametrize(
    "component",
    [
        "CON",
        "nul.txt",
        "COM1",
        "lpt9.log",
        "a<b",
        'q"uote',
        "pipe|",
        "what?",
        "star*",
        "end.",
        "sp ",
    ],
)
def test_names_windows_refuses_are_named_on_every_platform(component: str):
    assert windows_name_problem(component)


@pytest.mark.parametrize("component", ["console.txt", "COM10", "a.b.c", "normal name.txt"])
def test_names_windows_accepts(component: str):
    assert windows_name_problem(component) is None


def test_a_name_deeper_than_the_limit_is_refused_with_the_depth():
    with pytest.raises(UnsafeNameError, match="1,200 folders deep"):
        split_name("a/" * 1200 + "x")
    assert len(split_name("a/" * MAX_DEPTH + "x")) == MAX_DEPTH + 1


def test_file_list_refuses_a_name_after_its_part_sibling_and_stays_linear():
    with pytest.raises(UnsafeNameError, match="another file's unfinished file"):
        validate_file_list(["x.part", "x"])
    with pytest.raises(UnsafeNameError, match="both as a file and a folder"):
        validate_file_list(["a/b", "a"])
    names = [f"d{i % 100}/f{i}.txt" for i in range(100_000)]
    assert validate_file_list(names) == names  # quadratic checking would take minutes here


def _admitted_as_is(names: list[str], folding: NameFolding | None = None) -> bool:
    """What `file_list_is_plain` must agree with: the one-by-one checker admits every name
    unchanged, and none collides with another."""
    checker = FileListChecker(folding)
    try:
        return all(checker.add(name) == name for name in names) and not checker.collisions
    except UnsafeNameError:
        return False


PLAIN_LISTS = [
    [],
    ["a.txt"],
    ["a..b.txt", "..hidden", ".gitkeep", "dir/.env", "x.part", "video.part.mp4"],
    ["dir/sub/file.bin", "dir/other", "ünïcødé/名前.txt", "b/a:b", "x" * 255],
    ["a/" * MAX_DEPTH + "x", "é" * 127],
    [f"d{i % 7}/f{i}.txt" for i in range(500)],
]
NOT_PLAIN_LISTS = [
    *([name, "ok.txt"] for name, _ in HOSTILE),
    ["dir\\sub\\file.bin"],  # admitted, but normalized: the careful path names it
    ["a", "a"],
    ["a", "a/b"],
    ["a/b/c", "a/b"],
    ["x", "x.part"],
    ["x.part", "x"],
    ["a/" * (MAX_DEPTH + 1) + "x"],
    ["é" * 128],  # 256 bytes
    ["ok", ".inlet-probe-CASE-\u00c9"],
    ["dir/.transfer_lock.json.tmp"],
    ["a\tb"],
    ["a/./b"],
    ["a/.."],
    ["a:b"],
]


@pytest.mark.parametrize("names", PLAIN_LISTS + NOT_PLAIN_LISTS)
def test_the_whole_list_check_agrees_with_the_checker(names: list[str]) -> None:
    assert file_list_is_plain(names) is _admitted_as_is(names)
    assert file_list_is_plain(names) is (names in PLAIN_LISTS)


def test_names_a_folding_folder_compares_as_one_are_not_plain() -> None:
    folding = NameFolding(case=True, unicode=True)
    for names in (["Report.txt", "report.txt"], ["caf\u00e9.txt", "cafe\u0301.txt"]):
        assert file_list_is_plain(names)  # ext4 keeps both
        assert not file_list_is_plain(names, folding) and not _admitted_as_is(names, folding)
    assert file_list_is_plain(["a.txt", "b.txt"], folding)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.text(alphabet=st.sampled_from("ab./\\:\x00\n\x1fé.part"), min_size=0, max_size=12),
        max_size=6,
    )
)
def test_the_whole_list_check_agrees_with_the_checker_on_any_list(names: list[str]) -> None:
    assert file_list_is_plain(names) is _admitted_as_is(names)


def test_present_reports_what_stands_in_the_folders_and_defers_symlinks(tmp_path: Path):
    (tmp_path / "dir").mkdir()
    (tmp_path / "dir" / "here.txt").write_bytes(b"x")
    (tmp_path / "dir" / "half.txt.part").write_bytes(b"x")
    (tmp_path / "top.txt").write_bytes(b"x")
    names = ["dir/here.txt", "dir/half.txt", "dir/new.txt", "new/a", "top.txt", "b"]
    resolver = DestinationResolver(Destination(tmp_path))
    assert resolver.present(names) == {0: (True, False), 1: (False, True), 4: (True, False)}
    os.symlink(tmp_path / "dir", tmp_path / "link")
    assert DestinationResolver(Destination(tmp_path)).present(["link/a", "b"]) is None
    os.symlink(tmp_path / "top.txt", tmp_path / "dir" / "new.txt.part")
    assert DestinationResolver(Destination(tmp_path)).present(names) is None
