"""Runtime hook of the built app (runs before PyInstaller's own): note the user's environment.

PyInstaller's bootloader points ``LD_LIBRARY_PATH`` at the bundled libraries (keeping the user's
value in ``LD_LIBRARY_PATH_ORIG``) and its PySide6 hook, which runs after this one, sets
``QT_PLUGIN_PATH`` and ``QML2_IMPORT_PATH`` to the bundle. Programs the window starts
(``xdg-open`` for Open and Show in folder, then a file manager) would inherit them and load the
app's libraries and Qt plugins instead of their own. ``entry.py`` puts back what is noted here.
"""

import os
import sys

sys._inlet_user_environ = {  # type: ignore[attr-defined]
    "LD_LIBRARY_PATH": os.environ.get("LD_LIBRARY_PATH_ORIG"),
    "QT_PLUGIN_PATH": os.environ.get("QT_PLUGIN_PATH"),
    "QML2_IMPORT_PATH": os.environ.get("QML2_IMPORT_PATH"),
}
