"""The offline demo: the real bot against the fake Bot API server, on a scripted day."""
