"""The live channel: /ws/portal/ through the project's ASGI routing, signed in by the session
cookie; events published by the services once committed, to the right company only."""

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client
from django.utils import timezone

from stations.enrolment import authorization_request
from stations.services import (
    PresentedToken,
    connector_update_status,
    station_connection_open,
    transaction_event_record,
)
from supervision.asgi import application
from tests.portal.conftest import make_fleet, make_staff

pytestmark = pytest.mark.django_db(transaction=True)

ORIGIN = (b"origin", b"http://127.0.0.1:8000")
HOST = (b"host", b"127.0.0.1:8000")  # the page's own: the origin check compares them
HOST = (b"host", b"127.0.0.1:8000")


def cookie_of(user) -> tuple[bytes, bytes]:
    client = Client()
    client.force_login(user)
    return b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode()


async def record_connection(station) -> None:
    await database_sync_to_async(station_connection_open)(
        station=station,
        connection_id=f"c-{station.pk}",
        server_process="test",
        protocol="1.6",
        remote_address=None,
        opened_at=timezone.now(),
    )


async def listen(
    *headers, host=HOST, peer: str = "192.0.2.10"
) -> tuple[WebsocketCommunicator, bool]:
    """The live channel opened from ``peer`` (the socket's address), with these headers."""

    async def from_peer(scope, receive, send):
        return await application({**scope, "client": [peer, 50_000]}, receive, send)

    communicator = WebsocketCommunicator(from_peer, "/ws/portal/", headers=[host, *headers])
    connected, _ = await communicator.connect()
    return communicator, connected


@pytest.fixture
def fleets(transactional_db):
    return make_fleet("Alpha", 1), make_fleet("Beta", 2)


async def test_staff_hear_their_companys_events_and_not_anothers(fleets):
    alpha, beta = fleets
    staff = await database_sync_to_async(make_staff)("alice", alpha.company)
    communicator, connected = await listen(ORIGIN, await database_sync_to_async(cookie_of)(staff))
    assert connected

    await record_connection(beta.station)
    await record_connection(alpha.station)
    await database_sync_to_async(connector_update_status)(
        station=alpha.station, connector_id=1, status="Charging"
    )

    assert await communicator.receive_json_from() == {
        "kind": "station_connected",
        "station": "CP-ALPHA",
    }
    assert await communicator.receive_json_from() == {
        "kind": "connector_status",
        "station": "CP-ALPHA",
        "connector_id": 1,
        "status": "Charging",
    }
    assert await communicator.receive_nothing()
    await communicator.disconnect()


async def test_superusers_hear_every_company_and_refusals_carry_their_reason(
    fleets, django_user_model
):
    alpha, _beta = fleets
    admin = await database_sync_to_async(django_user_model.objects.create_superuser)(
        "root", "", "x"
    )
    communicator, connected = await listen(ORIGIN, await database_sync_to_async(cookie_of)(admin))
    assert connected

    await database_sync_to_async(authorization_request)(
        id_tag="VID:A014310E0ABC", station=alpha.station
    )

    assert await communicator.receive_json_from() == {
        "kind": "vehicle_refused",
        "station": "CP-ALPHA",
        "id_tag": "VID:A014310E0ABC",
        "reason": "unknown_badge",
    }
    await communicator.disconnect()


async def test_an_ocpp_201_session_is_heard_once_its_token_is_accepted_and_when_it_ends(fleets):
    alpha, _beta = fleets
    staff = await database_sync_to_async(make_staff)("alice", alpha.company)
    communicator, connected = await listen(ORIGIN, await database_sync_to_async(cookie_of)(staff))
    assert connected
    event = database_sync_to_async(transaction_event_record)
    common = {"station": alpha.station, "station_transaction_id": "tx-9", "evse_id": 1}
    now = timezone.now()

    await event(**common, event="Started", seq_no=0, timestamp=now, trigger_reason="CablePluggedIn")
    assert await communicator.receive_nothing()  # no token yet: nobody is charging
    token = PresentedToken(id_tag=alpha.badge.rfid)
    await event(
        **common, event="Updated", seq_no=1, timestamp=now, trigger_reason="Authorized", token=token
    )
    started = await communicator.receive_json_from()
    await event(**common, event="Ended", seq_no=2, timestamp=now, trigger_reason="EVDeparted")
    stopped = await communicator.receive_json_from()

    assert (started["kind"], started["vehicle"]) == ("session_started", "ALPHA-1")
    assert (stopped["kind"], stopped["transaction_id"]) == (
        "session_stopped",
        started["transaction_id"],
    )
    await communicator.disconnect()


async def test_the_live_channel_refuses_anonymous_visitors(fleets):
    _communicator, connected = await listen(ORIGIN)

    assert not connected


async def test_the_live_channel_refuses_a_page_of_another_site(fleets):
    alpha, _beta = fleets
    staff = await database_sync_to_async(make_staff)("alice", alpha.company)
    cookie = await database_sync_to_async(cookie_of)(staff)

    _communicator, connected = await listen((b"origin", b"https://evil.example"), cookie)

    assert not connected


@pytest.fixture
async def staff_cookie(fleets):
    alpha, _beta = fleets
    staff = await database_sync_to_async(make_staff)("alice", alpha.company)
    return await database_sync_to_async(cookie_of)(staff)


@pytest.mark.parametrize(
    "origin",
    [
        "https://127.0.0.1:8000",  # another scheme
        "http://127.0.0.1:8001",  # another port: another service on the same host name
        "http://127.0.0.1",
        "http://localhost:8000",  # an allowed host, but not the one the page came from
        "null",
    ],
)
async def test_the_live_channel_refuses_the_same_host_name_with_another_scheme_or_port(
    staff_cookie, origin
):
    _communicator, connected = await listen((b"origin", origin.encode()), staff_cookie)

    assert not connected


async def test_the_live_channel_refuses_a_host_the_portal_does_not_serve(staff_cookie):
    """A rebinding page: its own name for the portal's address, Origin and Host alike."""
    _communicator, connected = await listen(
        (b"origin", b"http://rebind.example:8000"),
        staff_cookie,
        host=(b"host", b"rebind.example:8000"),
    )

    assert not connected


async def test_behind_a_trusted_proxy_the_origin_is_https_as_the_proxy_says(staff_cookie, settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    settings.ALLOWED_HOSTS = ["supervision.example.com"]
    host = (b"host", b"supervision.example.com")
    https = (b"x-forwarded-proto", b"https")
    page = (b"origin", b"https://supervision.example.com")

    through_proxy, connected = await listen(page, https, staff_cookie, host=host, peer="10.0.0.2")
    _c, plain_page = await listen(
        (b"origin", b"http://supervision.example.com"),
        https,
        staff_cookie,
        host=host,
        peer="10.0.0.2",
    )
    # A client reaching the portal directly cannot claim HTTPS for itself.
    _c, direct = await listen(page, https, staff_cookie, host=host, peer="203.0.113.9")

    assert connected
    assert not plain_page
    assert not direct
    await through_proxy.disconnect()


async def test_a_csrf_trusted_origin_may_open_the_live_channel(staff_cookie, settings):
    settings.CSRF_TRUSTED_ORIGINS = ["https://*.example.com", "https://portal.example.net"]
    for origin, expected in [
        (b"https://ops.example.com", True),
        (b"https://portal.example.net", True),
        (b"http://ops.example.com", False),
        (b"https://portal.example.net:8443", False),
    ]:
        communicator, connected = await listen((b"origin", origin), staff_cookie)
        assert connected is expected, origin
        if connected:
            await communicator.disconnect()
