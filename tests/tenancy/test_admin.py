"""Company isolation in the admin: lists, pages by id, forms' choices, autocomplete, list filters
and actions show and accept only the staff user's company's records."""

import json

import pytest
from django.contrib import admin
from django.urls import reverse

from badges.models import Badge, PairingWindow
from fleet.models import Vehicle
from stations.enrolment import authorization_request
from supervision.admin import CompanyScopedAdminMixin
from tests.tenancy.conftest import admin_client_of

pytestmark = pytest.mark.django_db

# app label, model name, the record of a tenant the admin shows
RESOURCES = [
    ("fleet", "company", "company"),
    ("fleet", "vehicle", "vehicle"),
    ("fleet", "authorizationgroup", "group"),
    ("badges", "badge", "badge"),
    ("stations", "station", "station"),
    ("stations", "chargingsession", "session"),
    ("ocpp_gateway", "ocppmessage", "message"),
    ("badges", "unknownvehicle", "unknown_vehicle"),
    ("badges", "pairingwindow", "pairing"),
    ("stations", "securityevent", "security_event"),
]
EDITABLE = [r for r in RESOURCES if r[1] in {"company", "vehicle", "authorizationgroup", "badge"}]
EDITABLE.append(("stations", "station", "station"))


def admin_url(app: str, model: str, view: str, *args) -> str:
    return reverse(f"admin:{app}_{model}_{view}", args=args)


def beta_mentioned(content: str, beta) -> list[str]:
    names = [beta.company.name, beta.station.charge_point_id, beta.vehicle.license_plate]
    return [name for name in names if name in content]


# One test per behaviour, one subtest per model: the two companies are built once per test.


def test_a_changelist_shows_only_the_staff_user_company_records(tenants, alpha_admin, subtests):
    alpha, beta = tenants
    for app, model, kind in RESOURCES:
        with subtests.test(model=model):
            response = alpha_admin.get(admin_url(app, model, "changelist"))

            assert response.status_code == 200
            assert list(response.context["cl"].result_list) == [alpha.record(kind)]
            # Nor in the list filters' choices.
            assert beta_mentioned(response.content.decode(), beta) == []


def test_another_company_record_pages_redirect_as_if_it_did_not_exist(
    tenants, alpha_admin, subtests
):
    alpha, beta = tenants
    for app, model, kind in RESOURCES:
        with subtests.test(model=model):
            pk = beta.record(kind).pk

            own = alpha_admin.get(admin_url(app, model, "change", alpha.record(kind).pk))
            change = alpha_admin.get(admin_url(app, model, "change", pk))
            history = alpha_admin.get(admin_url(app, model, "history", pk))

            assert own.status_code == 200
            assert change.status_code == history.status_code == 302
            assert change.url == reverse("admin:index")


def test_another_company_record_cannot_be_changed_nor_deleted(tenants, alpha_admin, subtests):
    _alpha, beta = tenants
    for app, model, kind in EDITABLE:
        with subtests.test(model=model):
            record = beta.record(kind)
            before = type(record).objects.filter(pk=record.pk).values().get()

            changed = alpha_admin.post(admin_url(app, model, "change", record.pk), {"name": "x"})
            deleted = alpha_admin.post(admin_url(app, model, "delete", record.pk), {"post": "yes"})
            deleted_by_action = alpha_admin.post(
                admin_url(app, model, "changelist"),
                {"action": "delete_selected", "_selected_action": [record.pk], "post": "yes"},
            )

            assert changed.status_code == deleted.status_code == 302
            assert deleted_by_action.status_code == 302
            assert type(record).objects.filter(pk=record.pk).values().get() == before


def test_a_superuser_sees_every_company(tenants, admin_client, subtests):
    alpha, beta = tenants
    for app, model, kind in RESOURCES:
        with subtests.test(model=model):
            response = admin_client.get(admin_url(app, model, "changelist"))

            shown = set(response.context["cl"].result_list)
            assert shown == {alpha.record(kind), beta.record(kind)}


def test_a_staff_user_without_a_company_sees_nothing(tenants, homeless_staff, subtests):
    client = admin_client_of(homeless_staff)

    assert client.get(reverse("admin:index")).context["app_list"] == []
    for app, model, _kind in RESOURCES:
        with subtests.test(model=model):
            assert client.get(admin_url(app, model, "changelist")).status_code == 403


# --- Forms offer only the company's records ------------------------------------------------

