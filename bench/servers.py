"""Starting and stopping what the bench measures, on free 127.0.0.1 ports: the portal (on a
throwaway database it migrates and seeds) and the reference server. Everything is removed at
the end, whatever happens."""

from __future__ import annotations

import os
import secrets
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.parse
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent

# The per-station rate limit protects the others from one station; the bench saturates the
# server with a few connections instead of thousands of slow ones, so it is lifted here.
BENCH_ENV = {
    # On PostgreSQL and Redis the settings require a key: one of this run's own.
    "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
    "OCPP_RATE_PER_SECOND": "1000000",
    "OCPP_RATE_BURST": "1000000",
    "DJANGO_SETTINGS_MODULE": "supervision.settings",
    "LOG_LEVEL": "WARNING",
}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of process ``pid`` so far (``/proc/<pid>/stat``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    utime, stime = int(fields[11]), int(fields[12])  # fields 14 and 15 of proc(5)
    return (utime + stime) / os.sysconf("SC_CLK_TCK")


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no RSS for process {pid}")


class Server:
    """One server process on 127.0.0.1:<port>."""

    def __init__(self, name: str, command: list[str], *, cwd: Path, env: dict, port: int):
        self.name, self.port = name, port
        self.killed = False
        self.log = tempfile.NamedTemporaryFile("w+", prefix=f"bench-{name}-", suffix=".log")
        self.process = subprocess.Popen(
            command, cwd=cwd, env=env, stdout=self.log, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                return
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"{name} did not start:\n{self.output()}") from None
                time.sleep(0.1)

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ocpp"

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def rss(self) -> int:
        return rss_bytes(self.process.pid)

    def cpu_seconds(self) -> float:
        return cpu_seconds(self.process.pid)

    def output(self) -> str:
        self.log.seek(0)
        return self.log.read()[-4000:]

    def stop(self) -> float:
        """A clean stop (SIGTERM), as a service manager does it, killed after 60 s (``killed``).
        Returns the seconds it took."""
        started = time.monotonic()
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.killed = True
                self.process.kill()
                self.process.wait()
        return time.monotonic() - started


def start_reference(stations: int, badges: int) -> Server:
    port = free_port()
    command = [sys.executable, "-m", "bench.reference", "--port", str(port)]
    return Server(
        "reference",
        [*command, "--stations", str(stations), "--badges", str(badges)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        port=port,
    )


class Database:
    """A throwaway database for the portal: a SQLite file in a temporary folder, or a fresh
    PostgreSQL database next to ``postgres_url``'s; migrated and seeded (each station with its
    password, given a ``password_format``: see ``bench/seed.py``)."""

    def __init__(
        self,
        *,
        portal_dir: Path,
        stations: int,
        badges: int = 0,
        postgres_url: str = "",
        password_format: str = "",
    ) -> None:
        self.portal_dir, self.postgres_url = portal_dir, postgres_url
        self.folder = tempfile.TemporaryDirectory(prefix="bench-db-")
        if postgres_url:
            self.name = f"bench_{os.getpid()}_{free_port()}"
            self._admin(f'CREATE DATABASE "{self.name}"')
            parts = urllib.parse.urlsplit(postgres_url)
            self.url = urllib.parse.urlunsplit(parts._replace(path=f"/{self.name}"))
        else:
            self.url = f"sqlite:///{self.folder.name}/bench.sqlite3"
        env = self.env()
        migrate = [sys.executable, "manage.py", "migrate", "--noinput", "-v0"]
        subprocess.run(migrate, cwd=portal_dir, env=env, check=True)
        passwords = ["--password-format", password_format] if password_format else []
        passwords += ["--badges", str(badges or stations)]
        seed = subprocess.run(
            [sys.executable, str(BENCH_DIR / "seed.py"), str(stations), *passwords],
            cwd=portal_dir,
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
        self.token = seed.stdout.split()[-1]

    def env(self, **extra: str) -> dict:
        return {**os.environ, **BENCH_ENV, "DATABASE_URL": self.url, "REDIS_URL": "", **extra}

    def _admin(self, statement: str) -> None:
        import psycopg

        with psycopg.connect(self.postgres_url, autocommit=True) as connection:
            connection.execute(statement)

    def timestamp(self, moment: datetime):
        """``moment`` as the portal's ``created_at`` columns compare with it."""
        if self.postgres_url:
            return moment
        return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")  # Django's SQLite form

    def rows(self, sql: str, *params) -> list[tuple]:
        if self.postgres_url:
            import psycopg

            with psycopg.connect(self.url) as connection:
                return connection.execute(sql.replace("?", "%s"), params).fetchall()
        with sqlite3.connect(self.url.removeprefix("sqlite:///"), timeout=30) as connection:
            return connection.execute(sql, params).fetchall()

    def drop(self) -> None:
        if self.postgres_url:
            self._admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
        self.folder.cleanup()


def start_portal(database: Database, *, portal_dir: Path, flags: list[str], **env: str) -> Server:
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", "supervision.asgi:application"]
    return Server(
        "portal",
        [*command, "--host", "127.0.0.1", "--port", str(port), *flags],
        cwd=portal_dir,
        env=database.env(**env),
        port=port,
    )


@contextmanager
def running(server_factory):
    server = server_factory()
    try:
        yield server
    finally:
        server.stop()
