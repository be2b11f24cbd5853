"""A command recorded while the channel layer (Redis) is down: the request succeeds, the
command stays pending for a later delivery, the failure is logged."""

import logging

import pytest
import redis
from channels.layers import get_channel_layer

from ocpp_gateway.models import CommandState
from ocpp_gateway.operations.commands import command_send
from stations.models import ConnectionState
from tests.factories import StationFactory


@pytest.mark.django_db
def test_a_command_sent_with_the_channel_layer_down_stays_pending_and_is_logged(
    monkeypatch, django_capture_on_commit_callbacks, caplog
):
    station = StationFactory(connection_state=ConnectionState.CONNECTED)

    async def down(*args, **kwargs):
        raise redis.ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(get_channel_layer(), "group_send", down)

    with caplog.at_level(logging.ERROR), django_capture_on_commit_callbacks(execute=True) as sent:
        command = command_send(station=station, action="ClearCache", payload={})

    assert len(sent) == 1  # the delivery was attempted, after commit
    command.refresh_from_db()
    assert command.state == CommandState.PENDING
    assert "Connection refused" in caplog.text
