"""Inlet's core: everything a headless receiver or sender needs, with no Qt import anywhere."""


def __getattr__(name: str) -> str:
    """``__version__``, looked up when asked for: reading the installed metadata costs every
    ``inlet`` process ~30 ms at start (importlib.metadata), and only ``--version`` needs it."""
    if name != "__version__":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib.metadata import PackageNotFoundError, version

    try:
        found = version("inlet")
    except PackageNotFoundError:  # running from a source tree that was never installed
        found = "0+unknown"
    globals()["__version__"] = found
    return found
