"""The "My alerts" page, in English and French: a staff user's own subscriptions."""

import pytest
from django.test import Client
from django.urls import reverse

from alerts.models import AlertSubscription
from tests.alerts.conftest import make_staff


def test_my_alerts_lists_my_subscription_in_english(alpha, beta, alpha_client):
    page = alpha_client.get(reverse("alerts:mine"))

    assert page.status_code == 200
    html = page.content.decode()
    assert "<title>My alerts · Autocharge supervision</title>" in html
    assert 'aria-current="page">My alerts</a>' in html
    assert "Station offline for more than 15 minutes" in html
    assert "Daily digest" in html
    assert f'href="/alerts/{alpha.subscription.pk}/"' in html
    assert "Beta" not in html  # another user's subscription, of another company


def test_my_alerts_in_french(alpha, alpha_client):
    page = alpha_client.get(reverse("alerts:mine"), HTTP_ACCEPT_LANGUAGE="fr")

    html = page.content.decode()
    assert '<html lang="fr">' in html
    assert "<title>Mes alertes · " in html
    assert "Borne hors ligne depuis plus de 15 minutes" in html
    assert "Connecteur en défaut" in html
    assert "Synthèse quotidienne" in html
    assert "S’abonner aux alertes d’une entreprise" in html


def test_the_form_in_french_says_what_each_alert_is(alpha, alpha_client):
    page = alpha_client.get(
        reverse("alerts:subscription", args=[alpha.subscription.pk]), HTTP_ACCEPT_LANGUAGE="fr"
    )

    html = page.content.decode()
    assert "Alertes sur Alpha" in html
    assert "Hors ligne depuis (minutes)" in html
    assert "langue des e-mails" in html.lower()
    assert "Enregistrer" in html


def test_a_staff_user_subscribes_with_the_page_language_by_default(db):
    from tests.factories import CompanyFactory

    company = CompanyFactory(name="Gamma")
    user = make_staff("gamma", company)
    client = Client()
    client.force_login(user)

    form = client.get(reverse("alerts:subscription-add"), HTTP_ACCEPT_LANGUAGE="fr")
    assert 'value="fr" selected' in form.content.decode()
    answer = client.post(
        reverse("alerts:subscription-add"),
        {
            "company": company.pk,
            "station_offline": "on",
            "offline_minutes": "45",
            "unknown_vehicle": "on",
            "language": "fr",
            "active": "on",
        },
        HTTP_ACCEPT_LANGUAGE="fr",
    )

    assert answer.status_code == 302
    subscription = AlertSubscription.objects.get(user=user)
    assert (subscription.company, subscription.offline_minutes, subscription.language) == (
        company,
        45,
        "fr",
    )
    assert (subscription.connector_faulted, subscription.daily_digest) == (False, False)
    listing = client.get(reverse("alerts:mine"), HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "Vos alertes sont enregistrées." in listing


@pytest.mark.parametrize(
    ("minutes", "message"),
    [
        ("0", "Ensure this value is greater than or equal to 1."),
        ("99999", "Ensure this value is less than or equal to 10080."),
        ("soon", "Enter a whole number."),
    ],
)
def test_a_bad_delay_is_refused_with_a_message_and_changes_nothing(
    alpha, alpha_client, minutes, message
):
    answer = alpha_client.post(
        reverse("alerts:subscription", args=[alpha.subscription.pk]),
        {"offline_minutes": minutes, "language": "en", "active": "on"},
    )

    assert answer.status_code == 200
    assert message in answer.content.decode()
    alpha.subscription.refresh_from_db()
    assert alpha.subscription.offline_minutes == 15


def test_a_second_subscription_to_the_same_company_is_refused(alpha, alpha_client):
    answer = alpha_client.post(
        reverse("alerts:subscription-add"),
        {"company": alpha.company.pk, "offline_minutes": "15", "language": "en"},
    )

    assert answer.status_code == 200
    assert "You already have a subscription for this company." in answer.content.decode()
    assert AlertSubscription.objects.filter(user=alpha.staff).count() == 1


def test_a_company_user_cannot_subscribe_to_another_company(alpha, beta, alpha_client):
    answer = alpha_client.post(
        reverse("alerts:subscription-add"),
        {"company": beta.company.pk, "offline_minutes": "15", "language": "en"},
    )

    assert answer.status_code == 200
    assert "Select a valid choice." in answer.content.decode()
    assert not AlertSubscription.objects.filter(user=alpha.staff, company=beta.company).exists()


def test_another_user_s_subscription_is_not_found_nor_deleted(alpha, beta, alpha_client):
    url = reverse("alerts:subscription", args=[beta.subscription.pk])
    assert alpha_client.get(url).status_code == 404
    delete = reverse("alerts:subscription-delete", args=[beta.subscription.pk])
    assert alpha_client.post(delete).status_code == 404
    assert AlertSubscription.objects.filter(pk=beta.subscription.pk).exists()


def test_i_delete_my_subscription(alpha, alpha_client):
    answer = alpha_client.post(
        reverse("alerts:subscription-delete", args=[alpha.subscription.pk]), follow=True
    )

    assert "The subscription was deleted." in answer.content.decode()
    assert "You receive no alerts yet." in answer.content.decode()
    assert not AlertSubscription.objects.filter(pk=alpha.subscription.pk).exists()


def test_a_superuser_subscribes_to_any_company(alpha, beta):
    root = make_staff("root", None, superuser=True)
    client = Client()
    client.force_login(root)

    client.post(
        reverse("alerts:subscription-add"),
        {"company": beta.company.pk, "offline_minutes": "5", "language": "en", "active": "on"},
    )

    assert AlertSubscription.objects.get(user=root).company == beta.company


def test_only_signed_in_staff_see_the_page(alpha, django_user_model):
    assert Client().get(reverse("alerts:mine"))["Location"].startswith("/login/")
    visitor = django_user_model.objects.create_user("visitor", "v@example.com")
    client = Client()
    client.force_login(visitor)
    assert client.get(reverse("alerts:mine")).status_code == 403
