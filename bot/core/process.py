"""Who this process is, as the claims and leases it takes name it."""

from __future__ import annotations

import os
import socket
import uuid


def process_identity() -> str:
    """This process, as claims name it: host, pid and a random part (pids are reused)."""
    return f"{socket.gethostname()[:32]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
