from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView
from rest_framework.routers import DefaultRouter

from alerts.api.views import AlertSubscriptionViewSet
from badges.api.views import BadgeViewSet, PairingWindowViewSet, SharedMacModelViewSet
from fleet.api.views import AuthorizationGroupViewSet, CompanyViewSet, VehicleViewSet
from ocpp_gateway.api.maintenance import FirmwareCampaignViewSet, LogRequestViewSet
from ocpp_gateway.api.reservations import ReservationViewSet
from ocpp_gateway.api.views import CommandViewSet, OcppMessageViewSet, OperatedStationViewSet
from ocpp_gateway.views import log_upload
from stations.api.anomalies import TransactionAnomalyViewSet
from stations.api.sites import SiteViewSet
from stations.api.tariffs import PersonalUseStatementViewSet, TariffViewSet
from stations.api.views import (
    AutochargeProfileViewSet,
    AutochargeSettingViewSet,
    ChargingSessionViewSet,
    SecurityEventViewSet,
    UnknownVehicleViewSet,
)
from supervision.api import ObtainStaffToken
from supervision.api_docs import Redoc, SwaggerUi
from webhooks.api.views import WebhookViewSet

router = DefaultRouter()
router.register("companies", CompanyViewSet)
router.register("vehicles", VehicleViewSet)
router.register("groups", AuthorizationGroupViewSet)
router.register("badges", BadgeViewSet)
# The gateway's StationViewSet: stations plus their operations (commands, Autocharge, local list).
router.register("stations", OperatedStationViewSet)
router.register("sessions", ChargingSessionViewSet)
router.register("ocpp-messages", OcppMessageViewSet)
router.register("unknown-vehicles", UnknownVehicleViewSet)
router.register("pairings", PairingWindowViewSet)
router.register("security-events", SecurityEventViewSet)
router.register("transaction-anomalies", TransactionAnomalyViewSet)
router.register("shared-mac-models", SharedMacModelViewSet)
router.register("commands", CommandViewSet)
router.register("autocharge-profiles", AutochargeProfileViewSet)
router.register("autocharge-settings", AutochargeSettingViewSet)
router.register("sites", SiteViewSet)
router.register("tariffs", TariffViewSet)
router.register(
    "personal-use-statements", PersonalUseStatementViewSet, basename="personal-use-statement"
)
router.register("reservations", ReservationViewSet)
router.register("firmware-campaigns", FirmwareCampaignViewSet)
router.register("log-uploads", LogRequestViewSet)
router.register("webhooks", WebhookViewSet)
router.register("alert-subscriptions", AlertSubscriptionViewSet)

api_v1 = [
    path("auth/token/", ObtainStaffToken.as_view(), name="api-token"),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SwaggerUi.as_view(url_name="api-schema"), name="api-docs"),
    path("redoc/", Redoc.as_view(url_name="api-schema"), name="api-redoc"),
    *router.urls,
]

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
    path("i18n/", include("django.conf.urls.i18n")),
    # Stations upload the logs they were asked for here (ocpp_gateway.operations.log_uploads).
    path("ocpp-uploads/<str:token>/", log_upload, name="log-upload"),
    path("ocpp-uploads/<str:token>/<str:file_name>", log_upload, name="log-upload-named"),
    path("alerts/", include("alerts.urls")),
    path("", include("portal.urls")),
]
