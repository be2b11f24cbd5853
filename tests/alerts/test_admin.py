"""The admin's subscriptions: superusers see everyone's, other staff their own."""

from django.test import Client

from alerts.models import AlertSubscription
from tests.alerts.conftest import make_staff

CHANGELIST = "/admin/alerts/alertsubscription/"


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_a_staff_user_sees_and_edits_only_their_own_subscription(alpha, beta):
    colleague = make_staff("alpha2", alpha.company)
    AlertSubscription.objects.create(user=colleague, company=alpha.company)
    client = signed_in(alpha.staff)

    page = client.get(CHANGELIST).content.decode()
    assert f"/admin/alerts/alertsubscription/{alpha.subscription.pk}/change/" in page
    assert "alpha2" not in page and "beta" not in page
    assert client.get(f"{CHANGELIST}{beta.subscription.pk}/change/").status_code == 302

    answer = client.post(
        f"{CHANGELIST}{alpha.subscription.pk}/change/",
        {
            "company": alpha.company.pk,
            "offline_minutes": "30",
            "language": "fr",
            "active": "on",
        },
    )
    assert answer.status_code == 302
    alpha.subscription.refresh_from_db()
    assert (alpha.subscription.offline_minutes, alpha.subscription.station_offline) == (30, False)
    history = client.get(f"{CHANGELIST}{alpha.subscription.pk}/history/").content.decode()
    assert "Offline for (minutes):</strong> 15 &rarr; 30" in history


def test_a_superuser_searches_and_filters_every_subscription(alpha, beta):
    client = signed_in(make_staff("root", None, superuser=True))

    page = client.get(CHANGELIST, {"q": "beta"}).content.decode()
    assert f"{beta.subscription.pk}/change/" in page
    assert f"{alpha.subscription.pk}/change/" not in page
    filtered = client.get(CHANGELIST, {"company__id__exact": alpha.company.pk}).content.decode()
    assert f"{alpha.subscription.pk}/change/" in filtered


def test_the_superuser_cannot_subscribe_a_staff_user_to_another_company(alpha, beta):
    client = signed_in(make_staff("root", None, superuser=True))

    answer = client.post(
        f"{CHANGELIST}add/",
        {
            "user": alpha.staff.pk,
            "company": beta.company.pk,
            "offline_minutes": "15",
            "language": "en",
        },
    )

    assert answer.status_code == 200
    assert "A staff user receives alerts about their own company only." in answer.content.decode()


def test_the_admin_pages_in_french(alpha):
    client = signed_in(alpha.staff)

    page = client.get(CHANGELIST, HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "abonnement aux alertes" in page.lower()
    change = client.get(
        f"{CHANGELIST}{alpha.subscription.pk}/change/", HTTP_ACCEPT_LANGUAGE="fr"
    ).content.decode()
    assert "Durée de déconnexion d’une borne avant l’alerte" in change
