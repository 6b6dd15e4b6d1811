"""Real `feedbackbot` processes for tests and benchmarks: a clean environment, a free port,
run one to the end or until it says something."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

FEEDBACKBOT = str(Path(sys.executable).with_name("feedbackbot"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def environment(**values: str) -> dict[str, str]:
    """The test's environment without the developer's bot settings, plus these."""
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("TELEGRAM_", "WEBHOOK_", "STAFF_", "MANAGER_"))
        and k not in {"DATABASE_URL", "LOG_LEVEL", "PORT", "HOST"}
    }
    return {**clean, "HOST": "127.0.0.1", "PORT": str(free_port()), **values}


async def run_to_the_end(
    command: str, env: dict[str, str], cwd: Path, timeout: float = 90
) -> tuple[int, str, str]:
    """Run `feedbackbot <command>` until it exits; its code, stdout and stderr."""
    child = await asyncio.create_subprocess_exec(
        FEEDBACKBOT,
        command,
        env=env,
        cwd=cwd,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(child.communicate(), timeout)
    except TimeoutError:
        child.kill()
        out, err = await child.communicate()
        raise AssertionError(f"feedbackbot {command} did not exit\n{err.decode()}") from None
    assert child.returncode is not None
    return child.returncode, out.decode(errors="replace"), err.decode(errors="replace")


async def run_until(
    command: str,
    env: dict[str, str],
    cwd: Path,
    ready: Callable[[str], bool],
    timeout: float = 90,
) -> tuple[int, str, str]:
    """Run `feedbackbot <command>` until ``ready(stderr so far)``, then stop it with SIGTERM."""
    child = await asyncio.create_subprocess_exec(
        FEEDBACKBOT,
        command,
        env=env,
        cwd=cwd,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert child.stdout is not None and child.stderr is not None
    err = bytearray()

    async def collect(stream: asyncio.StreamReader, into: bytearray) -> None:
        while chunk := await stream.read(4096):
            into.extend(chunk)

    out = bytearray()
    readers = asyncio.gather(collect(child.stdout, out), collect(child.stderr, err))
    deadline = asyncio.get_running_loop().time() + timeout
    while child.returncode is None and not ready(err.decode(errors="replace")):
        if asyncio.get_running_loop().time() > deadline:
            break
        await asyncio.sleep(0.05)
    if child.returncode is None:
        child.send_signal(signal.SIGTERM)
    try:
        await asyncio.wait_for(child.wait(), 30)
    except TimeoutError:
        child.kill()
        await child.wait()
    await readers
    text = err.decode(errors="replace")
    assert ready(text), f"feedbackbot {command} never got there\n{text}"
    assert child.returncode is not None
    return child.returncode, out.decode(errors="replace"), text


def start_bot(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [FEEDBACKBOT, "run"],
        env={**os.environ, **env},
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        cwd=log.parent,
    )
