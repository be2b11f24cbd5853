"""Webhooks end to end: a real server process in production settings (station passwords, its
own job runner), a simulated station charging over OCPP, and an integration's receiver on
127.0.0.1 that is slow to answer, which must never slow the station down."""

import asyncio
import time

import pytest
from django.conf import global_settings

from simulator import v16 as simulator
from stations.models import ChargingSession
from tests.e2e.conftest import Server
from tests.e2e.stations import PASSWORD, PRODUCTION, make_station, server_let_go, wait_for
from tests.factories import BadgeFactory
from tests.webhooks.receiver import Receiver
from webhooks import services
from webhooks.models import Webhook, WebhookDelivery

pytestmark = pytest.mark.django_db(transaction=True)

KNOWN_TAG = "VID:A014310E0E01"
UNKNOWN_TAG = "VID:A014310E0E99"


@pytest.fixture
def server(transactional_db, django_db_blocker, settings):
    settings.PASSWORD_HASHERS = global_settings.PASSWORD_HASHERS
    server = Server(
        django_db_blocker,
        ".pytest-server-webhooks.log",
        **PRODUCTION,
        JOBS_IN_SERVER="true",
        JOBS_SEND_WEBHOOKS_SECONDS="1",
    )
    yield server
    server.stop()


def charge(server, station, id_tag: str) -> tuple[simulator.ChargingReport, list[float]]:
    """One plug-in over OCPP; how long the supervision took to answer each step."""
    gaps, last = [], [time.monotonic()]

    def timed(step, answer):
        now = time.monotonic()
        gaps.append(now - last[0])
        last[0] = now

    host = server.url.removeprefix("ws://")
    report = asyncio.run(
        simulator.charge(
            url=f"ws://{station.charge_point_id}:{PASSWORD}@{host}/ocpp",
            charge_point_id=station.charge_point_id,
            id_tag=id_tag,
            energy_wh=9_000,
            report=timed,
        )
    )
    server_let_go(station.charge_point_id)
    return report, gaps


def test_a_simulated_charge_reaches_a_slow_receiver_signed_without_slowing_the_station(server):
    receiver = Receiver(delay=2.0)  # an integration that takes its time
    try:
        station = make_station("E2E-HOOK-1")
        badge = BadgeFactory(rfid=KNOWN_TAG, company=station.company)
        webhook = services.webhook_save(
            webhook=Webhook(
                company=station.company,
                url=receiver.url,
                events=["session.started", "session.stopped", "vehicle.refused"],
            )
        )

        charged, charged_gaps = charge(server, station, KNOWN_TAG)
        refused, refused_gaps = charge(server, station, UNKNOWN_TAG)

        assert (charged.start_status, refused.authorize_status) == ("Accepted", "Invalid")
        # Each answer came at once, while the receiver took 2 s per event.
        assert max(charged_gaps + refused_gaps) < 1.5, (charged_gaps, refused_gaps)
        wait_for(
            lambda: WebhookDelivery.objects.filter(status="delivered").count() == 3, timeout=30
        )
        assert receiver.types() == ["session.started", "session.stopped", "vehicle.refused"]
        for entry in receiver.received:
            assert entry.signed_with(webhook.secret)
        session = ChargingSession.objects.get(transaction_id=charged.transaction_id)
        started, stopped, refusal = (entry.json["data"] for entry in receiver.received)
        assert started["transaction_id"] == stopped["transaction_id"] == session.transaction_id
        assert stopped["energy_wh"] == 9_000
        assert stopped["vehicle_plate"] == badge.vehicle.license_plate
        assert (refusal["id_tag"], refusal["refusal_reason"]) == (UNKNOWN_TAG, "unknown_badge")
    finally:
        receiver.stop()


def test_deliveries_queued_while_the_receiver_fails_survive_a_restart(
    transactional_db, django_db_blocker, settings
):
    settings.PASSWORD_HASHERS = global_settings.PASSWORD_HASHERS
    receiver = Receiver(statuses=[500])
    server = Server(django_db_blocker, ".pytest-server-webhooks.log", **PRODUCTION)
    try:
        station = make_station("E2E-HOOK-2")
        BadgeFactory(rfid=KNOWN_TAG, company=station.company)
        services.webhook_save(
            webhook=Webhook(company=station.company, url=receiver.url, events=["session.stopped"])
        )
        charge(server, station, KNOWN_TAG)  # no job runner: queued only
        server.stop()
        assert WebhookDelivery.objects.get().status == "pending"
        assert receiver.received == []

        # The next process runs the jobs: a 500 first, then the retry (30 s later, brought
        # forward here) delivers.
        server.env.update(JOBS_IN_SERVER="true", JOBS_SEND_WEBHOOKS_SECONDS="1")
        server.start()
        wait_for(lambda: WebhookDelivery.objects.get().attempts == 1, timeout=20)
        delivery = WebhookDelivery.objects.get()
        assert (delivery.status, delivery.status_code) == ("pending", 500)
        WebhookDelivery.objects.update(next_attempt_at=delivery.created_at)
        wait_for(lambda: WebhookDelivery.objects.get().status == "delivered", timeout=20)
        assert [entry.json["type"] for entry in receiver.received] == ["session.stopped"] * 2
        assert receiver.received[0].body == receiver.received[1].body
    finally:
        if server.process.poll() is None:
            server.stop()
        receiver.stop()
