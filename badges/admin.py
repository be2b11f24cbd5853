from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import Http404, JsonResponse
from django.urls import path
from django.utils.translation import gettext_lazy as _

from badges import access
from badges.identifiers import is_autocharge_tag
from badges.imports import BadgeImportResource
from badges.models import (
    Badge,
    SharedMacModel,
)
from badges.services import (
    EnrolmentError,
    check_shared_mac,
    shared_mac_model_of,
)
from fleet.models import Vehicle
from supervision.admin import (
    ArchiveInsteadOfDeleteAdminMixin,
    ChangeHistoryAdminMixin,
    CompanyScopedAdminMixin,
    WrittenThroughServicesAdminMixin,
)
from supervision.imports_admin import ImportAdminMixin
from supervision.tenancy import scope


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

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk is None and "company" in self.fields:
            # A new badge with a vehicle takes the vehicle's company: no company to choose.
            self.fields["company"].required = False
            self.fields["company"].help_text = _(
                "The company the vehicle belongs to. Empty or as pre-filled: the chosen "
                "vehicle's company."
            )

    def pre_filled_company_id(self) -> int | None:
        """The company the add form was pre-filled with (the refusing station's owner, see
        ``stations.badge_admin``): not a choice of the user's."""
        return None

    def _follow_vehicle(self, cleaned_data: dict) -> None:
        """A new badge's company and provider, left empty or as pre-filled, become the chosen
        vehicle's company; one chosen by hand stays."""
        vehicle = cleaned_data.get("vehicle")
        if self.instance.pk is not None or vehicle is None:
            return
        for name in ("company", "provider"):
            chosen = cleaned_data.get(name)
            if name in self.fields and (
                chosen is None or chosen.pk == self.pre_filled_company_id()
            ):
                cleaned_data[name] = vehicle.company

    def clean(self):
        cleaned_data = super().clean()
        self._follow_vehicle(cleaned_data)
        if "company" in self.fields and not cleaned_data.get("company"):
            if "company" not in self.errors:
                self.add_error(
                    "company",
                    _("Choose the company, or a vehicle: the badge then takes its company."),
                )
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
class BadgeAdmin(
    ArchiveInsteadOfDeleteAdminMixin,
    CompanyScopedAdminMixin,
    ChangeHistoryAdminMixin,
    WrittenThroughServicesAdminMixin,
    ImportAdminMixin,
    admin.ModelAdmin,
):
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
    resource_classes = [BadgeImportResource]
    import_filename = "badges-import"

    class Media:
        js = ["badges/badge_form.js"]

    def get_urls(self):
        vehicle_company = self.admin_site.admin_view(self.vehicle_company_view)
        return [
            path("vehicle-company/", vehicle_company, name="badges_badge_vehicle_company"),
            *super().get_urls(),
        ]

    def vehicle_company_view(self, request):
        """The company of ``?vehicle=<id>``, for the add form's script to fill in."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        vehicle_id = request.GET.get("vehicle", "")
        vehicles = Vehicle.objects.select_related("company").filter(
            pk=vehicle_id if vehicle_id.isdigit() else None
        )
        vehicle = scope(vehicles, request.user).first()
        if vehicle is None:
            raise Http404
        return JsonResponse({"company": {"id": vehicle.company_id, "text": str(vehicle.company)}})

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

    def save_through(self, obj, form) -> None:
        # The groups here, not in save_related: those it leaves are read before they go.
        groups = None if form is None else form.cleaned_data.get("groups")
        access.badge_save(badge=obj, groups=groups)

    def delete_through(self, obj) -> None:
        access.badge_delete(badge=obj)

    @admin.display(boolean=True, description=_("Autocharge"))
    def is_autocharge_display(self, badge: Badge) -> bool:
        return badge.is_autocharge


# --- Shared-MAC model lines (the inbox and pairing windows: stations.enrolment_admin) ------


@admin.register(SharedMacModel)
class SharedMacModelAdmin(CompanyScopedAdminMixin, admin.ModelAdmin):
    """The model lines whose badges need a confirmation, edited in the list itself."""

    list_display = ["__str__", "make", "model", "note"]
    list_editable = ["make", "model", "note"]
    search_fields = ["make", "model", "note"]
