"""The ASGI lifespan owns the process's threads: the message log's writer and the authorization
cache's reader of changes run from startup, before any station connects, and stop at
shutdown."""

import asyncio

import pytest

from ocpp_gateway.transport.lifespan import application
from ocpp_gateway.transport.log_writer import writer
from stations.authorization_index import index


def alive(thread) -> bool:
    return thread is not None and thread.is_alive()


async def run_lifespan() -> tuple[list[str], tuple[bool, bool]]:
    events: asyncio.Queue = asyncio.Queue()
    sent: list[str] = []
    answered = asyncio.Event()

    async def send(message) -> None:
        sent.append(message["type"])
        answered.set()

    lifespan = asyncio.create_task(application({"type": "lifespan"}, events.get, send))
    await events.put({"type": "lifespan.startup"})
    await asyncio.wait_for(answered.wait(), timeout=30)
    running = (alive(writer._thread), alive(index._thread))
    await events.put({"type": "lifespan.shutdown"})
    await asyncio.wait_for(lifespan, timeout=30)
    return sent, running


@pytest.mark.django_db(transaction=True)
def test_the_lifespan_starts_and_stops_the_log_writer_and_the_authorization_index(
    settings, monkeypatch
):
    settings.JOBS_IN_SERVER = False
    # Off in the test process (conftest); on, as in a server, for this one test.
    monkeypatch.setattr(index, "poll_seconds", 0.2)
    # Whatever earlier tests started on first use: the lifespan must start them itself.
    writer.stop()
    index.stop()
    assert not alive(writer._thread) and not alive(index._thread)

    sent, running = asyncio.run(run_lifespan())

    assert sent == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
    assert running == (True, True)
    assert writer._thread is None and index._thread is None
