"""*Stations → Transaction anomalies*: the anomalies the services recorded, filtered, searched,
in French too, never edited."""

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from fleet.models import StaffMembership
from stations.models import TransactionAnomaly
from stations.services import session_stop
from tests.factories import StationFactory

pytestmark = pytest.mark.django_db

CHANGELIST_URL = reverse("admin:stations_transactionanomaly_changelist")


def unknown_stop(station, transaction_id: int) -> TransactionAnomaly:
    session_stop(
        station=station, transaction_id=transaction_id, meter_stop=1, stopped_at=timezone.now()
    )
    return TransactionAnomaly.objects.get(station=station, transaction_id=transaction_id)


def listed(client, **query) -> set:
    response = client.get(CHANGELIST_URL, query)
    assert response.status_code == 200
    return set(response.context["cl"].result_list)


@pytest.fixture
def anomalies(station):
    other_station = StationFactory(charge_point_id="CP-ELSEWHERE")
    open_one = unknown_stop(station, 4242)
    resolved = unknown_stop(other_station, 17)
    TransactionAnomaly.objects.filter(pk=resolved.pk).update(resolved_at=timezone.now())
    resolved.refresh_from_db()
    return open_one, resolved


def test_listed_filtered_and_searched(english_client, anomalies, station):
    open_one, resolved = anomalies
    assert listed(english_client) == {open_one, resolved}
    assert listed(english_client, kind="unknown_transaction") == {open_one, resolved}
    assert listed(english_client, kind="duplicate_stop") == set()
    assert listed(english_client, resolved="yes") == {resolved}
    assert listed(english_client, resolved="no") == {open_one}
    assert listed(english_client, station__id__exact=station.pk) == {open_one}
    assert listed(english_client, q="CP-ELSEWHERE") == {resolved}
    assert listed(english_client, q="4242") == {open_one}
    assert listed(english_client, q="no such thing") == set()


def test_in_french_with_what_the_station_sent(french_client, anomalies):
    open_one, _ = anomalies
    changelist = french_client.get(CHANGELIST_URL).content.decode()
    assert "Anomalies de transaction" in changelist
    assert "Non résolues" in changelist
    page = french_client.get(
        reverse("admin:stations_transactionanomaly_change", args=[open_one.pk])
    ).content.decode()
    assert "ce que la borne a envoyé" in page.lower()
    assert "StopTransaction" in page and "4242" in page


def test_read_only(english_client, anomalies):
    open_one, _ = anomalies
    assert english_client.get(reverse("admin:stations_transactionanomaly_add")).status_code == 403
    delete = reverse("admin:stations_transactionanomaly_delete", args=[open_one.pk])
    assert english_client.post(delete, {"post": "yes"}).status_code == 403
    assert TransactionAnomaly.objects.filter(pk=open_one.pk).exists()


def test_staff_see_their_stations_anomalies_only(client, django_user_model, anomalies, company):
    # The other anomaly is at a station of another company.
    open_one, _ = anomalies
    user = django_user_model.objects.create_user(username="ops", password="x", is_staff=True)
    StaffMembership.objects.create(user=user, company=company)
    user.user_permissions.add(Permission.objects.get(codename="view_transactionanomaly"))
    client.force_login(user)
    assert listed(client) == {open_one}
