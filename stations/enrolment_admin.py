"""The admin of the unknown-vehicle inbox and of pairing windows: badges' models, but their
actions enrol and pair at stations (``stations.enrolment``), which ``badges`` may not import.
Imported by ``stations.admin``, which registers them."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Prefetch
from django.http import Http404
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils import formats, timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from badges.authorization import Reason
from badges.models import (
    InboxStatus,
    PairingOutcome,
    PairingWindow,
    UnknownVehicle,
    VehicleSighting,
)
from badges.services import (
    EnrolmentError,
    unknown_vehicle_dismiss,
)
from stations.enrolment import unknown_vehicle_enrol
from stations.forms import (
    UnknownVehicleDismissForm,
    UnknownVehicleEnrolForm,
    action_page,
    add_service_error,
    confirmed,
)
from stations.models import Station
from supervision.admin import (
    CompanyScopedAdminMixin,
    ReadOnlyAdminMixin,
)
from supervision.tenancy import scope

# How many of an entry's latest attempts its page lists, each with its log entry.
SIGHTINGS_SHOWN = 50


# --- The unknown-vehicle inbox ----------------------------------------------------------------


class InboxStatusFilter(admin.SimpleListFilter):
    """Open entries unless staff ask for the others: enrolled and dismissed ones stay visible."""

    title = _("status")
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return [*InboxStatus.choices, ("all", _("All"))]

    def chosen(self) -> str:
        return self.value() or InboxStatus.OPEN

    def queryset(self, request, queryset):
        if self.chosen() == "all":
            return queryset
        return queryset.filter(status=self.chosen())

    def choices(self, changelist):
        for lookup, title in self.lookup_choices:
            yield {
                "selected": self.chosen() == lookup,
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }


class SeenAtStationFilter(admin.SimpleListFilter):
    title = _("station")
    parameter_name = "station"

    def lookups(self, request, model_admin):
        stations = Station.objects.filter(vehicle_sightings__unknown_vehicle__isnull=False)
        stations = scope(stations, request.user)
        return [(str(station.pk), str(station)) for station in stations.distinct()]

    def queryset(self, request, queryset):
        if self.value() is None:
            return queryset
        if not self.value().isdigit():
            return queryset.none()
        seen = VehicleSighting.objects.filter(station_id=self.value())
        return queryset.filter(pk__in=seen.values("unknown_vehicle_id"))


def _reason_label(reason: str) -> str:
    return Reason(reason).label if reason in Reason.values else reason


@admin.register(UnknownVehicle)
class UnknownVehicleAdmin(CompanyScopedAdminMixin, admin.ModelAdmin):
    """The inbox: MACs stations presented that no badge knew. Staff enrol or dismiss them
    through the actions; nothing else changes an entry."""

    list_display = [
        "id_tag",
        "mac",
        "company",
        "vendor",
        "randomised",
        "first_seen_at",
        "last_seen_at",
        "attempts",
        "latest_reason",
        "seen_at_stations",
        "status",
    ]
    list_filter = [InboxStatusFilter, "company", SeenAtStationFilter]
    list_select_related = ["company"]
    search_fields = ["mac", "id_tag", "vendor_hint", "dismissed_reason"]
    ordering = ["-last_seen_at"]
    actions = ["enrol_into_vehicle", "dismiss"]
    fields = [
        "id_tag",
        "mac",
        "company",
        "vendor",
        "randomised",
        "status",
        "first_seen_at",
        "last_seen_at",
        "attempts",
        "latest_reason",
        "places_seen",
        "attempts_with_log_entries",
        "badge_link",
        "dismissed_reason",
        "resolved_by",
        "resolved_at",
    ]
    readonly_fields = fields
    change_form_template = "admin/badges/unknownvehicle/change_form.html"

    def get_urls(self):
        enrol = self.admin_site.admin_view(self.enrol_view)
        return [
            path("<path:object_id>/enrol/", enrol, name="badges_unknownvehicle_enrol"),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        # The entry's page offers "Enrol" while it waits and the user may enrol.
        entry = self.get_object(request, object_id)
        can_enrol = (
            entry is not None
            and entry.status == InboxStatus.OPEN
            and self.has_enrol_permission(request)
        )
        return super().change_view(
            request, object_id, form_url, {**(extra_context or {}), "can_enrol": can_enrol}
        )

    def enrol_view(self, request, object_id):
        """The "Enrol into vehicle…" action for this one entry, from its page; back to the
        page once enrolled."""
        if not self.has_enrol_permission(request):
            raise PermissionDenied
        entry = self.get_object(request, object_id)
        if entry is None:
            raise Http404
        response = self.enrol_into_vehicle(request, self.get_queryset(request).filter(pk=entry.pk))
        if response is None:
            return redirect("admin:badges_unknownvehicle_change", entry.pk)
        return response

    def get_queryset(self, request):
        # An entry's sightings are all at its company's stations (``_record_sighting``).
        sightings = VehicleSighting.objects.select_related("station").order_by("-seen_at")
        return (
            super()
            .get_queryset(request)
            .prefetch_related(Prefetch("sightings", queryset=sightings))
        )

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def has_enrol_permission(self, request) -> bool:
        return request.user.has_perm("badges.add_badge")

    def has_dismiss_permission(self, request) -> bool:
        return request.user.has_perm("badges.change_unknownvehicle")

    # --- Columns ---

    @admin.display(description=_("vendor hint"))
    def vendor(self, entry: UnknownVehicle) -> str:
        return entry.vendor_hint or gettext("Unregistered OUI")

    @admin.display(boolean=True, description=_("locally administered (randomised) MAC"))
    def randomised(self, entry: UnknownVehicle) -> bool:
        return entry.locally_administered

    @admin.display(description=_("latest refusal reason"))
    def latest_reason(self, entry: UnknownVehicle) -> str:
        return _reason_label(entry.last_reason)

    @admin.display(description=_("stations"))
    def seen_at_stations(self, entry: UnknownVehicle) -> str:
        connectors: dict[Station, set[int]] = {}
        for sighting in entry.sightings.all():
            seen = connectors.setdefault(sighting.station, set())
            if sighting.connector_id is not None:
                seen.add(sighting.connector_id)
        return format_html_join(
            ", ",
            "{}{}",
            (
                (
                    station.charge_point_id,
                    " #" + "/".join(str(c) for c in sorted(ids)) if ids else "",
                )
                for station, ids in connectors.items()
            ),
        )

    @admin.display(description=_("stations and connectors where seen"))
    def places_seen(self, entry: UnknownVehicle) -> str:
        # From the prefetched sightings (newest first), those at stations the user sees.
        places: dict[tuple[Station, int | None], dict] = {}
        for sighting in entry.sightings.all():
            place = places.setdefault(
                (sighting.station, sighting.connector_id), {"count": 0, "last": sighting.seen_at}
            )
            place["count"] += 1
        return format_html(
            "<ul>{}</ul>",
            format_html_join(
                "",
                "<li>{} – {} – {}</li>",
                (
                    (
                        station,
                        _connector_label(connector_id),
                        ngettext(
                            "%(count)d attempt, last %(time)s",
                            "%(count)d attempts, last %(time)s",
                            place["count"],
                        )
                        % {"count": place["count"], "time": _when(place["last"])},
                    )
                    for (station, connector_id), place in places.items()
                ),
            ),
        )

    @admin.display(description=_("attempts and their OCPP log entries"))
    def attempts_with_log_entries(self, entry: UnknownVehicle) -> str:
        rows = []
        for sighting in entry.sightings.all()[:SIGHTINGS_SHOWN]:
            if sighting.log_entry_id is None:
                link = "-"
            else:
                url = reverse("admin:ocpp_gateway_ocppmessage_change", args=[sighting.log_entry_id])
                link = format_html('<a href="{}">{}</a>', url, gettext("OCPP log entry"))
            rows.append(
                (
                    _when(sighting.seen_at),
                    sighting.station.charge_point_id,
                    _connector_label(sighting.connector_id),
                    _reason_label(sighting.reason),
                    link,
                )
            )
        return format_html(
            "<ul>{}</ul>", format_html_join("", "<li>{} – {} {} – {} – {}</li>", rows)
        )

    @admin.display(description=_("badge"))
    def badge_link(self, entry: UnknownVehicle) -> str:
        if entry.badge_id is None:
            return "-"
        url = reverse("admin:badges_badge_change", args=[entry.badge_id])
        return format_html('<a href="{}">{}</a>', url, entry.badge)

    # --- Actions ---

    @admin.action(description=_("Enrol into vehicle…"), permissions=["enrol"])
    def enrol_into_vehicle(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(
                request, gettext("Select exactly one vehicle to enrol."), messages.ERROR
            )
            return None
        entry = queryset.get()
        form = UnknownVehicleEnrolForm(
            request.POST if confirmed(request) else None, user=request.user, entry=entry
        )
        if form.is_bound and form.is_valid():
            try:
                enrolment = unknown_vehicle_enrol(
                    entry=entry,
                    vehicle=form.cleaned_data["vehicle"],
                    enrolled_by=request.user,
                    acknowledge_shared_mac=form.cleaned_data["acknowledge_shared_mac"],
                )
            except ValidationError as error:
                # An EnrolmentError, or a model rule the badge breaks (one made meanwhile).
                add_service_error(form, error)
            else:
                for warning in enrolment.warnings:
                    self.message_user(request, warning, messages.WARNING)
                badge = enrolment.badge
                self.message_user(
                    request,
                    format_html(
                        gettext('{tag} enrolled into {plate}: <a href="{url}">badge {badge}</a>.'),
                        tag=entry.id_tag,
                        plate=badge.vehicle.license_plate,
                        url=reverse("admin:badges_badge_change", args=[badge.pk]),
                        badge=badge,
                    ),
                    messages.SUCCESS,
                )
                return None
        return action_page(
            self,
            request,
            queryset,
            form=form,
            action="enrol_into_vehicle",
            title=gettext("Enrol into vehicle"),
            intro=gettext(
                "Choose the vehicle this MAC address belongs to: its Autocharge badge is created "
                "with the recommended values."
            ),
            submit_label=gettext("Enrol"),
        )

    @admin.action(description=_("Dismiss…"), permissions=["dismiss"])
    def dismiss(self, request, queryset):
        form = UnknownVehicleDismissForm(request.POST if confirmed(request) else None)
        if form.is_bound and form.is_valid():
            dismissed = 0
            for entry in queryset:
                try:
                    unknown_vehicle_dismiss(
                        entry=entry, reason=form.cleaned_data["reason"], dismissed_by=request.user
                    )
                except EnrolmentError as error:
                    self.message_user(request, " ".join(error.messages), messages.ERROR)
                else:
                    dismissed += 1
            if dismissed:
                self.message_user(
                    request,
                    ngettext(
                        "%(count)d unknown vehicle dismissed.",
                        "%(count)d unknown vehicles dismissed.",
                        dismissed,
                    )
                    % {"count": dismissed},
                    messages.SUCCESS,
                )
            return None
        return action_page(
            self,
            request,
            queryset,
            form=form,
            action="dismiss",
            title=gettext("Dismiss unknown vehicles"),
            intro=gettext(
                "These vehicles leave the open list and stay visible, with the reason you give, "
                "under the Dismissed status. Their next attempts are still recorded."
            ),
            submit_label=gettext("Dismiss"),
        )


def _when(moment) -> str:
    return formats.localize(timezone.localtime(moment))


def _connector_label(connector_id: int | None) -> str:
    if connector_id is None:
        return gettext("connector unknown")
    return gettext("connector %(id)d") % {"id": connector_id}


# --- Pairing windows -----------------------------------------------------------


class PairingStatusFilter(admin.SimpleListFilter):
    title = _("status")
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return [("open", _("Open")), *PairingOutcome.choices]

    def queryset(self, request, queryset):
        now = timezone.now()
        value = self.value()
        if value == "open":
            return queryset.open(now)
        if value == PairingOutcome.EXPIRED:
            unclosed_past = queryset.filter(closed_at__isnull=True, expires_at__lte=now)
            return queryset.filter(outcome=PairingOutcome.EXPIRED) | unclosed_past
        if value in PairingOutcome.values:
            return queryset.filter(outcome=value)
        return queryset


@admin.register(PairingWindow)
class PairingWindowAdmin(CompanyScopedAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    """Who armed which station for which vehicle, and how it ended. Staff open and cancel
    windows from the station and vehicle lists."""

    list_display = [
        "station",
        "connector_id",
        "vehicle",
        "opened_by",
        "opened_at",
        "expires_at",
        "closed_at",
        "status_display",
        "badge",
    ]
    list_filter = [PairingStatusFilter, "station", "vehicle__company"]
    search_fields = ["vehicle__license_plate", "station__charge_point_id", "badge__rfid"]
    list_select_related = ["station", "vehicle", "opened_by", "badge"]
    date_hierarchy = "opened_at"
    fields = [
        "station",
        "connector_id",
        "vehicle",
        "opened_by",
        "opened_at",
        "expires_at",
        "closed_at",
        "status_display",
        "badge",
    ]
    readonly_fields = fields

    @admin.display(description=_("status"))
    def status_display(self, window: PairingWindow) -> str:
        status = window.status
        if status == "open":
            return gettext("Open")
        return PairingOutcome(status).label if status in PairingOutcome.values else status
