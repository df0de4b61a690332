"""Status colours that follow the palette: darker shades on a light window, lighter on a dark one.

Green and red text and bars must stay readable under a dark Fusion palette or the system's dark
theme; one function answers for the model's text, the delegate's bars, the hints and the banner.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtGui import QColor, QGuiApplication, QPalette


@dataclass(frozen=True)
class StatusColors:
    done: QColor  # text
    failed: QColor
    done_bar: QColor  # a bar's fill, under white text
    failed_bar: QColor
    #: the banner: (background, accent) per kind, and its text colour
    banner: dict[str, tuple[str, str]]
    banner_text: str


_LIGHT = StatusColors(
    done=QColor("#2e7d32"),
    failed=QColor("#c62828"),
    done_bar=QColor("#2e7d32"),
    failed_bar=QColor("#c62828"),
    banner={
        "info": ("#e3f2fd", "#1565c0"),
        "success": ("#e8f5e9", "#2e7d32"),
        "warning": ("#fff8e1", "#ef8f00"),
        "error": ("#ffebee", "#c62828"),
    },
    banner_text="#202020",
)
_DARK = StatusColors(
    done=QColor("#81c784"),
    failed=QColor("#ef9a9a"),
    done_bar=QColor("#2e7d32"),
    failed_bar=QColor("#b3261e"),
    banner={
        "info": ("#15293d", "#64b5f6"),
        "success": ("#1b3320", "#81c784"),
        "warning": ("#3a2f12", "#ffb74d"),
        "error": ("#3d1a1c", "#ef9a9a"),
    },
    banner_text="#ececec",
)


def is_dark(palette: QPalette | None = None) -> bool:
    palette = palette if palette is not None else QGuiApplication.palette()
    return palette.color(QPalette.ColorRole.Window).lightness() < 128


def status_colors(palette: QPalette | None = None) -> StatusColors:
    """The shades for ``palette`` (the application's when None)."""
    return _DARK if is_dark(palette) else _LIGHT


def hint_style() -> str:
    return f"color: {status_colors().failed.name()};"
