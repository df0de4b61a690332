"""The receive path: one `IncomingFile` per file of a transfer, owning what becomes of it."""
