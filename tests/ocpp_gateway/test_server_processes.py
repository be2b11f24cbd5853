"""Which server processes are alive, and what becomes of the stations of one that died."""

import os
import subprocess
import sys
from datetime import timedelta

import pytest
from django.utils import timezone

from ocpp_gateway.models import Command, CommandState, ServerProcess
from ocpp_gateway.operations.commands import StationNotConnected, command_send
from ocpp_gateway.transport import server_processes
from stations.models import ConnectionState, Station, StationConnection
from stations.services import station_connection_open
from tests.factories import StationFactory

pytestmark = pytest.mark.django_db


def a_dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def process(pk: str, *, host: str = "elsewhere", pid: int = 1, seen_ago: float = 0) -> str:
    now = timezone.now()
    ServerProcess.objects.create(
        pk=pk, host=host, pid=pid, started_at=now, seen_at=now - timedelta(seconds=seen_ago)
    )
    return pk


def held_by(process_id: str) -> Station:
    station = StationFactory()
    station_connection_open(
        station=station,
        connection_id=f"conn-{station.pk}",
        server_process=process_id,
        protocol="1.6",
        remote_address=None,
        opened_at=timezone.now(),
    )
    return station


def test_a_process_with_a_fresh_heartbeat_elsewhere_is_alive():
    assert server_processes.holder_alive(process("p1"))


def test_a_process_silent_for_too_long_is_dead(settings):
    assert not server_processes.holder_alive(
        process("p1", seen_ago=settings.OCPP_PROCESS_DEAD_AFTER_SECONDS + 1)
    )


def test_a_process_of_this_host_whose_pid_is_gone_is_dead_at_once():
    assert not server_processes.holder_alive(
        process("p1", host=server_processes.HOST, pid=a_dead_pid())
    )
    assert server_processes.holder_alive(process("p2", host=server_processes.HOST, pid=os.getpid()))


def test_reaping_disconnects_a_dead_process_s_stations_and_fails_its_sent_commands(settings):
    dead = process("dead", seen_ago=settings.OCPP_PROCESS_DEAD_AFTER_SECONDS + 1)
    alive = process("alive")
    orphan, kept = held_by(dead), held_by(alive)
    sent = Command.objects.create(station=orphan, action="ClearCache", state=CommandState.SENT)

    assert server_processes.processes_reap() == ["dead"]

    assert Station.objects.get(pk=orphan.pk).connection_state == ConnectionState.DISCONNECTED
    assert Station.objects.get(pk=kept.pk).connection_state == ConnectionState.CONNECTED
    assert StationConnection.objects.get(station=orphan).close_reason == "server_died"
    assert Command.objects.get(pk=sent.pk).state == CommandState.FAILED
    assert list(ServerProcess.objects.values_list("pk", flat=True)) == ["alive"]


def test_a_command_to_a_station_whose_process_died_is_refused_at_once():
    station = held_by(process("p1", host=server_processes.HOST, pid=a_dead_pid()))

    with pytest.raises(StationNotConnected):
        command_send(station=station, action="ClearCache", payload={})

    assert Command.objects.get(station=station).state == CommandState.FAILED


def test_a_process_taken_for_dead_registers_again():
    server_processes.process_register()
    ServerProcess.objects.all().delete()  # another process reaped it

    assert not server_processes.process_heartbeat()
    assert server_processes.process_heartbeat()


def test_a_process_never_recorded_is_not_taken_for_dead():
    # Served without the lifespan (or a test process): nothing says it died.
    assert server_processes.holder_alive("never-recorded")
