"""Admin pieces shared by the apps, and the site's titles."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

admin.site.site_header = _("Autocharge supervision")
admin.site.site_title = _("Autocharge supervision")
admin.site.index_title = _("Supervision")


class ReadOnlyAdminMixin:
    """For records only the stations write (sessions, logs): staff look, never edit."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class ReadOnlyInline(ReadOnlyAdminMixin, admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = False
