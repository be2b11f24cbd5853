"""/health/live and /health/ready: no login, JSON, 503 while the database is unreachable."""

import time

import pytest
from django.db import connection
from django.test import Client

from ocpp_gateway.transport.log_writer import writer
from supervision.jobs import lease_release, lease_take


@pytest.fixture
def probe():
    """A load balancer's probe: by address, over plain HTTP, without the site's host name."""
    return Client(HTTP_HOST="10.0.0.7")


def test_live_answers_without_login_nor_the_database(probe, settings):
    settings.SECURE_SSL_REDIRECT = True  # behind TLS: still answered over plain HTTP
    response = probe.get("/health/live")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert response["Cache-Control"] == "no-store"


@pytest.fixture
def job_runner(transactional_db):
    """A runner of the scheduled jobs holding the lease (in the server, the lifespan starts
    one)."""
    assert lease_take("test-runner")
    yield
    lease_release("test-runner")


def test_ready_lists_each_check(probe, job_runner):
    response = probe.get("/health/ready")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"]["database"] == {"ok": True}
    assert body["checks"]["channel_layer"]["ok"] is True
    assert body["checks"]["message_log"] == {
        "ok": True,
        "pending_rows": 0,
        "oldest_waited_seconds": 0.0,
    }
    assert body["checks"]["jobs"]["ok"] is True
    assert body["checks"]["jobs"]["lease_renewed_seconds_ago"] <= 2


def test_ready_is_503_without_a_job_runner(probe, job_runner, settings):
    lease_release("test-runner")
    response = probe.get("/health/ready")
    assert response.status_code == 503
    assert response.json()["checks"]["jobs"] == {"ok": False}


def test_ready_refuses_writes(probe):
    assert probe.post("/health/ready").status_code == 405


@pytest.fixture
def database_unreachable():
    """Point the default database somewhere that cannot be opened; the real one again at the
    end of the ``with``."""
    original = dict(connection.settings_dict)

    class Outage:
        def __enter__(self):
            connection.close()
            if connection.vendor == "sqlite":
                connection.settings_dict["NAME"] = "/nonexistent/folder/portal.sqlite3"
            else:
                connection.close_pool()
                connection.settings_dict["NAME"] = "no_such_database"

        def __exit__(self, *exc):
            connection.settings_dict.update(original)
            if connection.vendor != "sqlite":
                connection.close_pool()

    yield Outage()


def test_ready_is_503_while_the_database_is_unreachable_then_200(
    probe, database_unreachable, job_runner
):
    with database_unreachable:
        response = probe.get("/health/ready")
        assert response.status_code == 503
        body = response.json()
        assert body["status"] == "unavailable"
        assert body["checks"]["database"]["ok"] is False
        # What failed by name, never the error's text (hosts, user names).
        assert "nonexistent" not in response.content.decode()
        assert "no_such_database" not in response.content.decode()
        assert body["checks"]["message_log"]["ok"] is True
    deadline = time.monotonic() + 20  # a PostgreSQL pool's stuck wait ends by its own timeout
    while (response := probe.get("/health/ready")).status_code != 200:
        assert time.monotonic() < deadline, response.content
        time.sleep(0.5)
    assert response.json()["checks"]["database"] == {"ok": True}


def test_ready_is_503_when_the_message_log_falls_behind(probe, settings, monkeypatch):
    settings.HEALTH_LOG_MAX_LAG_SECONDS = 5
    monkeypatch.setattr(writer, "backlog", lambda: (1234, 42.0))
    response = probe.get("/health/ready")
    assert response.status_code == 503
    assert response.json()["checks"]["message_log"] == {
        "ok": False,
        "pending_rows": 1234,
        "oldest_waited_seconds": 42.0,
    }


@pytest.mark.django_db(transaction=True)
def test_message_log_backlog_counts_rows_waiting_and_their_age():
    from ocpp_gateway.transport.log_writer import MessageLogWriter
    from ocpp_gateway.transport.message_log import log_entry

    slow = MessageLogWriter(flush_seconds=60, batch_rows=1000, queue_rows=10_000)
    assert slow.backlog() == (0, 0.0)
    slow.put_nowait(
        [
            log_entry(
                text='[2,"h1","Heartbeat",{}]',
                direction="in",
                station_id=None,
                charge_point_id="CP-1",
            )
        ]
    )
    time.sleep(0.2)
    pending, waited = slow.backlog()
    assert pending == 1
    assert waited >= 0.2
    slow.stop()
    assert slow.backlog() == (0, 0.0)
