"""Events recorded by the stations become signed deliveries, queued with the fact and sent by
the job: a simulated charge through the services, a receiver on 127.0.0.1, retries."""

import time
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from badges.models import VehicleSighting
from stations.enrolment import authorization_request
from stations.models import ChargingSession, CloseReason, SecurityEvent, SecurityEventKind, Severity
from stations.security import security_event_record
from stations.services import (
    session_start,
    session_stop,
    station_connection_close,
    station_connection_open,
)
from tests.factories import (
    AuthorizationGroupFactory,
    BadgeFactory,
    CompanyFactory,
    StationFactory,
)
from tests.webhooks.receiver import Receiver
from webhooks import payloads, receivers, services
from webhooks.models import DeliveryStatus, Webhook, WebhookDelivery

pytestmark = pytest.mark.django_db

KNOWN_TAG = "VID:A014310E0D01"
UNKNOWN_TAG = "VID:A014310E0D99"
EVERY_EVENT = [
    "session.started",
    "session.stopped",
    "vehicle.refused",
    "vehicle.unknown",
    "station.connected",
    "station.disconnected",
    "security.event",
]


class Clock:
    """``timezone.now`` under the test's hand (the services' and the models' alike)."""

    def __init__(self, monkeypatch) -> None:
        self.now = timezone.now()
        monkeypatch.setattr(timezone, "now", lambda: self.now)

    def advance(self, delta: timedelta) -> None:
        self.now += delta


def hook(company, url: str, events=None, **fields) -> Webhook:
    return services.webhook_save(
        webhook=Webhook(company=company, url=url, events=events or EVERY_EVENT, **fields)
    )


def charge(station, tag: str = KNOWN_TAG, energy_wh: int = 12_000):
    started = timezone.now() - timedelta(minutes=30)
    session, decision = session_start(
        station=station, connector_id=2, id_tag=tag, meter_start=1_000, started_at=started
    )
    assert decision.accepted, decision
    return session_stop(
        station=station,
        transaction_id=session.transaction_id,
        meter_stop=1_000 + energy_wh,
        stopped_at=started + timedelta(minutes=25),
        reason="EVDisconnected",
    )


def test_a_charge_and_a_refusal_reach_the_receiver_signed(receiver):
    station = StationFactory(charge_point_id="DEPOT-1")
    badge = BadgeFactory(rfid=KNOWN_TAG, company=station.company)
    webhook = hook(
        station.company, receiver.url, ["session.started", "session.stopped", "vehicle.refused"]
    )

    session = charge(station)
    authorization_request(id_tag=UNKNOWN_TAG, station=station, connector_id=1)
    assert receiver.received == []  # queued, not sent by the stations' code
    assert services.webhook_deliveries_send() == 3

    assert receiver.types() == ["session.started", "session.stopped", "vehicle.refused"]
    for entry in receiver.received:
        assert entry.signed_with(webhook.secret)
        assert not entry.signed_with("another secret")
        assert entry.headers["Content-Type"] == "application/json"
        assert entry.headers["X-Autocharge-Event"] == entry.json["type"]
        delivery = WebhookDelivery.objects.get(pk=entry.headers["X-Autocharge-Delivery"])
        assert str(delivery.event_id) == entry.json["id"]
        assert (delivery.status, delivery.status_code, delivery.attempts) == ("delivered", 200, 1)
        assert set(entry.json) == {"id", "type", "created_at", "data"}
    started, stopped, refused = (entry.json["data"] for entry in receiver.received)
    assert started["transaction_id"] == stopped["transaction_id"] == session.transaction_id
    assert (started["station"], started["connector"]) == ("DEPOT-1", 2)
    assert started["vehicle_plate"] == stopped["vehicle_plate"] == badge.vehicle.license_plate
    assert started["badge_id_tag"] == KNOWN_TAG
    assert started["stopped_at"] is None and started["energy_wh"] is None
    assert (stopped["energy_wh"], stopped["stop_reason"]) == (12_000, "EVDisconnected")
    assert stopped["stopped_at"] == session.stopped_at.isoformat()
    assert refused == refused | {
        "station": "DEPOT-1",
        "connector": 1,
        "id_tag": UNKNOWN_TAG,
        "mac": "A014310E0D99",
        "refusal_reason": "unknown_badge",
        "vehicle_plate": None,
    }
    assert refused["unknown_vehicle_id"] is not None


