"""The nlp subcommands run in-process, parsed as the feedbackbot command parses them."""

from __future__ import annotations

import argparse

from nlp.cli import add_commands


def run_cli(argv: list[str]) -> int:
    """Parse argv with the nlp subcommands registered, run the chosen one, its exit code."""
    parser = argparse.ArgumentParser(prog="feedbackbot")
    add_commands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    code: int = args.func(args)
    return code
