"""The client's address comes from X-Forwarded-For only when the socket's peer is a trusted
proxy (DJANGO_TRUSTED_PROXIES): a client reaching the portal directly cannot pick a new address
at each attempt to escape the login lockout, the API throttles or the station lockout."""

import base64
import itertools

import pytest
from django.test import RequestFactory

from ocpp_gateway.transport import handshake
from ocpp_gateway.transport.handshake_guard import HandshakeGuard
from supervision.security import client_address, client_ip
from tests.api.conftest import PASSWORD
from tests.supervision.test_security import admin_login, token_request

PROXY = "10.0.0.5"
spoofed = (f"203.0.113.{n}" for n in itertools.count(1))


@pytest.fixture
def proxies(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8", "::1"]


# --- The rule ------------------------------------------------------------------------------


def test_without_trusted_proxies_the_peer_is_the_client_whatever_the_header_says(settings):
    settings.TRUSTED_PROXIES = []

    assert client_address(forwarded_for="6.6.6.6", peer="127.0.0.1") == "127.0.0.1"
    assert client_address(forwarded_for="6.6.6.6", peer=PROXY) == PROXY


def test_from_a_trusted_proxy_the_client_is_the_right_most_untrusted_address(proxies):
    # The client wrote "6.6.6.6"; the outer proxy 10.1.1.1 appended 198.51.100.7, then the
    # inner one appended 10.1.1.1 before reaching the portal.
    chain = "6.6.6.6, 198.51.100.7, 10.1.1.1"

    assert client_address(forwarded_for=chain, peer=PROXY) == "198.51.100.7"
    assert client_address(forwarded_for=chain, peer="::1") == "198.51.100.7"
    assert client_address(forwarded_for=chain, peer="::ffff:10.0.0.9") == "198.51.100.7"
    assert client_address(forwarded_for="", peer=PROXY) == PROXY  # a request of the proxy's own


def test_a_header_from_anyone_else_is_ignored(proxies):
    assert client_address(forwarded_for="10.0.0.7, 6.6.6.6", peer="192.0.2.1") == "192.0.2.1"


def test_garbage_in_the_chain_stops_at_the_last_trusted_hop(proxies):
    assert client_address(forwarded_for="198.51.100.7, unknown", peer=PROXY) == PROXY
    assert client_address(forwarded_for="nonsense, 10.1.1.1", peer=PROXY) == "10.1.1.1"


def test_http_requests_read_the_socket_peer_and_the_header(proxies):
    through_proxy = RequestFactory().get(
        "/", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="6.6.6.6, 198.51.100.7"
    )
    direct = RequestFactory().get("/", REMOTE_ADDR="192.0.2.1", HTTP_X_FORWARDED_FOR="6.6.6.6")

    assert client_ip(through_proxy) == "198.51.100.7"
    assert client_ip(direct) == "192.0.2.1"


# --- Login lockout (django-axes) -------------------------------------------------------------


@pytest.mark.django_db
def test_a_spoofed_header_from_a_direct_client_does_not_escape_the_login_lockout(
    staff, lockout, proxies
):
    def attempt(password):
        return admin_login(password, address="192.0.2.1", HTTP_X_FORWARDED_FOR=next(spoofed))

    failures = [attempt("wrong")[1].status_code for _ in range(3)]

    assert failures == [200, 200, 429]
    assert attempt(PASSWORD)[1].status_code == 429


@pytest.mark.django_db
def test_through_a_trusted_proxy_each_client_has_its_own_lockout(staff, lockout, proxies):
    for _ in range(3):
        admin_login("wrong", address=PROXY, HTTP_X_FORWARDED_FOR="198.51.100.7")

    _client, guesser = admin_login(PASSWORD, address=PROXY, HTTP_X_FORWARDED_FOR="198.51.100.7")
    _client, other = admin_login(PASSWORD, address=PROXY, HTTP_X_FORWARDED_FOR="198.51.100.8")

    assert guesser.status_code == 429
    assert other.status_code == 302  # the proxy's other clients are not locked out with it


# --- API throttles --------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_spoofed_header_from_a_direct_client_does_not_escape_the_token_throttle(
    staff, rates, proxies
):
    rates(token="2/min")

    statuses = [
        token_request("wrong", HTTP_X_FORWARDED_FOR=next(spoofed)).status_code for _ in range(3)
    ]

    assert statuses == [400, 400, 429]


@pytest.mark.django_db
def test_through_a_trusted_proxy_each_client_has_its_own_token_count(staff, rates, proxies):
    rates(token="2/min")

    def through_proxy(client):
        return token_request("wrong", address=PROXY, HTTP_X_FORWARDED_FOR=client).status_code

    first = [through_proxy("198.51.100.7") for _ in range(3)]
    second = through_proxy("198.51.100.8")

    assert first == [400, 400, 429]
    assert second == 400


@pytest.mark.django_db
def test_the_anonymous_api_throttle_counts_the_peer_of_a_direct_client(client, rates, proxies):
    rates(anon="2/min")

    statuses = [
        client.get(
            "/api/v1/schema/", REMOTE_ADDR="192.0.2.1", HTTP_X_FORWARDED_FOR=next(spoofed)
        ).status_code
        for _ in range(3)
    ]

    assert statuses == [200, 200, 429]


# --- Station handshakes -----------------------------------------------------------------------


@pytest.fixture
def station_guard(settings, monkeypatch):
    """Passwords required, refusals answered at once, a lockout of its own, and the security
    event report left out (it is written seconds later, after the test)."""
    settings.OCPP_ALLOW_STATIONS_WITHOUT_PASSWORD = False
    settings.OCPP_AUTH_FAILURE_SECONDS = 0
    guard = HandshakeGuard(failures_allowed=3, lockout_seconds=60, max_lockout_seconds=60)
    monkeypatch.setattr(handshake, "guard", guard)
    monkeypatch.setattr(handshake, "_schedule_report", lambda: None)
    return guard


def handshake_scope(charge_point_id: str, *, peer: str, forwarded_for: str) -> dict:
    credentials = base64.b64encode(f"{charge_point_id}:wrong-password-0000".encode())
    return {
        "type": "websocket",
        "client": [peer, 40_000],
        "headers": [
            (b"authorization", b"Basic " + credentials),
            (b"x-forwarded-for", forwarded_for.encode()),
        ],
        "subprotocols": ["ocpp1.6"],
        "url_route": {"kwargs": {"charge_point_id": charge_point_id}},
    }


@pytest.mark.django_db(transaction=True)
async def test_a_spoofed_header_does_not_escape_the_station_lockout(station_guard, proxies):
    statuses = [
        (
            await handshake.admit(
                handshake_scope(f"CP-{n}", peer="192.0.2.1", forwarded_for=next(spoofed))
            )
        ).status
        for n in range(4)
    ]

    assert statuses == [401, 401, 401, 429]  # one address trying ids: locked for every id


@pytest.mark.django_db(transaction=True)
async def test_through_a_trusted_proxy_the_station_lockout_holds_the_forwarded_client(
    station_guard, proxies
):
    for n in range(3):
        await handshake.admit(handshake_scope(f"CP-{n}", peer=PROXY, forwarded_for="198.51.100.7"))

    def locked(address):
        return station_guard.retry_after(charge_point_id="CP-9", address=address, known_good=False)

    assert locked("198.51.100.7") > 0
    assert locked(PROXY) == 0  # the proxy's other stations still connect