def test_a_failed_delivery_is_retried_with_exponential_backoff_then_delivered(monkeypatch):
    clock = Clock(monkeypatch)
    receiver = Receiver(statuses=[500, 503, 500])
    try:
        station = StationFactory()
        hook(station.company, receiver.url, ["station.connected"])
        station_connection_open(
            station=station,
            connection_id="c1",
            server_process="p1",
            protocol="1.6",
            remote_address="127.0.0.1",
            opened_at=clock.now,
        )
        delivery = WebhookDelivery.objects.get()
        delays = []
        for attempt in (1, 2, 3):
            tried_at = clock.now
            assert services.webhook_deliveries_send() == 0
            delivery.refresh_from_db()
            assert (delivery.attempts, delivery.status) == (attempt, "pending")
            assert delivery.status_code in (500, 503)
            assert delivery.last_error == f"HTTP {delivery.status_code}"
            delays.append(delivery.next_attempt_at - tried_at)
            # Not due yet: nothing is sent a second early.
            clock.advance(delays[-1] - timedelta(seconds=1))
            assert services.webhook_deliveries_send() == 0
            assert len(receiver.received) == attempt
            clock.advance(timedelta(seconds=1))
        assert delays == [timedelta(seconds=30), timedelta(minutes=1), timedelta(minutes=2)]

        assert services.webhook_deliveries_send() == 1
        delivery.refresh_from_db()
        assert (delivery.status, delivery.status_code, delivery.attempts) == ("delivered", 200, 4)
        assert (delivery.last_error, delivery.next_attempt_at) == ("", None)
        # Every try carried the same event, signed the same way.
        assert len({entry.body for entry in receiver.received}) == 1
        assert len({entry.headers["X-Autocharge-Signature"] for entry in receiver.received}) == 1
    finally:
        receiver.stop()


def test_the_backoff_doubles_up_to_two_hours_and_gives_up_after_a_day(monkeypatch):
    assert [services.retry_delay(n) for n in range(1, 11)] == [
        timedelta(seconds=30 * 2**k) for k in range(8)
    ] + [timedelta(hours=2)] * 2
    clock = Clock(monkeypatch)
    receiver = Receiver(statuses=[500] * 100)
    try:
        station = StationFactory()
        hook(station.company, receiver.url, ["station.disconnected"])
        station.connection_id = "c1"
        station.save()
        station_connection_close(station=station, connection_id="c1", reason=CloseReason.STATION)
        delivery = WebhookDelivery.objects.get()
        while delivery.status == DeliveryStatus.PENDING:
            clock.now = delivery.next_attempt_at
            services.webhook_deliveries_send()
            delivery.refresh_from_db()
        assert delivery.status == "failed"
        assert delivery.next_attempt_at is None
        assert delivery.created_at + timedelta(hours=22) < clock.now
        assert clock.now <= delivery.created_at + timedelta(hours=24)
        assert delivery.attempts == len(receiver.received) == 19
    finally:
        receiver.stop()


def test_a_receiver_that_does_not_answer_in_time_is_a_failure_retried(settings):
    settings.WEBHOOKS_TIMEOUT_SECONDS = 0.3
    receiver = Receiver(delay=1.0)
    try:
        station = StationFactory()
        hook(station.company, receiver.url, ["station.connected"])
        services.event_queue(company_id=station.company_id, event_type="station.connected", data={})
        assert services.webhook_deliveries_send() == 0
        delivery = WebhookDelivery.objects.get()
        assert (delivery.status, delivery.status_code, delivery.attempts) == ("pending", None, 1)
        assert "timed out" in delivery.last_error
        assert delivery.next_attempt_at > timezone.now() + timedelta(seconds=25)
    finally:
        receiver.stop()


