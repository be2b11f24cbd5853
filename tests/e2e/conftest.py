"""A real server process (uvicorn, as `make run` serves) on the test database, for the
end-to-end tests."""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import global_settings
from django.db import connection

from tests.e2e.stations import PRODUCTION, server_idle

ROOT = Path(__file__).resolve().parents[2]


def _database_url(settings_dict: dict) -> str:
    if settings_dict["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{settings_dict['NAME']}"
    credentials = settings_dict["USER"]
    if settings_dict.get("PASSWORD"):
        credentials += f":{settings_dict['PASSWORD']}"
    return (
        f"postgres://{credentials}@{settings_dict['HOST'] or '127.0.0.1'}:"
        f"{settings_dict['PORT'] or 5432}/{settings_dict['NAME']}"
    )


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    """The project served by uvicorn as `make run` serves it, on the test database (and the
    environment's REDIS_URL, if any), with these extra settings; stopped with SIGTERM as a
    service manager does, or killed; started again on the same port."""

    def __init__(self, django_db_blocker, log_name: str, **settings: str) -> None:
        with django_db_blocker.unblock():
            database_url = _database_url(connection.settings_dict)
        self.port = _free_port()
        self.log_path = ROOT / log_name
        self.env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "DJANGO_SETTINGS_MODULE": "supervision.settings",
            # No scheduled jobs unless a test asks: a runner in the suite's long-lived servers
            # would hold the jobs' lease (and send the mails) in the place of the test's own.
            "JOBS_IN_SERVER": "false",
            **settings,
        }
        self.process: subprocess.Popen | None = None
        self.start()

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def start(self) -> None:
        log = open(self.log_path, "a")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "supervision.asgi:application",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                *UVICORN_FLAGS,
            ],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"the server did not start: {self.log()}")
                time.sleep(0.1)

    def log(self) -> str:
        return self.log_path.read_text()

    def stop(self, timeout: float = 30) -> int:
        """SIGTERM, and wait for the exit: its exit code."""
        self.process.terminate()
        return self.process.wait(timeout=timeout)

    def kill(self) -> None:
        self.process.kill()
        self.process.wait(timeout=10)


# As the Makefile serves (UVICORN_FLAGS), but the backlog and frame size, which the tests do
# not need: the lifespan on, a bounded clean stop, the socket's peer as the client's address.
UVICORN_FLAGS = ["--lifespan", "on", "--timeout-graceful-shutdown", "30", "--no-proxy-headers"]


def serve(django_db_blocker, log_name: str, **settings: str):
    """Start a server (see ``Server``) for the session; yield its ``ws://`` URL; stop it."""
    (ROOT / log_name).write_text("")
    server = Server(django_db_blocker, log_name, **settings)
    yield server.url
    server.stop(timeout=10)


@pytest.fixture(autouse=True)
def server_let_go_of_the_test(request):
    """A test's stations are closed when it ends; the servers finish their connections a
    moment later. The database is emptied only after that (the database fixture, requested
    first, is torn down after this one)."""
    servers = [name for name in SHARED_SERVERS if name in request.fixturenames]
    if not servers:
        yield
        return
    request.getfixturevalue("_django_db_helper")
    yield
    # Idle: the process counts a connection until its last write is done.
    for name in servers:
        server_idle(request.getfixturevalue(name))


SHARED_SERVERS = ("server_url", "second_server_url")


@pytest.fixture
def own_server(transactional_db, django_db_blocker, settings):
    """A server process of the test's own, in production settings (station passwords
    required, the lockout's default limits), which the test may stop, kill and start again;
    stopped (SIGTERM) before the database is emptied."""
    # The server checks passwords made here: with the real user hashers, not the tests' fast one.
    settings.PASSWORD_HASHERS = global_settings.PASSWORD_HASHERS
    server = Server(django_db_blocker, ".pytest-server-own.log", **PRODUCTION)
    yield server
    if server.process.poll() is None:
        server.stop()


@pytest.fixture(scope="session")
def server_url(django_db_setup, django_db_blocker) -> str:
    """``ws://127.0.0.1:<port>``: the project served on the test database. The suite's many
    deliberate login failures all come from 127.0.0.1: the lockout would refuse the tests
    after them, so this server allows many; the lockout's own tests start a server of their
    own with the production limits."""
    yield from serve(django_db_blocker, ".pytest-server.log", OCPP_AUTH_FAILURES_ALLOWED="1000")


@pytest.fixture(scope="session")
def second_server_url(server_url, django_db_blocker) -> str:
    """A second server process on the same database (and channel layer, with REDIS_URL)."""
    yield from serve(django_db_blocker, ".pytest-server-2.log")
