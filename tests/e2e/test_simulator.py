"""``manage.py simulate_station`` as people run it: a process of its own against a server in
production settings (the station's password required), found on ``PORT``; its exit status, a
session held open until Ctrl-C or SIGTERM, and the moments it stamps."""

import signal
import subprocess
import sys
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from stations.models import ChargingSession, MeterValue
from tests.e2e.conftest import ROOT
from tests.e2e.stations import PASSWORD, make_station, wait_for
from tests.factories import BadgeFactory

MAC_TAG = "VID:A014310E004E"
# Every moment the simulator stamps is "now": within this of the run (whole seconds on the wire).
CLOCK_MARGIN = timedelta(seconds=2)


@pytest.fixture
def station(own_server):
    station = make_station("E2E-SIMULATOR-1")
    BadgeFactory(rfid=MAC_TAG, company=station.company)
    return station


def simulator_command(server, *arguments: str) -> tuple[list[str], dict[str, str]]:
    """The command line and environment: no ``--url``, the server's port in ``PORT`` as
    `make run` has it, the station's password in ``STATION_PASSWORD``."""
    command = [sys.executable, "manage.py", "simulate_station", *arguments]
    return command, {**server.env, "PORT": str(server.port), "STATION_PASSWORD": PASSWORD}


def run_simulator(server, *arguments: str) -> subprocess.CompletedProcess:
    command, env = simulator_command(server, *arguments)
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)


def start_simulator(server, *arguments: str) -> subprocess.Popen:
    command, env = simulator_command(server, *arguments)
    return subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def assert_stamped_now(session: ChargingSession, began, ended) -> None:
    moments = [session.started_at, session.stopped_at]
    moments += [value.timestamp for value in session.meter_values.all()]
    for moment in moments:
        assert began - CLOCK_MARGIN <= moment <= ended + CLOCK_MARGIN, (moment, began, ended)


def test_a_charge_on_the_port_of_port_exits_0_with_every_moment_stamped_now(own_server, station):
    began = timezone.now()

    result = run_simulator(own_server, station.charge_point_id, "--id-tag", MAC_TAG)

    ended = timezone.now()
    assert result.returncode == 0, result.stderr
    assert "Authorize            → Accepted" in result.stdout
    assert result.stdout.rstrip().endswith("Charged.")
    session = ChargingSession.objects.get(station=station)
    assert (session.energy_wh, session.stop_reason) == (12_000, "Local")
    assert session.meter_values.count() == 3
    assert_stamped_now(session, began, ended)
    # Not four minutes ahead of when the supervision received the stop.
    assert session.stopped_at <= session.stop_received_at + CLOCK_MARGIN


def test_a_refused_vehicle_exits_non_zero(own_server, station):
    result = run_simulator(own_server, station.charge_point_id, "--id-tag", "VID:A014310E0099")

    assert result.returncode == 1
    assert "Authorize            → Invalid" in result.stdout
    assert "Charged." not in result.stdout
    assert result.stderr.strip().endswith("Not charged.")
    assert not ChargingSession.objects.exists()


def test_an_unreachable_port_exits_non_zero_naming_the_url(own_server, station):
    command, env = simulator_command(own_server, station.charge_point_id)
    env["PORT"] = "1"  # nothing listens there

    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)

    assert result.returncode == 1
    assert "Could not connect to ws://127.0.0.1:1/ocpp/E2E-SIMULATOR-1" in result.stderr


@pytest.mark.parametrize(
    ("version", "stop_signal"), [("1.6", signal.SIGINT), ("2.0.1", signal.SIGTERM)]
)
def test_hold_keeps_the_session_open_with_meter_values_until_interrupted(
    own_server, station, version, stop_signal
):
    began = timezone.now()
    process = start_simulator(
        own_server,
        station.charge_point_id,
        "--id-tag",
        MAC_TAG,
        "--ocpp",
        version,
        "--hold",
        "--interval",
        "0.2",
        "--power",
        "50",
    )
    try:
        session = wait_for(lambda: ChargingSession.objects.filter(station=station).first(), 30)
        wait_for(lambda: MeterValue.objects.filter(session=session).count() >= 3, 15)
        session.refresh_from_db()
        assert session.stopped_at is None  # still charging

        process.send_signal(stop_signal)
        stdout, stderr = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()

    ended = timezone.now()
    assert process.returncode == 0, stderr
    assert "Wh so far" in stdout
    assert stdout.rstrip().endswith("Charged.")
    session.refresh_from_db()
    assert session.stopped_at is not None
    assert session.stop_reason == "Local"
    readings = session.meter_values.count()
    assert readings >= 3
    # The register rose with the time charged, and the stop counts it all.
    assert 0 < session.energy_wh == session.meter_stop - session.meter_start
    assert_stamped_now(session, began, ended)


@pytest.mark.parametrize("option", ["--interval=0", "--interval=-1", "--power=0", "--power=x"])
def test_hold_needs_a_positive_interval_and_power(option):
    with pytest.raises(CommandError, match=option.split("=")[0]):
        call_command("simulate_station", "CP-1", "--hold", option)