# app label, model name, field, the records of a tenant it may choose
CHOICES = [
    ("fleet", "vehicle", "company", ["company"]),
    ("fleet", "authorizationgroup", "company", ["company"]),
    ("fleet", "authorizationgroup", "stations", ["station"]),
    ("badges", "badge", "company", ["company"]),
    ("badges", "badge", "provider", ["company"]),
    ("badges", "badge", "vehicle", ["vehicle"]),
    ("badges", "badge", "groups", ["group"]),
    ("stations", "station", "company", ["company"]),
]


def test_an_add_form_offers_only_the_company_records(tenants, alpha_admin, subtests):
    alpha, _beta = tenants
    for app, model, field, kinds in CHOICES:
        with subtests.test(model=model, field=field):
            response = alpha_admin.get(admin_url(app, model, "add"))

            form_field = response.context["adminform"].form.fields[field]
            assert list(form_field.queryset) == [alpha.record(kind) for kind in kinds]


def test_company_fields_start_at_the_staff_user_company(tenants, alpha_admin):
    response = alpha_admin.get(admin_url("fleet", "vehicle", "add"))

    assert response.context["adminform"].form["company"].value() == tenants[0].company.pk


def test_a_vehicle_cannot_be_added_to_another_company(tenants, alpha_admin):
    response = alpha_admin.post(
        admin_url("fleet", "vehicle", "add"),
        {"company": tenants[1].company.pk, "license_plate": "NEW-1", "active": "on"},
    )

    assert response.status_code == 200
    assert "company" in response.context["adminform"].form.errors
    assert not Vehicle.objects.filter(license_plate="NEW-1").exists()


def test_a_badge_cannot_be_pointed_at_another_company_vehicle(tenants, alpha_admin):
    alpha, beta = tenants
    badge = alpha.badge

    response = alpha_admin.post(
        admin_url("badges", "badge", "change", badge.pk),
        {
            "rfid": badge.rfid,
            "type": badge.type,
            "state": badge.state,
            "usage": badge.usage,
            "mode": badge.mode,
            "company": alpha.company.pk,
            "vehicle": beta.vehicle.pk,
        },
    )

    assert response.status_code == 200
    assert "vehicle" in response.context["adminform"].form.errors
    badge.refresh_from_db()
    assert badge.vehicle == alpha.vehicle


def test_a_partner_station_a_superuser_linked_is_kept_when_the_group_is_saved(tenants, alpha_admin):
    alpha, beta = tenants
    alpha.group.stations.add(beta.station)
    url = admin_url("fleet", "authorizationgroup", "change", alpha.group.pk)

    offered = alpha_admin.get(url).context["adminform"].form.fields["stations"].queryset
    saved = alpha_admin.post(
        url,
        {
            "name": "Renamed",
            "company": alpha.company.pk,
            "stations": [alpha.station.pk, beta.station.pk],
        },
    )

    assert set(offered) == {alpha.station, beta.station}
    assert saved.status_code == 302
    alpha.group.refresh_from_db()
    assert alpha.group.name == "Renamed"
    assert set(alpha.group.stations.all()) == {alpha.station, beta.station}


def test_only_a_superuser_adds_a_company(tenants, alpha_admin, admin_client):
    url = admin_url("fleet", "company", "add")

    assert alpha_admin.get(url).status_code == 403
    assert admin_client.get(url).status_code == 200


def test_only_a_superuser_changes_the_shared_mac_models(tenants, alpha_admin):
    url = admin_url("badges", "sharedmacmodel", "changelist")

    response = alpha_admin.get(url)

    assert response.status_code == 200
    assert response.context["cl"].result_count > 0
    assert not response.context["has_add_permission"]
    assert response.context["cl"].formset is None  # list_editable needs the change right


# --- Autocomplete --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("app", "model", "field", "kind"),
    [
        ("badges", "badge", "vehicle", "vehicle"),
        ("badges", "badge", "company", "company"),
        ("fleet", "vehicle", "company", "company"),
        ("stations", "station", "company", "company"),
    ],
)
def test_autocomplete_offers_only_the_company_records(
    tenants, alpha_admin, admin_client, app, model, field, kind
):
    alpha, beta = tenants
    query = {"app_label": app, "model_name": model, "field_name": field, "term": ""}

    def ids(client) -> set[str]:
        response = client.get(reverse("admin:autocomplete"), query)
        return {result["id"] for result in json.loads(response.content)["results"]}

    assert ids(alpha_admin) == {str(alpha.record(kind).pk)}
    assert ids(admin_client) == {str(alpha.record(kind).pk), str(beta.record(kind).pk)}


