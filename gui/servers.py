"""Which magic-wormhole servers the window uses: its preferences, else the environment (as for
the ``wormhole`` command: ``WORMHOLE_RELAY_URL``, ``WORMHOLE_TRANSIT_HELPER``), else the
public servers. A self-hosted mailbox and relay are set once in **Wormhole servers…**.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from inlet.core.wormhole.servers import mailbox_url, relay_hint

from .colors import hint_style
from .widgets import plain_label

SETTINGS_MAILBOX = "wormhole/mailbox"
SETTINGS_RELAY = "wormhole/relay"
_MAILBOX = re.compile(r"wss?://[^\s/]+(/\S*)?")
_RELAY = re.compile(r"tcp:[^\s:]+:\d{1,5}")


@dataclass(frozen=True)
class Servers:
    mailbox: str
    relay: str


def default_servers() -> Servers:
    """What is used when the preferences say nothing: the environment, else the public ones."""
    return Servers(mailbox_url(), relay_hint())


def chosen_servers(settings: QSettings) -> Servers:
    """The servers a wormhole receive uses now."""
    default = default_servers()
    return Servers(
        settings.value(SETTINGS_MAILBOX, "", type=str) or default.mailbox,
        settings.value(SETTINGS_RELAY, "", type=str) or default.relay,
    )


def problem(mailbox: str, relay: str) -> str | None:
    """Why the typed servers cannot be used (None: they can; empty means the default)."""
    if mailbox and not _MAILBOX.fullmatch(mailbox):
        return "The mailbox server is a ws:// or wss:// URL, e.g. ws://relay.example.org:4000/v1."
    if relay and not _RELAY.fullmatch(relay):
        return "The transit relay is tcp:HOST:PORT, e.g. tcp:transit.example.org:4001."
    return None


class ServersDialog(QDialog):
    """Two fields; empty ones show (and use) the default. Saved in the settings on OK."""

    def __init__(self, settings: QSettings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Inlet: wormhole servers")
        self.settings = settings
        default = default_servers()
        self.mailbox = QLineEdit(settings.value(SETTINGS_MAILBOX, "", type=str))
        self.mailbox.setPlaceholderText(default.mailbox)
        self.mailbox.setClearButtonEnabled(True)
        self.relay = QLineEdit(settings.value(SETTINGS_RELAY, "", type=str))
        self.relay.setPlaceholderText(default.relay)
        self.relay.setClearButtonEnabled(True)
        self.hint = plain_label(
            "Codes like 7-crossover-clockwork meet the sender at a mailbox server; the data "
            "goes through the transit relay when no direct connection works. Leave a field "
            "empty for the one shown in it (the public servers the wormhole command uses, or "
            "the ones its environment variables name)."
        )
        self.hint.setWordWrap(True)
        self.error = plain_label("")
        self.error.setStyleSheet(hint_style())
        self.error.setWordWrap(True)
        self.error.hide()
        form = QFormLayout()
        form.addRow("&Mailbox server", self.mailbox)
        form.addRow("&Transit relay", self.relay)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.hint)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(buttons)
        self.resize(560, self.sizeHint().height())

    def accept(self) -> None:
        mailbox, relay = self.mailbox.text().strip(), self.relay.text().strip()
        why = problem(mailbox, relay)
        if why is not None:
            self.error.setText(why)
            self.error.show()
            return
        self.settings.setValue(SETTINGS_MAILBOX, mailbox)
        self.settings.setValue(SETTINGS_RELAY, relay)
        super().accept()
