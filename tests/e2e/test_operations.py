"""What an operator relies on, with real server processes: /metrics across two processes sharing
PROMETHEUS_MULTIPROC_DIR, the JSON server log naming the station a line concerns, scheduled
jobs run by one process at a time, and e-mails that leave through the job runner."""

import asyncio
import json
import time
import urllib.request

import pytest
from django.conf import global_settings
from prometheus_client.parser import text_string_to_metric_families

from supervision.models import JobState, OutgoingEmail
from tests.e2e.conftest import ROOT, Server
from tests.e2e.smtp_server import SlowSmtpServer
from tests.e2e.stations import call, connect, make_station, wait_for
from tests.factories import BadgeFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def two_processes(transactional_db, django_db_blocker, settings, tmp_path):
    """Two server processes on one host, as `make run-scaled` starts them: one metrics
    folder, JSON logs."""
    settings.PASSWORD_HASHERS = global_settings.PASSWORD_HASHERS
    folder = tmp_path / "metrics"
    folder.mkdir()
    servers = []
    for number in (1, 2):
        log_name = f".pytest-server-operations-{number}.log"
        (ROOT / log_name).write_text("")
        servers.append(
            Server(
                django_db_blocker,
                log_name,
                PROMETHEUS_MULTIPROC_DIR=str(folder),
                LOG_FORMAT="json",
            )
        )
    yield servers
    for server in servers:
        if server.process.poll() is None:
            server.stop()


def samples(server: Server) -> dict[tuple[str, tuple], float]:
    """/metrics of ``server``, parsed: (sample name, sorted labels) → value."""
    url = f"http://127.0.0.1:{server.port}/metrics"
    with urllib.request.urlopen(url, timeout=10) as response:
        text = response.read().decode()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def connected(server: Server, version: str = "1.6") -> float:
    return samples(server).get(("ocpp_stations_connected", (("ocpp_version", version),)), 0)


def test_metrics_follow_stations_across_two_processes(two_processes):
    first, second = two_processes
    one, two = make_station("E2E-METRICS-1"), make_station("E2E-METRICS-2")
    assert connected(first) == connected(second) == 0

    async def scenario():
        ws_one = await connect(first.url, one.charge_point_id)
        ws_two = await connect(second.url, two.charge_point_id)
        boot = {"chargePointVendor": "V", "chargePointModel": "M"}
        await call(ws_two, "b", "BootNotification", boot)
        refused = await call(ws_two, "a", "Authorize", {"idTag": "NO-SUCH-TAG"})
        both = await asyncio.to_thread(wait_for, lambda: connected(first) == 2)
        await ws_one.close()
        one_left = await asyncio.to_thread(wait_for, lambda: connected(second) == 1)
        await ws_two.close()
        return refused, both, one_left

    refused, both, one_left = asyncio.run(scenario())
    assert refused[2]["idTagInfo"]["status"] == "Invalid"
    assert both and one_left
    wait_for(lambda: connected(first) == 0)

    # Counted by the second process, reported by the first: frames, decisions, latencies.
    seen = samples(first)
    assert seen[("ocpp_frames_total", (("action", "Authorize"), ("direction", "in")))] == 1
    assert seen[("ocpp_frames_total", (("action", "Authorize"), ("direction", "out")))] == 1
    decisions = {
        labels: value
        for (name, labels), value in seen.items()
        if name == "ocpp_authorization_decisions_total"
    }
    assert decisions == {
        (("action", "Authorize"), ("reason", "unknown_badge"), ("status", "Invalid")): 1
    }
    assert seen[("ocpp_handler_seconds_count", (("action", "Authorize"),))] == 1
    # Read from the database by the process that answers.
    assert seen[("ocpp_sessions_open", ())] == 0
    assert seen[("ocpp_commands", (("state", "pending"),))] >= 0
    # Each process's own queues, by pid.
    queue_pids = {
        dict(labels)["pid"]
        for (name, labels), _ in seen.items()
        if name == "ocpp_message_log_queue_rows"
    }
    assert queue_pids == {str(first.process.pid), str(second.process.pid)}
    for server in two_processes:  # sampled every second by each process
        assert (("ocpp_database_thread_wait_seconds", (("pid", str(server.process.pid)),))) in seen


