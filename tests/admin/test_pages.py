"""Every admin page renders, in English and in French (the browser's language)."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db

# app label, model name, plural title in English and French
MODELS = [
    ("fleet", "company", "Companies", "Entreprises"),
    ("fleet", "vehicle", "Vehicles", "Véhicules"),
    ("fleet", "authorizationgroup", "Authorization groups", "Groupes d’autorisations"),
    ("badges", "badge", "Badges", "Badges"),
    ("stations", "station", "Stations", "Bornes"),
    ("stations", "chargingsession", "Charging sessions", "Sessions de recharge"),
    ("ocpp_gateway", "ocppmessage", "OCPP messages", "Messages OCPP"),
    ("ocpp_gateway", "command", "Commands", "Commandes"),
    ("stations", "autochargeprofile", "Autocharge profiles", "Profils Autocharge"),
]
EDITABLE = {"company", "vehicle", "authorizationgroup", "badge", "station", "autochargeprofile"}
READ_ONLY = {"chargingsession", "ocppmessage", "command"}


def title(client, english, french):
    return french if client.language == "fr" else english


def test_the_admin_index_lists_every_model_in_the_browser_language(any_language_client):
    response = any_language_client.get(reverse("admin:index"))

    assert response.status_code == 200
    content = response.content.decode()
    for _app, _model, english, french in MODELS:
        assert title(any_language_client, english, french) in content
    expected_header = title(any_language_client, "Autocharge supervision", "Supervision Autocharge")
    assert expected_header in content


@pytest.mark.parametrize(("app", "model", "english", "french"), MODELS)
def test_every_changelist_renders_its_records_in_both_languages(
    any_language_client, every_record, app, model, english, french
):
    response = any_language_client.get(reverse(f"admin:{app}_{model}_changelist"))

    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == [every_record[model]]
    content = response.content.decode()
    assert title(any_language_client, english, french) in content
    change_url = reverse(f"admin:{app}_{model}_change", args=[every_record[model].pk])
    assert change_url in content


@pytest.mark.parametrize(("app", "model", "english", "french"), MODELS)
def test_every_change_page_renders_its_record_in_both_languages(
    any_language_client, every_record, app, model, english, french
):
    record = every_record[model]

    response = any_language_client.get(reverse(f"admin:{app}_{model}_change", args=[record.pk]))

    assert response.status_code == 200
    assert response.context["original"] == record
    assert str(record) in response.content.decode()


@pytest.mark.parametrize(
    ("app", "model", "english", "french"), [m for m in MODELS if m[1] in EDITABLE]
)
def test_every_editable_model_has_an_add_page_in_both_languages(
    any_language_client, app, model, english, french
):
    response = any_language_client.get(reverse(f"admin:{app}_{model}_add"))

    assert response.status_code == 200
    assert response.context["add"] is True
    assert response.context["adminform"].form.is_bound is False


@pytest.mark.parametrize(
    ("app", "model", "english", "french"), [m for m in MODELS if m[1] in READ_ONLY]
)
def test_records_only_stations_write_have_no_add_page(
    any_language_client, app, model, english, french
):
    response = any_language_client.get(reverse(f"admin:{app}_{model}_add"))

    assert response.status_code == 403


BADGE_FORM_ENGLISH = [
    "RFID",
    "Visual badge number",
    "Type",
    "State",
    "Provider",
    "Description",
    "Attribution and usage",
    "Usage",
    "Mode",
    "Company",
    "Vehicle",
    "Groups",
    "Physical",
    "Enabled",
    "Professional",
    "Vehicle – badge attributed to one vehicle only",
]
BADGE_FORM_FRENCH = [
    "RFID",
    "N° Badge visuel",
    "Type",
    "État",
    "Fournisseur",
    "Description",
    "Attribution et utilisation",
    "Usage",
    "Mode",
    "Entreprise",
    "Véhicule",
    "Groupes",
    "Physique",
    "Virtuel",
    "Activé",
    "Désactivé",
    "Professionnel",
    "Personnel",
    "Véhicule – Badge attribué uniquement à un véhicule",
]


def test_the_badge_form_speaks_the_seed_s_french(french_client):
    response = french_client.get(reverse("admin:badges_badge_add"))

    content = response.content.decode()
    for wording in BADGE_FORM_FRENCH:
        assert wording in content, wording
    assert "Ajout de badge" in content  # Django's own title for an add page
    assert "Visual badge number" not in content
    assert "Attribution and usage" not in content


def test_the_badge_form_speaks_english_to_an_english_browser(english_client):
    response = english_client.get(reverse("admin:badges_badge_add"))

    content = response.content.decode()
    for wording in BADGE_FORM_ENGLISH:
        assert wording in content, wording
    assert "N° Badge visuel" not in content
    assert "Attribution et utilisation" not in content


def test_the_badge_list_filters_are_translated(french_client, every_record):
    response = french_client.get(reverse("admin:badges_badge_changelist"))

    content = response.content.decode()
    for wording in ["Par état", "Par type", "Par Autocharge", "Autocharge (VID:)", "Cartes RFID"]:
        assert wording in content, wording


def test_a_form_error_is_shown_in_french_to_a_french_browser(french_client, company):
    response = french_client.post(
        reverse("admin:badges_badge_add"),
        {
            "rfid": "VID:000000000000",
            "type": "physical",
            "state": "enabled",
            "usage": "professional",
            "mode": "company",
            "company": company.pk,
        },
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["rfid"] == [
        "000000000000 est une adresse par défaut, envoyée par les véhicules qui n’en ont pas."
    ]


def test_the_badge_list_offers_the_seed_s_add_a_badge_button(french_client):
    url = reverse("admin:badges_badge_changelist")
    assert "Ajouter un badge" in french_client.get(url).content.decode()


def test_the_badge_list_offers_add_a_badge_in_english(english_client):
    url = reverse("admin:badges_badge_changelist")
    assert "Add a badge" in english_client.get(url).content.decode()
