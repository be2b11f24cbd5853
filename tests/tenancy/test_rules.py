"""The rules themselves: every model of the project has one (or is deliberately superusers'
only), and what no rule names is denied."""

import pytest
from django.apps import apps
from django.contrib.auth.models import Permission
from rest_framework import mixins, serializers

from fleet.models import StaffMembership
from stations.models import AuthMethod, ChargingSession, MeterValue
from supervision import tenancy
from supervision.api import CompanyScopedSerializerMixin, CompanyScopedViewSetMixin
from supervision.urls import router
from tests.tenancy.conftest import make_staff

PROJECT_APPS = ["fleet", "badges", "stations", "ocpp_gateway"]
# Models with no rule on purpose: superusers only.
SUPERUSERS_ONLY = {
    "fleet.staffmembership",
    "badges.authorizationchange",  # the authorization caches' journal, never shown
    "ocpp_gateway.serverprocess",  # the server's own processes: no company's
    # The change history's tables: read only through their object, as scoped as it
    # (``supervision.history``), never listed on their own.
    "fleet.historicalcompany",
    "fleet.historicalvehicle",
    "fleet.historicalauthorizationgroup",
    "fleet.historicalauthorizationgroup_stations",
    "badges.historicalbadge",
    "badges.historicalbadge_groups",
    "stations.historicalstation",
    "stations.historicalautochargeprofile",
    "stations.historicalautochargesetting",
    "stations.historicaltariff",
}


def test_every_project_model_has_a_rule_or_is_deliberately_for_superusers_only():
    labels = {
        model._meta.label_lower
        for app in PROJECT_APPS
        for model in apps.get_app_config(app).get_models()
    }

    assert labels - set(tenancy.RULES) == SUPERUSERS_ONLY


def test_the_commands_to_stations_are_scoped_by_their_station_once_they_exist():
    assert "ocpp_gateway.command" in tenancy.RULES


@pytest.mark.django_db
def test_a_model_without_a_rule_is_denied_to_staff_and_open_to_superusers(alpha, admin_user):
    permissions = Permission.objects.all()

    assert not tenancy.scope(permissions, alpha.staff).exists()
    assert tenancy.scope(permissions, admin_user).count() == permissions.count()
    assert not tenancy.scope(StaffMembership.objects.all(), alpha.staff).exists()


@pytest.mark.django_db
def test_only_active_staff_users_with_a_membership_have_a_company(alpha):
    user = alpha.staff

    assert tenancy.company_of(user) == alpha.company
    user.is_staff = False
    assert tenancy.company_of(user) is None
    user.is_staff, user.is_active = True, False
    assert tenancy.company_of(user) is None
    assert tenancy.company_of(make_staff("nobody", None)) is None
    assert tenancy.company_of(None) is None


def test_every_api_endpoint_is_company_scoped_and_so_are_its_writable_relations():
    for _prefix, viewset, _basename in router.registry:
        assert issubclass(viewset, CompanyScopedViewSetMixin), viewset
        writes = issubclass(viewset, (mixins.CreateModelMixin, mixins.UpdateModelMixin))
        serializer_classes = {viewset.serializer_class} if writes else set()
        serializer_classes |= {
            action.kwargs["serializer_class"]
            for action in viewset.get_extra_actions()
            if "serializer_class" in action.kwargs
        }
        for serializer_class in serializer_classes - {None}:
            fields = serializer_class().get_fields().values()
            writable_relations = [
                field
                for field in fields
                if not field.read_only
                and isinstance(getattr(field, "child_relation", field), serializers.RelatedField)
            ]
            if writable_relations:
                assert issubclass(serializer_class, CompanyScopedSerializerMixin), serializer_class


@pytest.mark.django_db
def test_meter_values_follow_their_session_not_the_station(alpha, beta):
    visiting = ChargingSession.objects.create(
        station=alpha.station,
        connector_id=1,
        id_tag=beta.badge.rfid,
        company=beta.company,
        auth_method=AuthMethod.AUTOCHARGE,
        authorization_status="Accepted",
        authorization_reason="accepted",
        meter_start=0,
        started_at=alpha.session.started_at,
    )
    sample = MeterValue.objects.create(
        station=alpha.station, session=visiting, connector_id=1, timestamp=visiting.started_at
    )
    loose = MeterValue.objects.create(
        station=alpha.station, connector_id=1, timestamp=visiting.started_at
    )

    seen_by_alpha = set(tenancy.scope(MeterValue.objects.all(), alpha.staff))
    seen_by_beta = set(tenancy.scope(MeterValue.objects.all(), beta.staff))

    assert seen_by_alpha == {*alpha.session.meter_values.all(), loose}
    assert seen_by_beta == {*beta.session.meter_values.all(), sample}