def test_a_redirect_is_not_followed_but_failed(receiver):
    import http.server
    import threading

    class Redirect(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            self.send_response(307)
            self.send_header("Location", receiver.url)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Redirect)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        station = StationFactory()
        hook(station.company, f"http://127.0.0.1:{server.server_address[1]}/", ["security.event"])
        security_event_record(
            kind=SecurityEventKind.MAC_PROBING, severity=Severity.WARNING, station=station
        )
        services.webhook_deliveries_send()
        delivery = WebhookDelivery.objects.get()
        assert (delivery.status_code, delivery.status) == (307, "pending")
        assert receiver.received == []
    finally:
        server.shutdown()
        server.server_close()


def test_a_run_sends_a_bounded_batch(receiver, settings):
    settings.WEBHOOKS_BATCH = 2
    station = StationFactory()
    hook(station.company, receiver.url, ["station.connected"])
    for _ in range(3):
        services.event_queue(company_id=station.company_id, event_type="station.connected", data={})
    assert services.webhook_deliveries_send() == 2
    assert services.webhook_deliveries_send() == 1
    assert services.webhook_deliveries_send() == 0


def deliveries_of(*webhooks) -> list[list[str]]:
    return [sorted(webhook.deliveries.values_list("event_type", flat=True)) for webhook in webhooks]


def test_each_company_hears_only_its_own_events():
    owner, fleet, other = CompanyFactory(), CompanyFactory(), CompanyFactory()
    station = StationFactory(company=owner)
    owner_hook = hook(owner, "https://owner.example.com/hook")
    fleet_hook = hook(fleet, "https://fleet.example.com/hook")
    other_hook = hook(other, "https://other.example.com/hook")
    # The fleet's vehicle is refused at the owner's station (no group lets it charge there):
    # the owner hears of the refusal, without the plate of another company's vehicle.
    badge = BadgeFactory(rfid=KNOWN_TAG, company=fleet)
    authorization_request(id_tag=KNOWN_TAG, station=station, connector_id=1)
    [refusal] = WebhookDelivery.objects.filter(webhook=owner_hook, event_type="vehicle.refused")
    assert refusal.payload["data"]["vehicle_plate"] is None
    assert refusal.payload["data"]["refusal_reason"] != "unknown_badge"
    assert badge.vehicle.license_plate not in str(refusal.payload)
    assert deliveries_of(fleet_hook, other_hook) == [[], []]
    WebhookDelivery.objects.all().delete()

    # Once a group of the fleet includes the station, the session is the fleet's alone.
    group = AuthorizationGroupFactory(company=fleet)
    group.stations.add(station)
    badge.groups.add(group)
    charge(station)
    assert deliveries_of(owner_hook, fleet_hook, other_hook) == [
        [],
        ["session.started", "session.stopped"],
        [],
    ]


def test_a_session_is_told_to_whom_tenancy_shows_it():
    station = StationFactory()
    attributed = ChargingSession(station=station, company_id=7, station_company_id=station.pk)
    anonymous = ChargingSession(station=station, station_company_id=3, company_name="")
    of_a_deleted_company = ChargingSession(station=station, station_company_id=3, company_name="X")
    assert receivers._session_company(attributed) == 7
    assert receivers._session_company(anonymous) == 3
    assert receivers._session_company(of_a_deleted_company) is None


