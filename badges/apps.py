from django.apps import AppConfig
from django.db.models.signals import post_save
from django.utils.translation import gettext_lazy as _


class BadgesConfig(AppConfig):
    name = "badges"
    verbose_name = _("Badges")

    def ready(self) -> None:
        from badges.authorization_cache import connect_signals
        from badges.models import Badge
        from badges.services import inbox_mark_enrolled

        # What may change a decision makes every process's authorization cache forget it.
        connect_signals()

        # Badges are also saved by the admin form and the API: the inbox must follow all paths.
        post_save.connect(
            lambda instance, **_: inbox_mark_enrolled(badge=instance),
            sender=Badge,
            weak=False,
            dispatch_uid="badges.inbox_mark_enrolled",
        )
