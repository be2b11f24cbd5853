"""/api/v1/alert-subscriptions/: the requesting user's own subscriptions."""

from rest_framework.test import APIClient

from alerts.models import AlertSubscription

URL = "/api/v1/alert-subscriptions/"


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_a_user_lists_only_their_own_subscriptions(alpha, beta):
    answer = api(alpha.staff).get(URL)

    assert answer.status_code == 200
    assert [row["id"] for row in answer.json()["results"]] == [alpha.subscription.pk]
    row = answer.json()["results"][0]
    assert (row["company"], row["offline_minutes"], row["language"]) == (
        alpha.company.pk,
        15,
        "en",
    )
    assert "user" not in row


def test_a_user_changes_their_subscription_and_the_delay_is_validated(alpha):
    client = api(alpha.staff)
    url = f"{URL}{alpha.subscription.pk}/"

    refused = client.patch(url, {"offline_minutes": 0}, format="json")
    assert refused.status_code == 400
    assert "offline_minutes" in refused.json()

    changed = client.patch(url, {"offline_minutes": 60, "language": "fr"}, format="json")
    assert changed.status_code == 200
    alpha.subscription.refresh_from_db()
    assert (alpha.subscription.offline_minutes, alpha.subscription.language) == (60, "fr")
    # Recorded in the change history, as through the API, by the user.
    [latest, *_older] = client.get(f"{url}history/").json()["results"]
    assert (latest["source"], latest["user"]) == ("api", "alpha")
    changes = {change["field"]: (change["old"], change["new"]) for change in latest["changes"]}
    assert changes["offline_minutes"] == (15, 60)


def test_another_company_is_refused_and_another_user_s_subscription_is_a_404(alpha, beta):
    client = api(alpha.staff)

    other_company = client.post(URL, {"company": beta.company.pk}, format="json")
    assert other_company.status_code == 400
    assert "company" in other_company.json()
    assert client.get(f"{URL}{beta.subscription.pk}/").status_code == 404
    assert client.delete(f"{URL}{beta.subscription.pk}/").status_code == 404
    assert AlertSubscription.objects.filter(pk=beta.subscription.pk).exists()


def test_a_user_deletes_then_subscribes_again(alpha):
    client = api(alpha.staff)

    assert client.delete(f"{URL}{alpha.subscription.pk}/").status_code == 204
    created = client.post(
        URL, {"company": alpha.company.pk, "daily_digest": True, "language": "fr"}, format="json"
    )
    assert created.status_code == 201, created.json()
    subscription = AlertSubscription.objects.get(pk=created.json()["id"])
    assert (subscription.user, subscription.daily_digest, subscription.offline_minutes) == (
        alpha.staff,
        True,
        15,
    )
    again = client.post(URL, {"company": alpha.company.pk}, format="json")
    assert again.status_code == 400


def test_a_user_without_an_e_mail_address_is_told(alpha):
    alpha.subscription.delete()
    alpha.staff.email = ""
    alpha.staff.save()

    answer = api(alpha.staff).post(URL, {"company": alpha.company.pk}, format="json")

    assert answer.status_code == 400
    assert answer.json()["user"] == ["This user has no e-mail address."]


def test_the_schema_documents_the_endpoint(alpha):
    schema = api(alpha.staff).get("/api/v1/schema/", {"format": "json"}).json()

    assert "/api/v1/alert-subscriptions/" in schema["paths"]