def test_the_receivers_cost_no_query_when_the_company_has_no_webhook(
    django_assert_num_queries,
):
    station = StationFactory()
    hook(CompanyFactory(), "https://elsewhere.example.com/hook")  # another company listens
    session = ChargingSession(station=station, company=station.company, connector_id=1)
    sighting = VehicleSighting(station=station, mac="A014310E0D99", id_tag=UNKNOWN_TAG)
    event = SecurityEvent(station=station, kind="mac_probing", severity="warning")
    receivers.on_session_started(sender=None, session=session)  # the companies read once
    with django_assert_num_queries(0):
        for _ in range(100):
            receivers.on_session_started(sender=None, session=session)
            receivers.on_session_stopped(sender=None, session=session)
            receivers.on_vehicle_refused(sender=None, sighting=sighting)
            receivers.on_station_connected(sender=None, station=station)
            receivers.on_station_disconnected(sender=None, station=station)
            receivers.on_security_event_recorded(sender=None, event=event)
    assert not WebhookDelivery.objects.exists()


def test_a_new_webhook_hears_at_once_in_its_process_and_within_a_second_elsewhere():
    station = StationFactory()
    station_connection_open(
        station=station,
        connection_id="c0",
        server_process="p1",
        protocol="1.6",
        remote_address=None,
        opened_at=timezone.now(),
    )
    assert not WebhookDelivery.objects.exists()
    webhook = hook(station.company, "https://example.com/hook", ["station.connected"])
    services.event_queue(company_id=station.company_id, event_type="station.connected", data={})
    assert webhook.deliveries.count() == 1

    # Another process deactivated it: this one follows within a second.
    from webhooks import selectors

    assert selectors.company_listens(station.company_id)
    Webhook.objects.filter(pk=webhook.pk).update(active=False)  # no signal, as elsewhere
    assert selectors.company_listens(station.company_id)
    time.sleep(1.01)
    assert not selectors.company_listens(station.company_id)


def test_no_delivery_for_a_fact_rolled_back():
    station = StationFactory()
    hook(station.company, "https://example.com/hook")
    with pytest.raises(RuntimeError), transaction.atomic():
        security_event_record(
            kind=SecurityEventKind.MAC_PROBING, severity=Severity.WARNING, station=station
        )
        assert WebhookDelivery.objects.count() == 1
        raise RuntimeError("the recording failed")
    assert not WebhookDelivery.objects.exists()


def test_only_subscribed_events_of_active_webhooks_are_queued():
    station = StationFactory()
    refusals = hook(station.company, "https://example.com/refusals", ["vehicle.unknown"])
    inactive = hook(station.company, "https://example.com/off", active=False)
    security_event_record(
        kind=SecurityEventKind.MAC_PROBING, severity=Severity.WARNING, station=station
    )
    authorization_request(id_tag=UNKNOWN_TAG, station=station, connector_id=1)
    assert deliveries_of(refusals, inactive) == [["vehicle.unknown"], []]


def test_a_security_event_without_a_station_is_nobody_s():
    station = StationFactory()
    webhook = hook(station.company, "https://example.com/hook", ["security.event"])
    security_event_record(
        kind=SecurityEventKind.MAC_PROBING, severity=Severity.WARNING, station=None
    )
    assert deliveries_of(webhook) == [[]]
    event = security_event_record(
        kind=SecurityEventKind.MAC_PROBING,
        severity=Severity.WARNING,
        station=station,
        details={"stations": ["own"]},
        other_companies_details={"stations": ["someone else's"]},
    )
    [delivery] = webhook.deliveries.all()
    assert delivery.payload["data"] == delivery.payload["data"] | {
        "security_event_id": event.pk,
        "kind": "mac_probing",
        "station": station.charge_point_id,
        "details": {"stations": ["own"]},
    }
    assert "someone else" not in str(delivery.payload)


