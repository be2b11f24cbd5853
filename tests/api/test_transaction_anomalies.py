"""``/api/v1/transaction-anomalies/``: the anomalies the services recorded, read-only, scoped to
the stations the user sees, filtered and paginated."""

from datetime import timedelta

import pytest
from django.utils import timezone

from stations.models import TransactionAnomaly
from stations.services import session_stop
from tests.factories import CompanyFactory, StationFactory, accepted_session

pytestmark = pytest.mark.django_db

URL = "/api/v1/transaction-anomalies/"


def ids(response) -> set[int]:
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


def unknown_stop(station, transaction_id: int = 4242):
    """A StopTransaction for a transaction nobody started: kept, and flagged."""
    assert (
        session_stop(
            station=station,
            transaction_id=transaction_id,
            meter_stop=1000,
            stopped_at=timezone.now(),
        )
        is None
    )
    return TransactionAnomaly.objects.get(station=station, transaction_id=transaction_id)


def duplicate_stop(company):
    session = accepted_session(company=company, started_at=timezone.now())
    for _ in range(2):
        session_stop(
            station=session.station,
            transaction_id=session.transaction_id,
            meter_stop=5000,
            stopped_at=timezone.now(),
        )
    return TransactionAnomaly.objects.get(session=session)


def test_an_anomaly_is_listed_with_what_the_station_sent(api):
    station = StationFactory(charge_point_id="CP-ODD")
    anomaly = unknown_stop(station)

    response = api.get(URL)

    assert response.status_code == 200
    [row] = response.json()["results"]
    assert row["id"] == anomaly.pk
    assert row["kind"] == "unknown_transaction"
    assert row["kind_label"] == "Message about a transaction nobody started"
    assert (row["station"], row["session"], row["transaction_id"]) == (station.pk, None, 4242)
    assert row["details"]["message"] == "StopTransaction"
    assert row["details"]["meter_stop"] == 1000
    assert row["occurrences"] == 1 and row["resolved_at"] is None


def test_filters_by_kind_station_session_and_resolved(api):
    company = CompanyFactory()
    unknown = unknown_stop(StationFactory(company=company))
    duplicate = duplicate_stop(company)
    resolved = unknown_stop(StationFactory(company=company), transaction_id=9)
    TransactionAnomaly.objects.filter(pk=resolved.pk).update(resolved_at=timezone.now())

    assert ids(api.get(URL, {"kind": "duplicate_stop"})) == {duplicate.pk}
    assert ids(api.get(URL, {"kind": "unknown_transaction"})) == {unknown.pk, resolved.pk}
    assert ids(api.get(URL, {"station": unknown.station_id})) == {unknown.pk}
    assert ids(api.get(URL, {"session": duplicate.session_id})) == {duplicate.pk}
    assert ids(api.get(URL, {"resolved": "true"})) == {resolved.pk}
    assert ids(api.get(URL, {"resolved": "false"})) == {unknown.pk, duplicate.pk}
    assert api.get(URL, {"kind": "no_such_kind"}).status_code == 400


def test_filters_by_date_last_seen(api):
    old = unknown_stop(StationFactory(), transaction_id=1)
    new = unknown_stop(StationFactory(), transaction_id=2)
    week_ago = timezone.now() - timedelta(days=7)
    TransactionAnomaly.objects.filter(pk=old.pk).update(last_seen_at=week_ago)
    boundary = (week_ago + timedelta(days=1)).isoformat()

    assert ids(api.get(URL, {"seen_after": boundary})) == {new.pk}
    assert ids(api.get(URL, {"seen_before": boundary})) == {old.pk}
    assert api.get(URL, {"seen_after": "yesterday"}).status_code == 400


def test_paginated_with_a_bounded_page_size(api):
    station = StationFactory()
    for transaction_id in range(3):
        unknown_stop(station, transaction_id=transaction_id + 100)

    first = api.get(URL, {"page_size": 2}).json()
    second = api.get(first["next"]).json()

    assert first["count"] == 3 and len(first["results"]) == 2
    assert len(second["results"]) == 1
    assert len(api.get(URL, {"page_size": 10_000}).json()["results"]) == 3
    assert api.get(URL, {"page": 99}).status_code == 404


def test_staff_see_their_stations_anomalies_only(staff_client):
    mine, theirs = CompanyFactory(), CompanyFactory()
    own = unknown_stop(StationFactory(company=mine))
    other = unknown_stop(StationFactory(company=theirs), transaction_id=5)
    client = staff_client("stations.view_transactionanomaly", company=mine)

    assert ids(client.get(URL)) == {own.pk}
    assert client.get(f"{URL}{other.pk}/").status_code == 404
    assert client.get(f"{URL}{own.pk}/").status_code == 200


def test_read_only_and_needs_the_view_permission(api, staff_client):
    anomaly = unknown_stop(StationFactory())
    assert api.post(URL, {"kind": "duplicate_stop"}).status_code == 405
    assert api.delete(f"{URL}{anomaly.pk}/").status_code == 405
    assert staff_client("stations.view_station").get(URL).status_code == 403


def test_documented_in_the_schema(api):
    schema = api.get("/api/v1/schema/", {"format": "json"}).json()
    parameters = {p["name"] for p in schema["paths"][URL]["get"]["parameters"]}
    assert {"kind", "station", "resolved", "seen_after", "seen_before", "page"} <= parameters
