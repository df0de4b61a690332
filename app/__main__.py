"""``python -m inlet.app``: the whole ``inlet`` command, window included."""

import sys

from .main import main

sys.exit(main())