# --- Actions -------------------------------------------------------------------------------


def test_an_action_on_another_company_record_does_nothing(tenants, alpha_admin):
    alpha, beta = tenants
    beta.pairing.delete()

    response = alpha_admin.post(
        admin_url("stations", "station", "changelist"),
        {
            "action": "arm_for_pairing",
            "_selected_action": [beta.station.pk],
            "confirm": "yes",
            "vehicle": alpha.vehicle.pk,
            "minutes": 5,
        },
    )

    assert response.status_code == 302
    assert not PairingWindow.objects.filter(station=beta.station).exists()


def test_pairing_a_vehicle_offers_only_the_company_stations(tenants, alpha_admin):
    alpha, beta = tenants
    alpha.group.stations.add(beta.station)  # Alpha's vehicles may charge at Beta's station

    response = alpha_admin.post(
        admin_url("fleet", "vehicle", "changelist"),
        {"action": "pair_at_station", "_selected_action": [alpha.vehicle.pk]},
    )

    assert list(response.context["form"].fields["station"].queryset) == [alpha.station]


def test_a_station_cannot_be_armed_for_another_company_vehicle(tenants, alpha_admin):
    alpha, beta = tenants
    alpha.pairing.delete()

    response = alpha_admin.post(
        admin_url("stations", "station", "changelist"),
        {
            "action": "arm_for_pairing",
            "_selected_action": [alpha.station.pk],
            "confirm": "yes",
            "vehicle": beta.vehicle.pk,
            "minutes": 5,
        },
    )

    assert response.status_code == 200
    assert "vehicle" in response.context["form"].errors
    assert not PairingWindow.objects.filter(station=alpha.station).exists()


def test_an_inbox_entry_cannot_be_enrolled_into_another_company_vehicle(tenants, alpha_admin):
    alpha, beta = tenants
    entry = alpha.unknown_vehicle

    response = alpha_admin.post(
        admin_url("badges", "unknownvehicle", "changelist"),
        {
            "action": "enrol_into_vehicle",
            "_selected_action": [entry.pk],
            "confirm": "yes",
            "vehicle": beta.vehicle.pk,
        },
    )

    assert response.status_code == 200
    assert "vehicle" in response.context["form"].errors
    assert not Badge.objects.filter(rfid=entry.id_tag).exists()


def test_an_inbox_entry_page_tells_only_the_sightings_at_the_user_stations(tenants, alpha_admin):
    alpha, beta = tenants
    beta.pairing.delete()  # an armed station would pair the MAC instead
    authorization_request(id_tag=alpha.unknown_vehicle.id_tag, station=beta.station)

    response = alpha_admin.get(
        admin_url("badges", "unknownvehicle", "change", alpha.unknown_vehicle.pk)
    )

    content = response.content.decode()
    assert alpha.station.charge_point_id in content
    assert beta_mentioned(content, beta) == []


# --- Accounts, tokens and login attempts are superusers' business ----------------------------

ACCOUNT_PAGES = [
    ("auth", "user"),
    ("auth", "group"),
    ("authtoken", "tokenproxy"),
    ("axes", "accessattempt"),
]


@pytest.mark.parametrize(("app", "model"), ACCOUNT_PAGES)
def test_accounts_tokens_and_login_attempts_are_for_superusers_only(
    tenants, alpha_admin, admin_client, app, model
):
    url = admin_url(app, model, "changelist")

    assert alpha_admin.get(url).status_code == 403
    assert admin_client.get(url).status_code == 200


def test_the_user_list_shows_each_staff_user_company_and_the_page_edits_it(tenants, admin_client):
    alpha, _beta = tenants

    listing = admin_client.get(admin_url("auth", "user", "changelist")).content.decode()
    page = admin_client.get(admin_url("auth", "user", "change", alpha.staff.pk))

    assert "Alpha" in listing
    assert "staff_membership-0-company" in page.content.decode()


def test_every_admin_and_inline_is_company_scoped():
    for model_admin in admin.site._registry.values():
        assert isinstance(model_admin, CompanyScopedAdminMixin), model_admin
        for inline in model_admin.inlines:
            assert issubclass(inline, CompanyScopedAdminMixin), inline
