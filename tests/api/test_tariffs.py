"""/api/v1/tariffs/ (tenancy-scoped CRUD with the model's validation), a session's cost on
/api/v1/sessions/, and /api/v1/personal-use-statements/."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from badges.models import BadgeUsage
from stations.models import Tariff
from stations.services import session_close_by_staff
from tests.factories import (
    AuthorizationGroupFactory,
    BadgeFactory,
    CompanyFactory,
    StationFactory,
    accepted_session,
)

pytestmark = pytest.mark.django_db

URL = "/api/v1/tariffs/"
MANAGE = ("stations.view_tariff", "stations.add_tariff", "stations.change_tariff")


def body(company, **fields) -> dict:
    return {
        "company": company.pk,
        "name": "Depot",
        "price_per_kwh": "0.2500",
        "session_fee": "1.00",
        "currency": "eur",
        "valid_from": "2026-01-01T00:00:00Z",
        **fields,
    }


def test_staff_create_and_list_their_companys_tariffs_only(staff_client):
    company, other = CompanyFactory(), CompanyFactory()
    Tariff.objects.create(
        company=other, price_per_kwh=Decimal("9"), valid_from=timezone.now() - timedelta(days=1)
    )
    client = staff_client(*MANAGE, company=company)

    created = client.post(URL, body(company), format="json")

    assert created.status_code == 201, created.content
    assert (created.json()["currency"], created.json()["scope"]) == ("EUR", "company")
    assert [row["company"] for row in client.get(URL).json()["results"]] == [company.pk]
    refused = client.post(URL, body(other), format="json")
    assert refused.status_code == 400 and "company" in refused.json()


def test_an_overlapping_tariff_is_a_400_with_the_reason(api):
    company = CompanyFactory()
    assert api.post(URL, body(company), format="json").status_code == 201

    response = api.post(URL, body(company, valid_from="2026-06-01T00:00:00Z"), format="json")

    assert response.status_code == 400
    assert "Another tariff of the same scope" in str(response.json())


def test_negative_prices_and_both_scopes_are_refused(api):
    company = CompanyFactory()
    station = StationFactory(company=company)
    group = AuthorizationGroupFactory(company=company)

    negative = api.post(URL, body(company, price_per_kwh="-0.1"), format="json")
    both = api.post(URL, body(company, group=group.pk, station=station.pk), format="json")

    assert (negative.status_code, both.status_code) == (400, 400)
    assert "price_per_kwh" in negative.json()
    assert "not both" in str(both.json())
    assert not Tariff.objects.exists()


def test_a_tariff_changed_over_the_api_keeps_past_costs(api, superuser):
    session = accepted_session(meter_start=0, started_at=timezone.now() - timedelta(hours=2))
    created = api.post(
        URL, body(session.company, valid_from="2020-01-01T00:00:00Z"), format="json"
    ).json()
    session_close_by_staff(session=session, user=superuser, reason="lost", energy_wh=10_000)

    changed = api.patch(f"{URL}{created['id']}/", {"price_per_kwh": "3"}, format="json")
    assert changed.status_code == 200

    shown = api.get(f"/api/v1/sessions/{session.pk}/").json()
    assert (shown["cost"], shown["cost_currency"]) == ("3.50", "EUR")  # 10 x 0.25 + 1.00
    assert (shown["tariff"], shown["tariff_price_per_kwh"]) == (created["id"], "0.2500")
    history = api.get(f"{URL}{created['id']}/history/")
    assert history.status_code == 200 and len(history.json()["results"]) == 2


def test_a_session_without_tariff_has_a_null_cost(api):
    session = accepted_session(meter_start=0, started_at=timezone.now() - timedelta(hours=2))

    shown = api.get("/api/v1/sessions/").json()["results"][0]

    assert shown["transaction_id"] == session.pk
    assert (shown["cost"], shown["cost_currency"]) == (None, "")


def test_the_personal_use_statement(api, superuser):
    badge = BadgeFactory(usage=BadgeUsage.PERSONAL)
    api.post(URL, body(badge.company, valid_from="2020-01-01T00:00:00Z"), format="json")
    started = timezone.now() - timedelta(hours=3)
    personal = accepted_session(
        company=badge.company,
        badge=badge,
        vehicle=badge.vehicle,
        station=StationFactory(company=badge.company),
        id_tag=badge.rfid,
        meter_start=0,
        started_at=started,
    )
    assert personal.usage == BadgeUsage.PERSONAL  # recorded from the badge
    session_close_by_staff(session=personal, user=superuser, reason="test", energy_wh=4_000)
    day = timezone.localdate(started)
    period = {"start": day.isoformat(), "end": timezone.localdate().isoformat()}

    response = api.get("/api/v1/personal-use-statements/", {"vehicle": badge.vehicle.pk, **period})

    assert response.status_code == 200, response.content
    data = response.json()
    assert (data["license_plate"], data["energy_wh"], data["costs"]) == (
        badge.vehicle.license_plate,
        4_000,
        {"EUR": "2.00"},
    )
    assert [row["transaction_id"] for row in data["sessions"]] == [personal.pk]


def test_the_statement_of_another_companys_vehicle_is_a_404(staff_client):
    badge = BadgeFactory(usage=BadgeUsage.PERSONAL)
    client = staff_client("stations.view_chargingsession", company=CompanyFactory())

    response = client.get(
        "/api/v1/personal-use-statements/",
        {"vehicle": badge.vehicle.pk, "start": "2026-01-01", "end": "2026-01-31"},
    )

    assert response.status_code == 404


def test_a_bad_statement_period_is_a_400(api):
    badge = BadgeFactory()
    response = api.get(
        "/api/v1/personal-use-statements/",
        {"vehicle": badge.vehicle.pk, "start": "2026-02-01", "end": "2026-01-01"},
    )
    assert response.status_code == 400
