"""The webhooks' admin: the form with its events to tick, the delivery log with its filters,
the "send a test event" action, in French and English, scoped to the staff user's company."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.urls import reverse

from fleet.models import StaffMembership
from tests.factories import CompanyFactory
from webhooks import services
from webhooks.models import Webhook, WebhookDelivery

pytestmark = pytest.mark.django_db

ADD = reverse("admin:webhooks_webhook_add")
LIST = reverse("admin:webhooks_webhook_changelist")
LOG = reverse("admin:webhooks_webhookdelivery_changelist")


def webhook_of(company, url="https://erp.example.com/hooks"):
    return services.webhook_save(
        webhook=Webhook(company=company, url=url, events=["session.started", "vehicle.unknown"])
    )


def test_the_pages_speak_french(french_client, company):
    webhook = webhook_of(company)
    services.webhook_send_test(webhook=webhook)

    listing = french_client.get(LIST).content.decode()
    assert "Session démarrée, Véhicule inconnu refusé" in listing
    assert "Envoyer un événement de test" in listing
    add = french_client.get(ADD).content.decode()
    for label in ("Borne déconnectée", "Événement de sécurité", "Généré s’il est laissé vide"):
        assert label in add
    change = french_client.get(reverse("admin:webhooks_webhook_change", args=[webhook.pk]))
    assert change.status_code == 200
    assert webhook.secret in change.content.decode()  # its company reads it
    assert f"{LOG}?webhook__id__exact={webhook.pk}" in change.content.decode()
    log = french_client.get(LOG).content.decode()
    for label in ("Envois de webhooks", "Statut HTTP", "Prochain essai", "En attente"):
        assert label in log
    assert "webhook.test" in log


def test_the_pages_speak_english(english_client, company):
    webhook_of(company)
    listing = english_client.get(LIST).content.decode()
    assert "Session started, Unknown vehicle refused" in listing
    assert "Webhook deliveries" in english_client.get(LOG).content.decode()


def test_a_webhook_added_in_the_admin_gets_a_secret_and_its_author(admin_client, admin_user):
    company = CompanyFactory()
    response = admin_client.post(
        ADD,
        {
            "company": company.pk,
            "url": "https://erp.example.com/hooks",
            "events": ["session.started", "session.stopped"],
            "secret": "",
            "active": "on",
            "description": "ERP",
        },
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    webhook = Webhook.objects.get()
    assert webhook.events == ["session.started", "session.stopped"]
    assert len(webhook.secret) >= 32
    assert webhook.created_by == admin_user
    assert webhook.history.get().history_source == "admin"


def test_a_bad_url_or_no_event_is_refused_in_french(french_client, company):
    response = french_client.post(
        ADD, {"company": company.pk, "url": "ftp://erp.example.com/", "events": []}
    )

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert errors["url"] == ["Saisissez une URL valide."]
    assert errors["events"] == ["Ce champ est obligatoire."]
    assert not Webhook.objects.exists()


def test_the_send_test_event_action_queues_one_per_webhook(french_client, company):
    first, second = webhook_of(company), webhook_of(company, "https://b.example.com/")

    response = french_client.post(
        LIST,
        {"action": "send_test_event", "_selected_action": [first.pk, second.pk]},
        follow=True,
    )

    assert "Un événement de test a été mis en file pour 2 webhooks." in response.content.decode()
    assert sorted(WebhookDelivery.objects.values_list("webhook", "event_type")) == [
        (first.pk, "webhook.test"),
        (second.pk, "webhook.test"),
    ]


def test_the_delivery_log_filters_and_searches(admin_client, company):
    webhook = webhook_of(company)
    delivery = services.webhook_send_test(webhook=webhook)
    other = services.webhook_send_test(webhook=webhook_of(company, "https://b.example.com/"))
    WebhookDelivery.objects.filter(pk=other.pk).update(status="failed")

    def listed(**query):
        response = admin_client.get(LOG, query)
        assert response.status_code == 200
        return list(response.context["cl"].result_list)

    assert listed(status="pending") == [delivery]
    assert listed(status="failed") == [other]
    assert listed(webhook__id__exact=webhook.pk) == [delivery]
    assert listed(q=str(delivery.event_id)) == [delivery]
    assert admin_client.get(reverse("admin:webhooks_webhookdelivery_add")).status_code == 403


def test_staff_see_only_their_company_s_webhooks_and_deliveries(client, company):
    own = webhook_of(company)
    foreign = webhook_of(CompanyFactory(), "https://competitor.example.com/")
    services.webhook_send_test(webhook=own)
    services.webhook_send_test(webhook=foreign)
    user = get_user_model().objects.create_user("manager", password="x", is_staff=True)
    StaffMembership.objects.create(user=user, company=company)
    for codename in ("view_webhook", "change_webhook", "view_webhookdelivery"):
        user.user_permissions.add(Permission.objects.get(codename=codename))
    client.force_login(user)

    assert list(client.get(LIST).context["cl"].result_list) == [own]
    [delivery] = client.get(LOG).context["cl"].result_list
    assert delivery.webhook == own
    foreign_page = reverse("admin:webhooks_webhook_change", args=[foreign.pk])
    assert client.get(foreign_page).status_code == 302  # "doesn't exist": back to the index
    client.post(LIST, {"action": "send_test_event", "_selected_action": [foreign.pk]})
    assert foreign.deliveries.count() == 1


def test_staff_add_webhooks_for_their_company_only(client, company):
    other = CompanyFactory()
    user = get_user_model().objects.create_user("manager", password="x", is_staff=True)
    StaffMembership.objects.create(user=user, company=company)
    for codename in ("view_webhook", "add_webhook"):
        user.user_permissions.add(Permission.objects.get(codename=codename))
    client.force_login(user)
    form = {"url": "https://erp.example.com/hooks", "events": ["session.stopped"]}

    add_page = client.get(ADD)
    assert add_page.context["adminform"].form.fields["company"].initial == company.pk
    refused = client.post(ADD, {**form, "company": other.pk})
    assert "company" in refused.context["adminform"].form.errors
    assert client.post(ADD, {**form, "company": company.pk}).status_code == 302

    webhook = Webhook.objects.get()
    assert (webhook.company, webhook.created_by) == (company, user)
