import json
from dataclasses import dataclass

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import widgets
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.debug import sensitive_post_parameters

from badges.models import PairingWindow
from fleet.admin import VehicleAdmin as FleetVehicleAdmin
from fleet.models import Vehicle
from stations import (  # noqa: F401  (register the inbox, pairing, anomaly and badge admins)
    anomalies_admin,
    badge_admin,
    enrolment_admin,
)
from stations.enrolment import pairing_cancel
from stations.forms import (
    StationPairingForm,
    VehiclePairingForm,
    action_page,
    add_service_error,
    confirmed,
    pairing_action,
)
from stations.models import (
    AutochargeProfile,
    AutochargeSetting,
    ChargingSession,
    Connector,
    DeviceModelVariable,
    MeterValue,
    OcppVersion,
    SecurityEvent,
    SessionCorrection,
    Station,
    TransactionAnomaly,
    TransactionEvent,
)
from stations.services import (
    autocharge_profile_delete,
    autocharge_profile_save,
    session_close_by_staff,
    session_correct_energy,
    station_delete,
    station_password_generate,
    station_password_validate,
    station_save,
    station_set_password,
)
from stations.sites_admin import charging_profiles_held  # and registers the site admin
from stations.tariffs_admin import TariffAdmin  # noqa: F401  (registers the tariff admin)
from supervision.admin import (
    ArchiveInsteadOfDeleteAdminMixin,
    ChangeHistoryAdminMixin,
    CompanyScopedAdminMixin,
    ReadOnlyAdminMixin,
    ReadOnlyInline,
    WrittenThroughServicesAdminMixin,
    ocpp_value_display,
    stored_text_field,
)
from supervision.tenancy import is_superuser

RECENT_CONNECTIONS = 20


class ConnectorInline(ReadOnlyInline):
    model = Connector
    fields = [
        "connector_id",
        "status_label",
        "error_code_label",
        "info",
        "vendor_error_code",
        "updated_at",
    ]
    readonly_fields = fields

    status_label = ocpp_value_display("status", _("status"))
    error_code_label = ocpp_value_display("error_code", _("error code"))


class DeviceModelInline(ReadOnlyInline):
    """An OCPP 2.0.1 station's device model, as it last reported it."""

    model = DeviceModelVariable
    fields = [
        "component",
        "component_instance",
        "evse_id",
        "connector_id",
        "variable",
        "variable_instance",
        "attribute_type",
        "value",
        "mutability",
        "read_at",
    ]
    classes = ["collapse"]


@dataclass(frozen=True)
class PasswordChange:
    """What the station form asks of the password: a new one (typed or generated), or None
    to remove it."""

    password: str | None
    generated: bool = False


class StationForm(forms.ModelForm):
    """The station, and its HTTP Basic password: typed, generated or removed. The password is
    never shown again; a generated one is shown once, after saving."""

    new_password = forms.CharField(
        label=_("New password"),
        required=False,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_(
            "16 to 40 printable ASCII characters. Only its hash is kept: it cannot be shown "
            "again. Leave empty to keep the current one."
        ),
    )
    generate_password = forms.BooleanField(
        label=_("Generate a new password"),
        required=False,
        help_text=_("A random 20-character password, shown once after saving."),
    )
    remove_password = forms.BooleanField(
        label=_("Remove the password"),
        required=False,
        help_text=_("The station then connects without credentials, where the settings allow it."),
    )

    class Meta:
        model = Station
        # The admin passes its own fieldsets' fields.
        fields = ["charge_point_id", "name", "company", "auth_mode"]

    def clean_new_password(self) -> str:
        password = self.cleaned_data["new_password"]
        if password:
            station_password_validate(password)
        return password

    def clean(self):
        cleaned_data = super().clean()
        typed = cleaned_data.get("new_password")
        generate = cleaned_data.get("generate_password")
        remove = cleaned_data.get("remove_password")
        if sum(map(bool, (typed, generate, remove))) > 1:
            raise forms.ValidationError(
                _("Type a new password, generate one or remove it: one of the three at a time.")
            )
        self.password_change: PasswordChange | None = None
        if generate:
            self.password_change = PasswordChange(station_password_generate(), generated=True)
        elif typed:
            self.password_change = PasswordChange(typed)
        elif remove:
            self.password_change = PasswordChange(None)
        return cleaned_data


