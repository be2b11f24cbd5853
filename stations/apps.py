from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class StationsConfig(AppConfig):
    name = "stations"
    verbose_name = _("Stations")

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from stations.models import AutochargeProfile
        from stations.selectors import profile_vendors

        for signal in (post_save, post_delete):
            signal.connect(
                profile_vendors.forget, sender=AutochargeProfile, dispatch_uid="profile_vendors"
            )