def test_json_log_lines_carry_the_station(two_processes):
    server = two_processes[0]
    station = make_station("E2E-JSON-LOG")

    async def scenario():
        ws = await connect(server.url, station.charge_point_id)
        await ws.send('[2, "bad", "Heartbeat", "not an object"]')
        answer = json.loads(await asyncio.wait_for(ws.recv(), 10))
        await ws.close()
        return answer

    assert asyncio.run(scenario())[0] == 4
    lines = wait_for(lambda: [json.loads(line) for line in server.log().splitlines()][1:])
    about_station = wait_for(
        lambda: [
            line
            for line in (json.loads(text) for text in server.log().splitlines())
            if line.get("charge_point_id") == "E2E-JSON-LOG"
        ]
    )
    assert about_station[0]["station_id"] == station.pk
    assert about_station[0]["level"] == "WARNING"
    assert about_station[0]["logger"] == "ocpp_gateway.transport.protocol_errors"
    assert "Traceback" not in server.log()
    assert {"time", "level", "logger", "message"} <= set(lines[0])


def job_state(name: str) -> JobState | None:
    return JobState.objects.filter(name=name).first()


def test_a_scheduled_purge_runs_in_one_process_at_a_time(transactional_db, django_db_blocker):
    every_second = {
        "JOBS_IN_SERVER": "true",
        "JOBS_PURGE_OLD_RECORDS_SECONDS": "1",
        "JOBS_LEASE_SECONDS": "3",
    }
    servers = [
        Server(django_db_blocker, f".pytest-server-jobs-{number}.log", **every_second)
        for number in (1, 2)
    ]
    try:
        started = wait_for(lambda: (s := job_state("purge_old_records")) and s.runs >= 2, 20)
        assert started
        first = job_state("purge_old_records")
        holders, began = set(), time.monotonic()
        while time.monotonic() - began < 4:
            holders.add(job_state("purge_old_records").last_holder)
            time.sleep(0.2)
        runs = job_state("purge_old_records").runs - first.runs
        # One process ran it, once a second: two runners would have made about eight runs.
        assert len(holders) == 1
        assert 2 <= runs <= 5
        (leader,) = holders
        by_pid = {str(server.process.pid): server for server in servers}
        leading = by_pid[leader.rsplit(":", 1)[1]]
        other = next(server for server in servers if server is not leading)
        leading.stop()  # a clean stop lets go of the lease: the other takes over
        wait_for(
            lambda: job_state("purge_old_records").last_holder.endswith(f":{other.process.pid}"),
            10,
        )
    finally:
        for server in servers:
            if server.process.poll() is None:
                server.stop()


def test_an_email_alert_leaves_through_the_job_runner_not_the_station_s_thread(
    transactional_db, django_db_blocker, settings
):
    settings.PASSWORD_HASHERS = global_settings.PASSWORD_HASHERS
    smtp = SlowSmtpServer(delay=4)
    server = Server(
        django_db_blocker,
        ".pytest-server-mail.log",
        JOBS_IN_SERVER="true",
        EMAIL_URL=f"smtp://127.0.0.1:{smtp.port}",
    )
    station = make_station("E2E-MAIL-1")
    badge = BadgeFactory(company=station.company)
    try:

        async def scenario():
            first = await connect(server.url, station.charge_point_id)
            # A second connection takes over the live one: a security event, mailed.
            second = await connect(server.url, station.charge_point_id)
            boot = {"chargePointVendor": "V", "chargePointModel": "M"}
            began = time.monotonic()
            await call(second, "b", "BootNotification", boot)
            timings = [time.monotonic() - began]
            for number in range(3):
                began = time.monotonic()
                answer = await call(second, f"a{number}", "Authorize", {"idTag": badge.rfid})
                timings.append(time.monotonic() - began)
                assert answer[2]["idTagInfo"]["status"] == "Accepted"
            await second.close()
            await first.close()
            return timings

        timings = asyncio.run(scenario())
        # The mail server takes 4 s to greet: none of that on the stations' path (a mail sent
        # from their database thread held up the calls that followed the takeover).
        assert max(timings) < 1.5, timings
        wait_for(lambda: smtp.messages, timeout=20)
        # In French: the company's contact reads the portal's first language.
        assert smtp.subjects() == [
            "[Supervision Autocharge] Une nouvelle connexion a remplacé celle de la borne sur "
            f"{station.charge_point_id}"
        ]
        # The mail server holds the message before the runner hears its answer and records it.
        wait_for(lambda: OutgoingEmail.objects.filter(sent_at__isnull=False).exists(), timeout=20)
        email = OutgoingEmail.objects.get()
        assert email.recipients == [station.company.contact_email]
    finally:
        server.stop()
        smtp.stop()
