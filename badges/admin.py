from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from badges.authorization import Reason
from badges.forms import (
    UnknownVehicleDismissForm,
    UnknownVehicleEnrolForm,
    action_page,
    add_service_error,
    confirmed,
)
from badges.identifiers import is_autocharge_tag
from badges.models import (
    Badge,
    InboxStatus,
    PairingOutcome,
    PairingWindow,
    SharedMacModel,
    UnknownVehicle,
    VehicleSighting,
)
from badges.services import (
    EnrolmentError,
    check_shared_mac,
    shared_mac_model_of,
    unknown_vehicle_dismiss,
    unknown_vehicle_enrol,
)
from fleet.models import Company, Vehicle
from stations.models import Station
from supervision.admin import ChangeHistoryAdminMixin, CompanyScopedAdminMixin, ReadOnlyAdminMixin
from supervision.tenancy import scope

# How many of an entry's latest attempts its page lists, each with its log entry.
SIGHTINGS_SHOWN = 50


class AutochargeFilter(admin.SimpleListFilter):
    title = _("Autocharge")
    parameter_name = "autocharge"

    def lookups(self, request, model_admin):
        return [("yes", _("Autocharge (VID:)")), ("no", _("RFID cards"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.autocharge()
        if self.value() == "no":
            return queryset.exclude(pk__in=queryset.autocharge())
        return queryset


def _posted_vehicle(request) -> Vehicle | None:
    vehicle_id = request.POST.get("vehicle", "")
    if not vehicle_id.isdigit():
        return None
    return scope(Vehicle.objects.filter(pk=vehicle_id), request.user).first()


class BadgeAdminForm(forms.ModelForm):
    """The badge form, plus the confirmation a VID badge needs when its vehicle's model line is
    known to share (or randomise) its MAC."""

    acknowledge_shared_mac = forms.BooleanField(
        label=_("I know this model shares its MAC"), required=False
    )

    class Meta:
        model = Badge
        fields = [
            "rfid",
            "visual_number",
            "type",
            "state",
            "provider",
            "description",
            "expires_at",
            "usage",
            "mode",
            "company",
            "vehicle",
            "groups",
        ]

    def clean(self):
        cleaned_data = super().clean()
        vehicle = cleaned_data.get("vehicle")
        rfid = cleaned_data.get("rfid") or ""
        identity_changed = self.instance.pk is None or {"rfid", "vehicle"} & set(self.changed_data)
        if vehicle is not None and is_autocharge_tag(rfid) and identity_changed:
            try:
                check_shared_mac(
                    vehicle=vehicle, acknowledged=cleaned_data.get("acknowledge_shared_mac", False)
                )
            except EnrolmentError as error:
                self.add_error("acknowledge_shared_mac", error)
        return cleaned_data


@admin.register(Badge)
class BadgeAdmin(CompanyScopedAdminMixin, ChangeHistoryAdminMixin, admin.ModelAdmin):
    """The seed's "Add a badge" form: the badge itself, then "Attribution and usage"."""

    form = BadgeAdminForm
    fieldsets = [
        (
            _("Badge"),
            {
                "fields": [
                    "rfid",
                    "visual_number",
                    "type",
                    "state",
                    "provider",
                    "description",
                    "expires_at",
                ]
            },
        ),
        (_("Attribution and usage"), {"fields": ["usage", "mode", "company", "vehicle", "groups"]}),
    ]
    list_display = [
        "rfid",
        "visual_number",
        "type",
        "state",
        "company",
        "vehicle",
        "usage",
        "is_autocharge_display",
        "expires_at",
    ]
    list_filter = ["state", "type", AutochargeFilter, "usage", "mode", "company", "enrolled_via"]
    search_fields = ["rfid", "visual_number", "vehicle__license_plate", "description"]
    autocomplete_fields = ["provider", "company", "vehicle"]
    filter_horizontal = ["groups"]
    list_select_related = ["company", "vehicle"]
    readonly_fields = ["enrolled_via", "enrolled_by"]

    def get_fieldsets(self, request, obj=None):
        """The confirmation box appears with a vehicle whose model shares its MAC (the one
        posted, or the badge's); how a badge was enrolled shows once it exists."""
        (badge_title, badge), (attribution_title, attribution) = self.fieldsets
        attribution_fields = list(attribution["fields"])
        vehicle = _posted_vehicle(request) if request.method == "POST" else None
        if vehicle is None and obj is not None:
            vehicle = obj.vehicle
        if vehicle is not None and shared_mac_model_of(vehicle) is not None:
            attribution_fields.append("acknowledge_shared_mac")
        if obj is not None:
            attribution_fields += ["enrolled_via", "enrolled_by"]
        return [(badge_title, badge), (attribution_title, {"fields": attribution_fields})]

    def save_model(self, request, obj, form, change):
        if not change:
            obj.enrolled_by = request.user  # enrolled_via keeps its default: by hand
        super().save_model(request, obj, form, change)

    @admin.display(boolean=True, description=_("Autocharge"))
    def is_autocharge_display(self, badge: Badge) -> bool:
        return badge.is_autocharge


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


class SeenAtCompanyFilter(admin.SimpleListFilter):
    title = _("company of the station")
    parameter_name = "station_company"

    def lookups(self, request, model_admin):
        companies = Company.objects.filter(
            stations__vehicle_sightings__unknown_vehicle__isnull=False
        )
        companies = scope(companies, request.user)
        return [(str(company.pk), str(company)) for company in companies.distinct()]

    def queryset(self, request, queryset):
        if self.value() is None:
            return queryset
        if not self.value().isdigit():
            return queryset.none()
        seen = VehicleSighting.objects.filter(station__company_id=self.value())
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
        "vendor",
        "randomised",
        "first_seen_at",
        "last_seen_at",
        "attempts",
        "latest_reason",
        "seen_at_stations",
        "status",
    ]
    list_filter = [InboxStatusFilter, SeenAtStationFilter, SeenAtCompanyFilter]
    search_fields = ["mac", "id_tag", "vendor_hint", "dismissed_reason"]
    ordering = ["-last_seen_at"]
    actions = ["enrol_into_vehicle", "dismiss"]
    fields = [
        "id_tag",
        "mac",
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

    def get_queryset(self, request):
        # Only the sightings at stations the user sees: where else a MAC was presented is
        # other companies' business.
        sightings = scope(VehicleSighting.objects.all(), request.user)
        sightings = sightings.select_related("station").order_by("-seen_at")
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
            request.POST if confirmed(request) else None, user=request.user
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


# --- Pairing windows and shared-MAC model lines -----------------------------------------------


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


@admin.register(SharedMacModel)
class SharedMacModelAdmin(CompanyScopedAdminMixin, admin.ModelAdmin):
    """The model lines whose badges need a confirmation, edited in the list itself."""

    list_display = ["__str__", "make", "model", "note"]
    list_editable = ["make", "model", "note"]
    search_fields = ["make", "model", "note"]
