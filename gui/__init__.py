"""Inlet's window: Qt model/view over the core's receiver, driven from a worker thread."""
