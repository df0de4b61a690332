"""Suite-wide settings: Qt renders offscreen so the tests need no screen."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
