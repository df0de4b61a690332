"""The one-line summary the terminal and the status bar share: counts a person reads."""

from __future__ import annotations

from inlet.core.progress import summary_text


def test_one_file_is_not_called_files() -> None:
    assert summary_text(0, 1, 3_145_728, 10_000_000) == "0 of 1 file - 3.1 MB of 10.0 MB"


def test_large_counts_are_grouped_and_the_rest_follows() -> None:
    line = summary_text(1_000, 10_000, 0, 2_000_000, failed=2, speed=1_500_000.0, eta=90.0)
    assert line == "1,000 of 10,000 files - 0 B of 2.0 MB - 1.5 MB/s - 1 min 30 s left - 2 failed"
