import json
from urllib.parse import urlencode

from django.contrib import admin
from django.db.models import OuterRef, Subquery
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from badges.authorization import Reason
from badges.identifiers import mac_of
from badges.models import (
    Badge,
    BadgeMode,
    BadgeState,
    BadgeType,
    BadgeUsage,
    autocharge_description_prefix,
)
from ocpp_gateway.models import LogStatus, OcppMessage
from supervision.admin import CompanyScopedAdminMixin, ReadOnlyAdminMixin
from supervision.tenancy import scope


def new_badge_url(id_tag: str) -> str:
    """The badge form pre-filled as the seed's procedure says, for an unknown vehicle."""
    query = {
        "rfid": id_tag,
        "visual_number": mac_of(id_tag),
        "type": BadgeType.PHYSICAL,
        "state": BadgeState.ENABLED,
        "usage": BadgeUsage.PROFESSIONAL,
        "mode": BadgeMode.VEHICLE,
        "description": autocharge_description_prefix(),
    }
    return f"{reverse('admin:badges_badge_add')}?{urlencode(query)}"


@admin.register(OcppMessage)
class OcppMessageAdmin(CompanyScopedAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "created_at",
        "charge_point_id",
        "direction",
        "action",
        "status",
        "ocpp_status",
        "reason",
        "id_tag",
        "create_badge",
    ]
    list_filter = ["direction", "action", "status", "reason", "station"]
    search_fields = ["id_tag", "charge_point_id", "unique_id"]
    list_select_related = ["station"]
    date_hierarchy = "created_at"
    fields = [
        "created_at",
        "station",
        "charge_point_id",
        "direction",
        "message_type",
        "unique_id",
        "action",
        "status",
        "ocpp_status",
        "reason",
        "id_tag",
        "create_badge",
        "pretty_payload",
    ]
    readonly_fields = fields

    def get_queryset(self, request):
        # The badge the tag belongs to now, in the same query: an entry logged before its badge
        # was created links to that badge instead of offering a duplicate.
        # Only a badge the user sees: another company's is not theirs to open.
        badge = scope(Badge.objects.filter(rfid=OuterRef("id_tag")), request.user)
        badge = badge.values("pk")[:1]
        return super().get_queryset(request).annotate(current_badge_id=Subquery(badge))

    @admin.display(description=_("Badge"))
    def create_badge(self, message: OcppMessage) -> str:
        """Step 6 of the seed's procedure in one click: an unknown VID → a pre-filled badge."""
        if message.current_badge_id is not None:
            url = reverse("admin:badges_badge_change", args=[message.current_badge_id])
            return format_html('<a href="{}">{}</a>', url, _("Open badge"))
        unknown_vehicle = (
            message.status == LogStatus.REJECTED
            and message.reason == Reason.UNKNOWN_BADGE
            and mac_of(message.id_tag)
        )
        if not unknown_vehicle:
            return ""
        return format_html('<a href="{}">{}</a>', new_badge_url(message.id_tag), _("Create badge"))

    @admin.display(description=_("payload"))
    def pretty_payload(self, message: OcppMessage) -> str:
        return format_html(
            "<pre>{}</pre>", json.dumps(message.payload, indent=2, ensure_ascii=False)
        )
