"""Admin of sites (depots) and of what load balancing decided; imported by ``stations.admin``."""

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from stations import sites
from stations.models import LoadBalancingDecision, Site, Station
from supervision.admin import (
    CompanyScopedAdminMixin,
    ReadOnlyInline,
    WrittenThroughServicesAdminMixin,
)

DECISIONS_SHOWN = 20


class LoadBalancingDecisionInline(ReadOnlyInline):
    model = LoadBalancingDecision
    fields = ["created_at", "trigger", "limit_w", "allocated_w", "allocations"]
    readonly_fields = fields
    ordering = ["-created_at", "-id"]

    def get_queryset(self, request):
        # The last ones only: a busy depot records one at every session start and stop.
        latest = super().get_queryset(request).order_by("-created_at", "-id")
        return latest.filter(pk__in=list(latest.values_list("pk", flat=True)[:DECISIONS_SHOWN]))


def charging_profiles_held(station: Station) -> str:
    """The profiles the station accepted or reported, one a line (the station's admin page)."""
    profiles = station.charging_profiles.all()
    if not profiles:
        return gettext("None.")
    return format_html_join(
        mark_safe("<br>"),
        "#{} {} · {} {} {} · {}",
        (
            (p.connector_id, p.purpose, p.profile_id, p.limit, p.unit, p.get_source_display())
            for p in profiles
        ),
    )


@admin.register(Site)
class SiteAdmin(CompanyScopedAdminMixin, WrittenThroughServicesAdminMixin, admin.ModelAdmin):
    list_display = ["name", "company", "grid_limit_kw", "time_zone", "station_count", "page"]
    list_filter = ["company", "time_zone"]
    search_fields = ["name", "address", "company__name"]
    autocomplete_fields = ["company"]
    fields = ["company", "name", "address", "time_zone", "grid_limit_kw", "amperes_per_phase"]
    inlines = [LoadBalancingDecisionInline]

    @admin.display(description=_("stations"))
    def station_count(self, site: Site) -> int:
        return site.stations.count()

    @admin.display(description=_("power now"))
    def page(self, site: Site) -> str:
        return format_html(
            '<a href="{}">{}</a>', reverse("portal:site", args=[site.pk]), _("Site page")
        )

    def save_through(self, obj, form) -> None:
        sites.site_save(site=obj)

    def delete_through(self, obj) -> None:
        sites.site_delete(site=obj)
