"""The destination folder and what Inlet keeps in it: the one gatekeeper (`Destination`), how
the folder compares names, part files, the lock's format and policy, and durable naming.
Nothing here knows the protocol."""
