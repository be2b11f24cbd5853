"""The tariff admin: list, filters, search, the add form's validation in French, history; and
the cost column of the session list."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from stations import tariffs
from stations.models import Tariff
from tests.factories import AuthorizationGroupFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def tariff(company):
    return tariffs.tariff_save(
        tariff=Tariff(
            company=company,
            name="Depot night",
            price_per_kwh=Decimal("0.1800"),
            valid_from=timezone.now() - timedelta(days=10),
        )
    )


def form_data(company, **fields) -> dict:
    now = timezone.localtime()
    return {
        "company": company.pk,
        "name": "Second",
        "group": "",
        "station": "",
        "price_per_kwh": "0.30",
        "session_fee": "0",
        "currency": "EUR",
        "valid_from_0": now.date().isoformat(),
        "valid_from_1": "00:00:00",
        "valid_until_0": "",
        "valid_until_1": "",
        **fields,
    }


def test_the_list_filters_and_searches_in_both_languages(any_language_client, tariff):
    url = reverse("admin:stations_tariff_changelist")

    page = any_language_client.get(url)
    assert page.status_code == 200
    title = "Tarifs" if any_language_client.language == "fr" else "Tariffs"
    assert title in page.content.decode()
    assert list(page.context["cl"].result_list) == [tariff]

    for query in ({"scope": "company"}, {"validity": "now"}, {"q": "night"}):
        assert list(any_language_client.get(url, query).context["cl"].result_list) == [tariff]
    for query in ({"scope": "station"}, {"validity": "ended"}, {"q": "nothing"}):
        assert list(any_language_client.get(url, query).context["cl"].result_list) == []


def test_an_overlapping_tariff_is_refused_in_french(french_client, company, tariff):
    response = french_client.post(reverse("admin:stations_tariff_add"), form_data(company))

    assert response.status_code == 200
    assert "Un autre tarif de même portée" in response.content.decode()
    assert Tariff.objects.count() == 1


def test_a_group_tariff_is_added_and_its_history_kept(english_client, company, tariff):
    group = AuthorizationGroupFactory(company=company)

    response = english_client.post(
        reverse("admin:stations_tariff_add"), form_data(company, group=group.pk)
    )

    assert response.status_code == 302, response.content.decode()
    added = Tariff.objects.get(group=group)
    assert (added.price_per_kwh, added.scope) == (Decimal("0.3000"), "group")
    history = english_client.get(reverse("admin:stations_tariff_history", args=[added.pk]))
    assert history.status_code == 200


def test_the_session_list_shows_the_kept_cost(english_client, charging_session):
    charging_session.cost, charging_session.cost_currency = Decimal("4.20"), "EUR"
    charging_session.save(update_fields=["cost", "cost_currency"])

    page = english_client.get(reverse("admin:stations_chargingsession_changelist"))

    assert "4.20 EUR" in page.content.decode()
