"""The Redis channel layer as the settings make it (with REDIS_URL): a channel with nothing to
read is waited on, not taken for a Redis outage."""

import asyncio

from django.utils.module_loading import import_string

from supervision.settings import redis_channel_layers


async def test_a_quiet_channel_is_waited_on_and_its_next_message_read(private_redis):
    config = redis_channel_layers(private_redis.url)["default"]
    layer = import_string(config["BACKEND"])(**config["CONFIG"])
    channel = await layer.new_channel()
    try:
        receiving = asyncio.ensure_future(layer.receive(channel))
        # Past the 5 s channels_redis waits for a message, and redis-py 8's default read timeout.
        done, _ = await asyncio.wait({receiving}, timeout=6)
        assert not done, receiving.exception()

        await layer.send(channel, {"type": "station.command", "command": 1})
        assert (await asyncio.wait_for(receiving, 5))["command"] == 1
    finally:
        await layer.flush()
        await layer.close_pools()
