"""The ``inlet`` command as installed: the one layer that knows both the core and the window.

`core` stays importable without Qt and `gui` without argument parsing; this package sits above
both, so that neither needs to import the other to be started.
"""