PASSWORD_FIELDS = ["password_status", "new_password", "generate_password", "remove_password"]


@admin.register(Station)
class StationAdmin(
    ArchiveInsteadOfDeleteAdminMixin,
    CompanyScopedAdminMixin,
    ChangeHistoryAdminMixin,
    WrittenThroughServicesAdminMixin,
    admin.ModelAdmin,
):
    list_display = [
        "charge_point_id",
        "name",
        "company",
        "auth_mode",
        "connection_state",
        "ocpp_version",
        "autocharge_readiness",
        "vendor",
        "model",
        "last_heartbeat_at",
    ]
    list_filter = [
        "connection_state",
        "ocpp_version",
        "autocharge_readiness",
        "auth_mode",
        "company",
        "site",
        "vendor",
    ]
    search_fields = ["charge_point_id", "name", "serial_number", "vendor", "model"]
    autocomplete_fields = ["company"]
    form = StationForm
    fieldsets = [
        (None, {"fields": ["charge_point_id", "name", "company", "auth_mode"]}),
        (_("Password (HTTP Basic authentication)"), {"fields": PASSWORD_FIELDS}),
        (
            _("Reported by the station"),
            {
                "fields": [
                    "vendor",
                    "model",
                    "serial_number",
                    "firmware_version",
                    "ocpp_version",
                    "connection_state",
                    "connected_at",
                    "last_address",
                    "recent_connections",
                    "last_boot_at",
                    "last_boot_reason",
                    "last_heartbeat_at",
                    "firmware_status_label",
                    "log_status_label",
                ]
            },
        ),
        (
            _("Autocharge"),
            {
                "fields": [
                    "autocharge_readiness",
                    "autocharge_detail_text",
                    "autocharge_checked_at",
                    "pairing_window",
                ]
            },
        ),
        (
            _("Site and load balancing"),
            {"fields": ["site", "max_power_kw", "rejects_profiles", "charging_profiles"]},
        ),
        (
            _("Local authorization list"),
            {"fields": ["local_list_version", "local_list_synced_at", "local_list_detail_text"]},
        ),
        (
            _("Configuration"),
            {"fields": ["configuration_read_at", "configuration"], "classes": ["collapse"]},
        ),
    ]
    readonly_fields = [
        "password_status",
        "vendor",
        "model",
        "serial_number",
        "firmware_version",
        "ocpp_version",
        "connection_state",
        "connected_at",
        "last_address",
        "recent_connections",
        "last_boot_at",
        "last_boot_reason",
        "last_heartbeat_at",
        "firmware_status_label",
        "log_status_label",
        "pairing_window",
        "autocharge_readiness",
        "autocharge_detail_text",
        "autocharge_checked_at",
        "local_list_version",
        "local_list_synced_at",
        "local_list_detail_text",
        "configuration_read_at",
        "configuration",
        "rejects_profiles",
        "charging_profiles",
    ]
    autocharge_detail_text = stored_text_field(
        "autocharge_detail", Station._meta.get_field("autocharge_detail").verbose_name
    )
    local_list_detail_text = stored_text_field(
        "local_list_detail", Station._meta.get_field("local_list_detail").verbose_name
    )
    firmware_status_label = ocpp_value_display(
        "firmware_status", Station._meta.get_field("firmware_status").verbose_name
    )
    log_status_label = ocpp_value_display(
        "log_status", Station._meta.get_field("log_status").verbose_name
    )
    inlines = [ConnectorInline]
    actions = ["arm_for_pairing", "cancel_pairing"]

    @admin.display(description=_("charging profiles the station holds"))
    def charging_profiles(self, station: Station) -> str:
        return charging_profiles_held(station)

    @admin.display(description=_("last connections"))
    def recent_connections(self, station: Station) -> str:
        """The station's last connections: from where, and how each ended."""
        connections = station.connections.order_by("-opened_at")[:RECENT_CONNECTIONS]
        if not connections:
            return gettext("None yet.")
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    date_format(timezone.localtime(c.opened_at), "SHORT_DATETIME_FORMAT"),
                    date_format(timezone.localtime(c.closed_at), "SHORT_DATETIME_FORMAT")
                    if c.closed_at
                    else gettext("open"),
                    c.get_close_reason_display() or "-",
                    c.remote_address or "-",
                )
                for c in connections
            ),
        )
        return format_html(
            "<table><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr></thead>"
            "<tbody>{}</tbody></table>",
            gettext("opened"),
            gettext("closed"),
            gettext("how it ended"),
            gettext("address"),
            rows,
        )

    def get_inlines(self, request, obj):
        if obj is not None and obj.ocpp_version == OcppVersion.V201:
            return [*self.inlines, DeviceModelInline]
        return self.inlines

    def has_pair_permission(self, request) -> bool:
        return request.user.has_perm("badges.add_pairingwindow")

    @method_decorator(sensitive_post_parameters("new_password"))
    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        # Error reports (DEBUG page, mails to the admins) leave the typed password out.
        return super().changeform_view(request, object_id, form_url, extra_context)

    def save_through(self, obj, form) -> None:
        station_save(station=obj)

    def delete_through(self, obj) -> None:
        station_delete(station=obj)

    def save_model(self, request, obj, form, change) -> None:
        super().save_model(request, obj, form, change)
        password_change = getattr(form, "password_change", None)
        if password_change is None:
            return
        station_set_password(station=obj, password=password_change.password)
        if password_change.generated:
            # Shown this once: only the hash is kept.
            self.message_user(
                request,
                gettext(
                    "New password of %(station)s: %(password)s. Copy it now: it will not be "
                    "shown again."
                )
                % {"station": obj.charge_point_id, "password": password_change.password},
                messages.WARNING,
            )
        elif password_change.password is None:
            self.message_user(
                request,
                gettext("%(station)s no longer has a password.") % {"station": obj},
                messages.SUCCESS,
            )
        else:
            self.message_user(
                request,
                gettext("The password of %(station)s was changed.") % {"station": obj},
                messages.SUCCESS,
            )

    @admin.display(description=_("current password"))
    def password_status(self, station: Station) -> str:
        if station.has_password:
            if station.password_changed_at is None:
                return gettext("Set.")
            return gettext("Set on %(date)s.") % {
                "date": date_format(
                    timezone.localtime(station.password_changed_at), "SHORT_DATETIME_FORMAT"
                )
            }
        if station.may_connect_without_password():
            return gettext("None: the station connects without credentials.")
        return gettext("None: the station is refused until it has one.")

    @admin.display(description=_("pairing"))
    def pairing_window(self, station: Station) -> str:
        """The open pairing window, if staff armed the station."""
        if station.pk is None:
            return "-"
        window = (
            PairingWindow.objects.open()
            .filter(station=station)
            .select_related("vehicle", "opened_by")
            .first()
        )
        if window is None:
            return gettext("Not armed")
        until = timezone.localtime(window.expires_at).strftime("%H:%M")
        if window.vehicle.company_id != station.company_id:
            # A partner's window: its vehicle is that company's business (the window's tenancy).
            return gettext("Armed by another company until %(time)s") % {"time": until}
        text = gettext("Armed for %(vehicle)s until %(time)s, %(connector)s") % {
            "vehicle": window.vehicle.license_plate,
            "time": until,
            "connector": (
                gettext("connector %(id)d") % {"id": window.connector_id}
                if window.connector_id is not None
                else gettext("any connector")
            ),
        }
        url = reverse("admin:badges_pairingwindow_change", args=[window.pk])
        return format_html('<a href="{}">{}</a>', url, text)

    @admin.action(description=_("Arm for pairing…"), permissions=["pair"])
    def arm_for_pairing(self, request, queryset):
        return pairing_action(
            self,
            request,
            queryset,
            form_class=StationPairingForm,
            selected_as="station",
            select_one_message=gettext("Select exactly one station to arm."),
            action="arm_for_pairing",
            title=gettext("Arm for pairing"),
            intro=gettext(
                "The MAC address of the next unknown vehicle that plugs in at this station within "
                "the window becomes the chosen vehicle's Autocharge badge."
            ),
        )

    @admin.action(description=_("Cancel pairing"), permissions=["pair"])
    def cancel_pairing(self, request, queryset):
        for station in queryset:
            window = pairing_cancel(station=station)
            if window is None:
                self.message_user(
                    request,
                    gettext("%(station)s was not armed for pairing.") % {"station": station},
                    messages.WARNING,
                )
            else:
                self.message_user(
                    request,
                    gettext("Pairing at %(station)s for %(vehicle)s ended: %(outcome)s.")
                    % {
                        "station": station,
                        "vehicle": window.vehicle.license_plate,
                        "outcome": window.get_outcome_display(),
                    },
                    messages.SUCCESS,
                )

    @admin.display(description=_("configuration keys"))
    def configuration(self, station: Station) -> str:
        """The last GetConfiguration answer, key by key; read-only keys marked."""
        keys = station.configuration_keys.all() if station.pk else []
        if not keys:
            return _("Not read yet: use the action “Read the configuration”.")
        rows = format_html_join(
            "",
            "<tr><td><code>{}</code></td><td><code>{}</code></td><td>{}</td></tr>",
            (
                (
                    key.key,
                    "" if key.value is None else key.value,
                    _("read-only") if key.readonly else "",
                )
                for key in keys
            ),
        )
        return format_html(
            "<table><thead><tr><th>{}</th><th>{}</th><th></th></tr></thead><tbody>{}</tbody>"
            "</table>",
            _("Key"),
            _("Value"),
            rows,
        )


