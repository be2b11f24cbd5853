from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SupervisionConfig(AppConfig):
    name = "supervision"
    verbose_name = _("Supervision")

    def ready(self) -> None:
        # After the admin's autodiscover (django.contrib.admin comes first in INSTALLED_APPS).
        from django.contrib import admin

        from supervision.admin import scope_every_admin

        scope_every_admin(admin.site)
