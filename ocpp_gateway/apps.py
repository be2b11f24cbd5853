from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OcppGatewayConfig(AppConfig):
    name = "ocpp_gateway"
    verbose_name = _("OCPP gateway")

    def ready(self) -> None:
        from badges import events as badge_events
        from ocpp_gateway.operations import revocation as operations
        from ocpp_gateway.operations import smart_charging
        from stations import events as station_events

        # Tags that stopped being usable: stations' caches cleared, local lists brought up to date.
        badge_events.station_access_revoked.connect(
            operations.on_station_access_revoked, dispatch_uid="ocpp_gateway"
        )
        # A site's limit changed: new fallback profiles and shares for its stations.
        station_events.site_changed.connect(
            smart_charging.on_site_changed, dispatch_uid="ocpp_gateway"
        )
