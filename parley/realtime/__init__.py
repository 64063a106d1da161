"""Socket.IO: the handshake, the chat events and the upkeep of live connections."""
