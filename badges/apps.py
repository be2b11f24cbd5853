from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BadgesConfig(AppConfig):
    name = "badges"
    verbose_name = _("Badges")

    def ready(self) -> None:
        from badges import access
        from fleet import events as fleet_events

        # Fleet cannot call up into badges: it announces, and the access rules follow.
        fleet_events.access_changed.connect(access.on_access_changed, dispatch_uid="badges")
        fleet_events.group_access_withdrawing.connect(
            access.on_group_access_withdrawing, dispatch_uid="badges"
        )
