from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class StationsConfig(AppConfig):
    name = "stations"
    verbose_name = _("Stations")

    def ready(self) -> None:
        from badges import events as badge_events
        from stations.authorization_index import on_authorization_changed

        badge_events.authorization_changed.connect(on_authorization_changed, dispatch_uid="index")
