"""/api/v1/webhooks/: a company's webhooks, their delivery log and the test event, scoped to
the company."""

import pytest

from tests.factories import CompanyFactory, StationFactory
from webhooks import services
from webhooks.models import Webhook, WebhookDelivery

pytestmark = pytest.mark.django_db

URL = "/api/v1/webhooks/"
MANAGE = (
    "webhooks.view_webhook",
    "webhooks.add_webhook",
    "webhooks.change_webhook",
    "webhooks.delete_webhook",
    "webhooks.view_webhookdelivery",
)


def webhook_of(company, url="https://erp.example.com/hooks", events=("session.started",)):
    return services.webhook_save(webhook=Webhook(company=company, url=url, events=list(events)))


@pytest.fixture
def company():
    return CompanyFactory()


@pytest.fixture
def manager(staff_client, company):
    """A fleet manager of ``company`` holding the webhooks' permissions."""
    return staff_client(*MANAGE, company=company)


def test_a_manager_creates_a_webhook_and_reads_its_generated_secret(manager, company):
    response = manager.post(
        URL,
        {
            "company": company.pk,
            "url": "https://erp.example.com/hooks/autocharge",
            "events": ["session.started", "session.stopped", "vehicle.unknown"],
        },
        format="json",
    )

    assert response.status_code == 201, response.content
    body = response.json()
    webhook = Webhook.objects.get(pk=body["id"])
    assert len(webhook.secret) >= 32
    assert body["secret"] == webhook.secret
    assert body["events"] == ["session.started", "session.stopped", "vehicle.unknown"]
    assert (body["active"], webhook.created_by.username) == (True, "staff")
    assert manager.get(f"{URL}{webhook.pk}/").json()["secret"] == webhook.secret
    # The change is in the history, by whom and through the API; the secret is not.
    [created] = manager.get(f"{URL}{webhook.pk}/history/").json()["results"]
    assert (created["type"], created["source"], created["user"]) == ("created", "api", "staff")
    assert "secret" not in {change["field"] for change in created["changes"]}
    assert webhook.secret not in str(created)


def test_a_secret_given_is_kept(manager, company):
    response = manager.post(
        URL,
        {
            "company": company.pk,
            "url": "http://10.0.0.5/hook",
            "events": ["security.event"],
            "secret": "our-own-shared-secret",
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    assert Webhook.objects.get().secret == "our-own-shared-secret"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("url", "ftp://erp.example.com/hooks"),
        ("url", "file:///etc/passwd"),
        ("url", "not a url"),
        ("events", []),
        ("events", ["session.exploded"]),
        ("events", "session.started"),
    ],
)
def test_a_bad_url_or_event_list_is_refused_on_its_field(manager, company, field, value):
    body = {
        "company": company.pk,
        "url": "https://erp.example.com/h",
        "events": ["session.started"],
    }
    response = manager.post(URL, {**body, field: value}, format="json")

    assert response.status_code == 400
    assert set(response.json()) == {field}
    assert not Webhook.objects.exists()


def test_a_refusal_speaks_french_to_a_french_client(manager, company):
    response = manager.post(
        URL,
        {"company": company.pk, "url": "ftp://erp.example.com/", "events": ["session.started"]},
        format="json",
        HTTP_ACCEPT_LANGUAGE="fr",
    )
    assert response.status_code == 400
    assert response.json()["url"] == ["Saisissez une URL valide."]


