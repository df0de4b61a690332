"""The built app's first Python: the ``inlet`` command, as ``pip install`` makes it.

This process has already read the variables PyInstaller set for it (the dynamic loader at start;
Qt finds its plugins through the ``qt.conf`` that PySide6 embeds), so the user's values go back
before anything starts a child process (see ``rthook_environment.py``).
"""

import os
import sys

for _name, _value in getattr(sys, "_inlet_user_environ", {}).items():
    if _value is None:
        os.environ.pop(_name, None)
    else:
        os.environ[_name] = _value
os.environ.pop("LD_LIBRARY_PATH_ORIG", None)

from inlet.app.main import main  # noqa: E402  (after the environment is the user's)

if __name__ == "__main__":
    sys.exit(main())
