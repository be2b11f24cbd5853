from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OcppGatewayConfig(AppConfig):
    name = "ocpp_gateway"
    verbose_name = _("OCPP gateway")

    def ready(self) -> None:
        # Badge and vehicle changes reach the stations' caches and local lists.
        from ocpp_gateway import signals  # noqa: F401