class AutochargeSettingInline(CompanyScopedAdminMixin, admin.TabularInline):
    """A configuration key for OCPP 1.6 stations, or a component and variable of the device
    model for OCPP 2.0.1 stations."""

    model = AutochargeSetting
    extra = 1
    fields = ["key", "component", "variable", "mode", "value"]


@admin.register(AutochargeProfile)
class AutochargeProfileAdmin(
    CompanyScopedAdminMixin,
    ChangeHistoryAdminMixin,
    WrittenThroughServicesAdminMixin,
    admin.ModelAdmin,
):
    """Which configuration keys turn Autocharge on, per vendor (model, firmware)."""

    def save_through(self, obj, form) -> None:
        autocharge_profile_save(profile=obj)

    def delete_through(self, obj) -> None:
        autocharge_profile_delete(profile=obj)

    list_display = ["vendor", "model", "firmware_version", "settings_display", "push_on_boot"]
    list_filter = ["vendor", "push_on_boot", "repair_drift"]
    search_fields = ["vendor", "model", "settings__key", "settings__variable"]
    fields = ["vendor", "model", "firmware_version", "push_on_boot", "repair_drift", "notes"]
    inlines = [AutochargeSettingInline]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("settings")

    @admin.display(description=_("settings"))
    def settings_display(self, profile: AutochargeProfile) -> str:
        return "; ".join(str(setting) for setting in profile.settings.all())


