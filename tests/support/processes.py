"""Real `feedbackbot` processes for tests and benchmarks: a clean environment, a free port,
run one to the end or until it says something, or keep several running beside a test."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path

import aiohttp

FEEDBACKBOT = str(Path(sys.executable).with_name("feedbackbot"))

# A stopping process must end well inside the 30 s Heroku and systemd wait before killing it.
STOP_SECONDS = 15


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


async def _piped(command: str, env: dict[str, str], cwd: Path) -> asyncio.subprocess.Process:
    """`feedbackbot <command>` with its output piped back to the test."""
    return await asyncio.create_subprocess_exec(
        FEEDBACKBOT,
        command,
        env=env,
        cwd=cwd,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def run_to_the_end(
    command: str, env: dict[str, str], cwd: Path, timeout: float = 90
) -> tuple[int, str, str]:
    """Run `feedbackbot <command>` until it exits; its code, stdout and stderr."""
    child = await _piped(command, env, cwd)
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
    child = await _piped(command, env, cwd)
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


def spawn(
    command: str, env: dict[str, str], log: Path, *, append: bool = False
) -> subprocess.Popen[bytes]:
    """`feedbackbot <command>` in the background, writing all it says to `log` (in whose
    folder it runs)."""
    return subprocess.Popen(
        [FEEDBACKBOT, command],
        env={**os.environ, **env},
        stdout=log.open("ab" if append else "wb"),
        stderr=subprocess.STDOUT,
        cwd=log.parent,
    )


def start_bot(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """`feedbackbot run`, its output added to `log`."""
    return spawn("run", env, log, append=True)


class Processes:
    """The child processes of one test, each logging to NAME.log in the test's folder;
    ``stop()`` ends them with SIGTERM."""

    def __init__(self, tmp: Path, *, tail: int = 4000) -> None:
        self.tmp = tmp
        self.tail = tail
        self.children: list[subprocess.Popen[bytes]] = []
        self.ports: list[int] = []  # of the `web` processes, in the order started

    def start(self, name: str, command: str, env: dict[str, str]) -> subprocess.Popen[bytes]:
        child = spawn(command, env, self.tmp / f"{name}.log")
        self.children.append(child)
        return child

    def start_web(self, env: dict[str, str], port: int | None = None) -> int:
        """A `feedbackbot web` on a port of its own (free unless given); the port."""
        port = free_port() if port is None else port
        self.start(f"web{len(self.ports)}", "web", {**env, "PORT": str(port)})
        self.ports.append(port)
        return port

    def logs(self) -> str:
        """The end of every log, to explain a failure."""
        return "\n".join(
            f"--- {p.name}\n{p.read_text(errors='replace')[-self.tail :]}"
            for p in sorted(self.tmp.glob("*.log"))
        )

    def stop(self) -> list[str]:
        """SIGTERM to those still running; the commands of any that did not end within
        STOP_SECONDS (killed then), which a platform's stop would have cut short too."""
        for child in self.children:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        stuck: list[str] = []
        for child in self.children:
            try:
                child.wait(timeout=STOP_SECONDS)
            except subprocess.TimeoutExpired:
                stuck.append(" ".join(map(str, child.args)))
                child.kill()
                child.wait()
        return stuck

    async def until(
        self, check: Callable[[], Awaitable[bool]], what: str, timeout: float = 90
    ) -> None:
        """Wait for a condition, polling; fail with the logs, at once if a child exited."""
        deadline = asyncio.get_running_loop().time() + timeout
        while not await check():
            for child in self.children:
                assert child.poll() is None, f"a process exited\n{self.logs()}"
            assert asyncio.get_running_loop().time() < deadline, f"never: {what}\n{self.logs()}"
            await asyncio.sleep(0.1)


async def healthy(http: aiohttp.ClientSession, ports: Sequence[int]) -> bool:
    """Whether the web process on each of these ports answers its health check."""
    for port in ports:
        try:
            async with http.get(f"http://127.0.0.1:{port}/health") as response:
                if response.status != 200:
                    return False
        except aiohttp.ClientError:
            return False
    return True
