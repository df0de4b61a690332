"""Receiving from magic-wormhole's ``wormhole send``, through its mailbox and transit relay.

`WormholeReceiver` is the face: ``run()`` blocks like the socket `Receiver` and reports the
same core events; `reactor` keeps Twisted in a thread of its own; `offer` checks what the
sender offers; `landing` writes it through the destination's checks.
"""