class MeterValueInline(ReadOnlyInline):
    model = MeterValue
    fields = ["timestamp", "measurand", "value", "unit", "phase", "context", "location"]


class TransactionEventInline(ReadOnlyInline):
    """The OCPP 2.0.1 events the session was built from."""

    model = TransactionEvent
    fields = ["seq_no", "event_type", "trigger_reason", "timestamp", "offline", "received_at"]


class SessionCorrectionInline(ReadOnlyInline):
    """What staff changed on the session, by whom, when and why."""

    model = SessionCorrection
    fields = [
        "kind",
        "reason",
        "corrected_by",
        "corrected_at",
        "energy_wh_before",
        "energy_wh_after",
        "stopped_at_before",
        "stopped_at_after",
    ]


class TransactionAnomalyInline(ReadOnlyInline):
    """What the station sent that was odd, as it sent it."""

    model = TransactionAnomaly
    fk_name = "session"
    fields = ["kind", "occurrences", "created_at", "last_seen_at", "resolved_at", "sent"]
    readonly_fields = fields

    @admin.display(description=_("details"))
    def sent(self, anomaly: TransactionAnomaly) -> str:
        return format_html(
            "<code>{}</code>", json.dumps(anomaly.details, ensure_ascii=False, default=str)
        )


class SessionCorrectionForm(forms.Form):
    """Close a session the station never ended, or correct a closed session's energy."""

    energy_wh = forms.IntegerField(
        label=_("Energy (Wh)"),
        required=False,
        min_value=0,
        help_text=_("Empty: no energy is counted for the session."),
    )
    stopped_at = forms.SplitDateTimeField(
        label=_("Ended at"),
        required=False,
        widget=widgets.AdminSplitDateTime,
        help_text=_("Closing an open session only; now when empty."),
    )
    reason = forms.CharField(
        label=_("Reason"),
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text=_("Kept with the correction, with your name and the time."),
    )


