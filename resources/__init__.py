"""Files the app loads at run time: icon and desktop launcher."""

from pathlib import Path

RESOURCE_DIR = Path(__file__).resolve().parent
