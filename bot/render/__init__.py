"""Turning domain results into the texts the bot sends."""
