"""``python -m inlet.core`` runs the ``inlet`` command (used where the script is not on PATH)."""

import sys

from .cli import main

sys.exit(main())
