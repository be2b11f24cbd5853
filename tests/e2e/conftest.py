"""A real server process (uvicorn, as `make run` serves) on the test database, for the
end-to-end tests."""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection

from tests.e2e.stations import server_let_go

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


def serve(django_db_blocker, log_name: str, **settings: str):
    """Start the server on the test database (and the environment's REDIS_URL, if any) with
    these extra settings; yield its ``ws://`` URL; stop it (SIGTERM, as a service manager)."""
    with django_db_blocker.unblock():
        database_url = _database_url(connection.settings_dict)
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "DJANGO_SETTINGS_MODULE": "supervision.settings",
        **settings,
    }
    log = open(ROOT / log_name, "w")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "supervision.asgi:application",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--lifespan",
            "on",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                log.close()
                pytest.fail(f"the server did not start: {(ROOT / log_name).read_text()}")
            time.sleep(0.1)
    yield f"ws://127.0.0.1:{port}"
    process.terminate()
    process.wait(timeout=10)
    log.close()


@pytest.fixture(autouse=True)
def server_let_go_of_the_test(request):
    """A test's stations are closed when it ends; the server finishes their connections a
    moment later. Its database is emptied only after that (the database fixture, requested
    first, is torn down after this one)."""
    if "server_url" not in request.fixturenames:
        yield
        return
    request.getfixturevalue("_django_db_helper")
    yield
    server_let_go()


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
