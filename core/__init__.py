"""Inlet's core: everything a headless receiver or sender needs, with no Qt import anywhere."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("inlet")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"