@admin.register(ChargingSession)
class ChargingSessionAdmin(CompanyScopedAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    """Sessions are as the stations reported them: staff only look, except through the
    "close or correct" action (``stations.correct_chargingsession``), which records who, when
    and why next to the station's own values."""

    list_display = [
        "transaction_id",
        "station_transaction_id",
        "station",
        "connector_id",
        "id_tag",
        "vehicle_plate",
        "company_name",
        "usage",
        "auth_method",
        "authorization_status",
        "energy_wh",
        "cost_display",
        "started_at",
        "stopped_at",
    ]
    list_filter = ["auth_method", "authorization_status", "usage", "company", "station"]
    search_fields = [
        "id_tag",
        "station_transaction_id",
        "vehicle_plate",
        "company_name",
        "badge_rfid",
        "station__charge_point_id",
    ]
    list_select_related = ["station"]
    date_hierarchy = "started_at"
    inlines = [MeterValueInline]
    actions = ["close_or_correct"]

    def get_inlines(self, request, obj):
        if obj is None:
            return self.inlines
        # Shown where there is something to show: most sessions have neither.
        inlines = [
            *([SessionCorrectionInline] if obj.corrections.exists() else []),
            *([TransactionAnomalyInline] if obj.anomalies.exists() else []),
            *self.inlines,
        ]
        if obj.station_transaction_id:
            return [TransactionEventInline, *inlines]
        return inlines

    @admin.display(description=_("cost"), ordering="cost")
    def cost_display(self, session: ChargingSession) -> str:
        # Kept with the session at its stop (``stations.tariffs``); none without a tariff.
        return f"{session.cost} {session.cost_currency}" if session.cost is not None else "—"

    stop_reason_label = ocpp_value_display(
        "stop_reason", ChargingSession._meta.get_field("stop_reason").verbose_name
    )
    readonly_fields = ["stop_reason_label"]

    def get_fields(self, request, obj=None):
        # The station's stop reason in the reader's language, where the raw one was.
        fields = [name for name in super().get_fields(request, obj) if name != "stop_reason_label"]
        return ["stop_reason_label" if name == "stop_reason" else name for name in fields]

    def has_correct_permission(self, request) -> bool:
        return request.user.has_perm("stations.correct_chargingsession")

    @admin.action(description=_("Close or correct the energy…"), permissions=["correct"])
    def close_or_correct(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(
                request, gettext("Select exactly one session to correct."), messages.ERROR
            )
            return None
        session = queryset.get()
        form = SessionCorrectionForm(request.POST if confirmed(request) else None)
        if form.is_bound and form.is_valid():
            data = form.cleaned_data
            try:
                if session.is_active:
                    session_close_by_staff(
                        session=session,
                        user=request.user,
                        reason=data["reason"],
                        energy_wh=data["energy_wh"],
                        stopped_at=data["stopped_at"],
                    )
                    done = gettext("Session %(session)s closed.")
                else:
                    session_correct_energy(
                        session=session,
                        user=request.user,
                        reason=data["reason"],
                        energy_wh=data["energy_wh"],
                    )
                    done = gettext("Energy of session %(session)s corrected.")
            except ValidationError as error:
                add_service_error(form, error)
            else:
                self.message_user(request, done % {"session": session}, messages.SUCCESS)
                return None
        if session.is_active:
            title = gettext("Close session %(session)s") % {"session": session}
            intro = gettext(
                "The station never ended this session. Closing it frees the vehicle; the "
                "station's readings stay as they are, and a stop it sends later is kept as a "
                "duplicate."
            )
        else:
            title = gettext("Correct the energy of session %(session)s") % {"session": session}
            intro = gettext(
                "Current energy: %(energy)s Wh. The station's readings stay as they are."
            ) % {"energy": "–" if session.energy_wh is None else session.energy_wh}
        return action_page(
            self,
            request,
            queryset,
            form=form,
            action="close_or_correct",
            title=title,
            intro=intro,
            submit_label=gettext("Save"),
        )


@admin.register(SecurityEvent)
class SecurityEventAdmin(CompanyScopedAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    """Possibly cloned or probing vehicle identities, as the services recorded them."""

    list_display = ["created_at", "kind", "severity", "station", "id_tag", "notified"]
    list_filter = ["kind", "severity", "station"]
    search_fields = ["id_tag"]
    list_select_related = ["station"]
    date_hierarchy = "created_at"
    fields = ["created_at", "kind", "severity", "station", "id_tag", "notified", "pretty_details"]
    readonly_fields = [*fields, "pretty_other_companies_details"]

    def get_fields(self, request, obj=None):
        if is_superuser(request.user):
            return [*self.fields, "pretty_other_companies_details"]
        return self.fields

    @admin.display(description=_("details"))
    def pretty_details(self, event: SecurityEvent) -> str:
        return _pretty_json(event.details)

    @admin.display(description=_("other companies' details"))
    def pretty_other_companies_details(self, event: SecurityEvent) -> str:
        return _pretty_json(event.other_companies_details)


def _pretty_json(value) -> str:
    return format_html("<pre>{}</pre>", json.dumps(value, indent=2, ensure_ascii=False))


# --- Vehicles, with pairing at a station ------------------------------------------------------

admin.site.unregister(Vehicle)


@admin.register(Vehicle)
class VehicleAdmin(FleetVehicleAdmin):
    """Fleet's vehicle admin, with the action fleet (which knows no station) cannot offer."""

    actions = [*FleetVehicleAdmin.actions, "pair_at_station"]

    def has_pair_permission(self, request) -> bool:
        return request.user.has_perm("badges.add_pairingwindow")

    @admin.action(description=_("Pair at a station…"), permissions=["pair"])
    def pair_at_station(self, request, queryset):
        return pairing_action(
            self,
            request,
            queryset,
            form_class=VehiclePairingForm,
            selected_as="vehicle",
            select_one_message=gettext("Select exactly one vehicle to pair."),
            action="pair_at_station",
            title=gettext("Pair at a station"),
            intro=gettext(
                "The MAC address of the next unknown vehicle that plugs in at the chosen station "
                "within the window becomes this vehicle's Autocharge badge."
            ),
        )
