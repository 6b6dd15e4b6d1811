"""Telegram handlers, one module per audience; each is thin: parse, call the domain, reply."""