def test_a_manager_sees_and_changes_only_their_company_s_webhooks(manager, company):
    own = webhook_of(company)
    other = webhook_of(CompanyFactory(), url="https://competitor.example.com/hooks")

    listed = manager.get(URL).json()
    assert [entry["id"] for entry in listed["results"]] == [own.pk]
    for method in ("get", "patch", "delete"):
        assert getattr(manager, method)(f"{URL}{other.pk}/").status_code == 404
    assert manager.post(f"{URL}{other.pk}/test/").status_code == 404
    assert manager.get(f"{URL}{other.pk}/deliveries/").status_code == 404
    # Nor may a webhook be pointed at another company.
    response = manager.post(
        URL,
        {
            "company": other.company_id,
            "url": "https://x.example.com/",
            "events": ["session.started"],
        },
        format="json",
    )
    assert response.status_code == 400
    assert set(response.json()) == {"company"}
    assert Webhook.objects.get(pk=other.pk).url == "https://competitor.example.com/hooks"

    changed = manager.patch(f"{URL}{own.pk}/", {"active": False}, format="json")
    assert changed.status_code == 200
    assert Webhook.objects.get(pk=own.pk).active is False
    assert manager.delete(f"{URL}{own.pk}/").status_code == 204
    assert Webhook.objects.filter(pk=other.pk).exists()


def test_staff_without_a_company_or_the_permission_see_nothing(staff_client, company):
    webhook_of(company)
    assert staff_client(*MANAGE, username="nobody").get(URL).json()["count"] == 0
    assert staff_client(company=company, username="clerk").get(URL).status_code == 403


def test_the_test_action_queues_a_webhook_test_event(manager, company):
    webhook = webhook_of(company)

    response = manager.post(f"{URL}{webhook.pk}/test/")

    assert response.status_code == 202
    delivery = WebhookDelivery.objects.get()
    assert response.json()["id"] == str(delivery.pk)
    assert (delivery.webhook, delivery.event_type, delivery.status) == (
        webhook,
        "webhook.test",
        "pending",
    )
    assert delivery.payload["type"] == "webhook.test"
    assert delivery.payload["data"]["webhook_id"] == webhook.pk


def test_the_test_action_needs_the_change_permission(staff_client, company):
    webhook = webhook_of(company)
    reader = staff_client("webhooks.view_webhook", company=company)
    assert reader.post(f"{URL}{webhook.pk}/test/").status_code == 403
    assert not WebhookDelivery.objects.exists()


def test_the_delivery_log_is_paginated_newest_first(manager, company, settings):
    webhook = webhook_of(company, events=["station.connected"])
    other = webhook_of(company, url="https://other.example.com/", events=["station.connected"])
    station = StationFactory(company=company)
    for _ in range(3):
        services.event_queue(
            company_id=station.company_id, event_type="station.connected", data={"n": 1}
        )

    response = manager.get(f"{URL}{webhook.pk}/deliveries/")
    assert response.status_code == 200
    body = response.json()
    assert (body["count"], body["next"]) == (3, None)
    assert set(body["results"][0]) == {
        "id",
        "event_id",
        "event_type",
        "status",
        "status_code",
        "attempts",
        "next_attempt_at",
        "last_error",
        "created_at",
        "delivered_at",
        "payload",
    }
    ids = {entry["id"] for entry in body["results"]}
    assert ids == {str(pk) for pk in webhook.deliveries.values_list("pk", flat=True)}
    assert not ids & {str(pk) for pk in other.deliveries.values_list("pk", flat=True)}
    created = [entry["created_at"] for entry in body["results"]]
    assert created == sorted(created, reverse=True)


def test_the_schema_documents_the_webhooks(api):
    schema = api.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    paths = schema["paths"]
    assert "/api/v1/webhooks/" in paths
    assert "post" in paths["/api/v1/webhooks/{id}/test/"]
    assert "get" in paths["/api/v1/webhooks/{id}/deliveries/"]
    events = schema["components"]["schemas"]["Webhook"]["properties"]["events"]
    assert events["type"] == "array"


def test_emptying_the_secret_replaces_it(manager, company):
    webhook = webhook_of(company)
    before = webhook.secret

    response = manager.patch(f"{URL}{webhook.pk}/", {"secret": ""}, format="json")

    assert response.status_code == 200
    webhook.refresh_from_db()
    assert response.json()["secret"] == webhook.secret
    assert len(webhook.secret) >= 32 and webhook.secret != before