def test_a_deactivated_webhook_s_waiting_deliveries_are_given_up(receiver):
    station = StationFactory()
    webhook = hook(station.company, receiver.url, ["station.connected"])
    services.event_queue(company_id=station.company_id, event_type="station.connected", data={})
    webhook.active = False
    services.webhook_save(webhook=webhook)
    services.webhook_deliveries_send()
    delivery = webhook.deliveries.get()
    assert (delivery.status, delivery.attempts, receiver.received) == ("failed", 0, [])
    assert delivery.last_error == "The webhook was deactivated."


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:{port}/hooks",
        "http://localhost:{port}/hooks",
        "http://[::1]:{port}/hooks",
        "http://169.254.169.254/latest/meta-data/",
        "http://0.0.0.0:{port}/",
    ],
)
def test_the_server_itself_and_link_local_addresses_are_refused_by_default(receiver, settings, url):
    settings.WEBHOOKS_ALLOW_LOCAL_ADDRESSES = False
    port = receiver.server.server_address[1]
    station = StationFactory()
    hook(station.company, url.format(port=port), ["station.connected"])
    services.event_queue(company_id=station.company_id, event_type="station.connected", data={})

    assert services.webhook_deliveries_send() == 0

    delivery = WebhookDelivery.objects.get()
    assert delivery.last_error.startswith("Address not allowed: ")
    assert (delivery.status, delivery.attempts, delivery.status_code) == ("pending", 1, None)
    assert receiver.received == []


def test_deliveries_done_leave_the_log_after_its_retention(monkeypatch, settings):
    settings.WEBHOOKS_LOG_DAYS = 30
    station = StationFactory()
    hook(station.company, "https://example.com/hook", ["station.connected"])
    clock = Clock(monkeypatch)
    old = {}
    for status in ("delivered", "failed", "pending"):
        [old[status]] = services.event_queue(
            company_id=station.company_id, event_type="station.connected", data={}
        )
        WebhookDelivery.objects.filter(pk=old[status].pk).update(status=status)
    clock.advance(timedelta(days=30, seconds=1))
    [recent] = services.event_queue(
        company_id=station.company_id, event_type="station.connected", data={}
    )
    WebhookDelivery.objects.filter(pk=recent.pk).update(status="delivered")

    assert services.webhook_deliveries_prune() == 2

    assert set(WebhookDelivery.objects.values_list("pk", flat=True)) == {
        old["pending"].pk,  # still being tried: not the log's to drop
        recent.pk,
    }


def test_a_failure_to_queue_never_breaks_the_station_s_recording(monkeypatch, caplog):
    station = StationFactory()
    BadgeFactory(rfid=KNOWN_TAG, company=station.company)
    hook(station.company, "https://example.com/hook")

    def broken(session):
        raise RuntimeError("a bug in the payload")

    monkeypatch.setattr(payloads, "session_data", broken)
    with transaction.atomic():
        session = charge(station)

    assert ChargingSession.objects.get(pk=session.pk).energy_wh == 12_000
    assert not WebhookDelivery.objects.exists()
    assert "not queued" in caplog.text


def test_a_receiver_down_holds_back_only_its_own_deliveries(receiver, settings):
    settings.WEBHOOKS_BATCH = 3
    down, up = CompanyFactory(), CompanyFactory()
    closed = Receiver()
    closed.stop()  # nothing listens on its port any more
    hook(down, closed.url, ["station.connected"])
    hook(up, receiver.url, ["station.connected"])
    for _ in range(4):
        services.event_queue(company_id=down.pk, event_type="station.connected", data={})
    services.event_queue(company_id=up.pk, event_type="station.connected", data={})

    assert services.webhook_deliveries_send() == 1

    assert receiver.types() == ["station.connected"]
    waiting = WebhookDelivery.objects.filter(webhook__company=down).order_by("created_at")
    tried, *held_back = waiting
    assert (tried.attempts, tried.status) == (1, "pending")
    assert "ConnectionRefused" in tried.last_error or "refused" in tried.last_error
    # The others wait for its retry, untried, in their order.
    assert {(d.attempts, d.next_attempt_at) for d in held_back} == {(0, tried.next_attempt_at)}
