"""A private ``redis-server`` for the tests that stop Redis and start it again: its own free
port on 127.0.0.1, nothing saved to disk. The machine's shared Redis (6379) is never touched.

Without ``redis-server`` on the PATH the tests that need it are skipped, with the reason in the
summary; with ``REQUIRE_SERVICES=1`` (CI) that is a failure instead.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time

import pytest
import redis


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def redis_server_executable() -> str:
    """The path of ``redis-server``; skips the test (fails it with REQUIRE_SERVICES=1)."""
    executable = shutil.which("redis-server")
    if executable is not None:
        return executable
    message = "no redis-server on this machine (apt-get install redis-server): test not run"
    if os.environ.get("REQUIRE_SERVICES") == "1":
        pytest.fail(f"REQUIRE_SERVICES=1 but {message}", pytrace=False)
    pytest.skip(message)


class RedisServer:
    """``redis-server`` on 127.0.0.1:<a free port>, the same port after a restart, so a server
    process given ``url`` finds it again. A context manager: stopped on exit."""

    def __init__(self, executable: str) -> None:
        self.executable = executable
        self.port = _free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None
        self.folder = tempfile.TemporaryDirectory(prefix="test-redis-")

    def __enter__(self) -> RedisServer:
        self.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()
        self.folder.cleanup()

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def client(self) -> redis.Redis:
        return redis.Redis.from_url(self.url, socket_timeout=2)

    def start(self) -> None:
        if self.running:
            return
        # Its own working directory: nothing is written there, but a stray dump has a home.
        self.process = subprocess.Popen(
            [
                self.executable,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                self.folder.name,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while True:
            try:
                with self.client() as client:
                    client.ping()
                return
            except redis.ConnectionError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"redis-server did not start on port {self.port}") from None
                time.sleep(0.05)

    def stop(self) -> None:
        """Gone at once, as a crashed or stopped Redis: connections refused from now on."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def restart(self) -> None:
        self.stop()
        self.start()
