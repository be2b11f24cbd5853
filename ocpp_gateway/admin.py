import json
from urllib.parse import urlencode

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import OuterRef, Subquery
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
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
from ocpp_gateway import reservations_admin  # noqa: F401  (registers the reservations admin)
from ocpp_gateway.models import Command, CommandAction, LogStatus, OcppMessage
from ocpp_gateway.operations.commands import (
    CommandInvalid,
    StationNotConnected,
    command_send,
    configuration_read_command,
    password_check,
    password_command,
    reset_command,
)
from ocpp_gateway.operations.staff_requests import autocharge_enable, local_list_sync
from ocpp_gateway.transport.message_log import redact, redact_answer, redact_request
from stations.admin import StationAdmin, StationForm
from stations.models import AutochargeReadiness, ConnectionState, Station
from supervision.admin import (
    CompanyScopedAdminMixin,
    ReadOnlyAdminMixin,
    ocpp_value_display,
    stored_text_field,
)
from supervision.ocpp_labels import ocpp_label_html
from supervision.tenancy import scope


def new_badge_url(id_tag: str, *, refused_at: int | None = None) -> str:
    """The badge form pre-filled as the seed's procedure says, for an unknown vehicle;
    ``refused_at``, the refusing station, pre-fills the company and provider (its owner's until
    a vehicle is chosen) and lets the form say when the badge would still be refused there."""
    query = {
        "rfid": id_tag,
        "visual_number": mac_of(id_tag),
        "type": BadgeType.PHYSICAL,
        "state": BadgeState.ENABLED,
        "usage": BadgeUsage.PROFESSIONAL,
        "mode": BadgeMode.VEHICLE,
        "description": autocharge_description_prefix(),
    }
    if refused_at is not None:
        query["refused_at"] = refused_at
    return f"{reverse('admin:badges_badge_add')}?{urlencode(query)}"


@admin.register(OcppMessage)
class OcppMessageAdmin(CompanyScopedAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "created_at",
        "charge_point_id",
        "direction",
        "action",
        "status",
        "ocpp_status_label",
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
        "ocpp_status_label",
        "reason",
        "id_tag",
        "create_badge",
        "pretty_payload",
    ]
    readonly_fields = fields

    ocpp_status_label = ocpp_value_display(
        "ocpp_status", OcppMessage._meta.get_field("ocpp_status").verbose_name
    )

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
            if message.reason == Reason.NOT_PERMITTED_AT_STATION and message.station_id:
                # The badge's page then says why and offers to add the station to a group.
                url = f"{url}?{urlencode({'refused_at': message.station_id})}"
            return format_html('<a href="{}">{}</a>', url, _("Open badge"))
        unknown_vehicle = (
            message.status == LogStatus.REJECTED
            and message.reason == Reason.UNKNOWN_BADGE
            and mac_of(message.id_tag)
        )
        if not unknown_vehicle:
            return ""
        url = new_badge_url(message.id_tag, refused_at=message.station_id)
        return format_html('<a href="{}">{}</a>', url, _("Create badge"))

    @admin.display(description=_("payload"))
    def pretty_payload(self, message: OcppMessage) -> str:
        # Stored redacted; this also covers rows logged before redaction existed.
        payload = redact(message.message_type, message.action, message.payload)
        return format_html("<pre>{}</pre>", json.dumps(payload, indent=2, ensure_ascii=False))


def _pretty(document) -> str:
    if document is None:
        return ""
    return format_html("<pre>{}</pre>", json.dumps(document, indent=2, ensure_ascii=False))


@admin.register(Command)
class CommandAdmin(CompanyScopedAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    """Every call made to a station, who asked, and what it answered: the command history."""

    list_display = [
        "created_at",
        "station",
        "action",
        "state",
        "ocpp_status_label",
        "origin",
        "requested_by",
        "completed_at",
    ]
    list_filter = ["state", "action", "origin", "station"]
    search_fields = ["station__charge_point_id", "unique_id", "reason"]
    list_select_related = ["station", "requested_by"]
    date_hierarchy = "created_at"
    fields = [
        "station",
        "action",
        "pretty_request",
        "state",
        "ocpp_status_label",
        "detail_text",
        "pretty_answer",
        "origin",
        "reason",
        "requested_by",
        "message_log",
        "created_at",
        "sent_at",
        "completed_at",
    ]
    readonly_fields = fields

    detail_text = stored_text_field("detail", Command._meta.get_field("detail").verbose_name)
    ocpp_status_label = ocpp_value_display(
        "ocpp_status", Command._meta.get_field("ocpp_status").verbose_name
    )

    @admin.display(description=_("request"))
    def pretty_request(self, command: Command) -> str:
        return _pretty(redact_request(command.action, command.payload))

    @admin.display(description=_("answer"))
    def pretty_answer(self, command: Command) -> str:
        return _pretty(redact_answer(command.response))

    @admin.display(description=_("OCPP messages"))
    def message_log(self, command: Command) -> str:
        if not command.unique_id:
            return ""
        changelist = reverse("admin:ocpp_gateway_ocppmessage_changelist")
        url = f"{changelist}?{urlencode({'q': command.unique_id})}"
        return format_html('<a href="{}">{}</a>', url, _("The call and its answer"))


class SendCommandForm(forms.Form):
    action = forms.ChoiceField(label=_("action"), choices=CommandAction.choices)
    payload = forms.JSONField(
        label=_("payload"),
        required=False,
        initial=dict,
        help_text=_(
            "The request in the station's protocol, in camelCase. OCPP 1.6, e.g. "
            '{"key": ["AllowedAuthenticationMethods"]} for GetConfiguration, {"type": "Soft"} '
            'for Reset, {"connectorId": 1, "idTag": "VID:A014310E004E"} for '
            'RemoteStartTransaction. OCPP 2.0.1, e.g. {"getVariableData": [{"component": '
            '{"name": "AuthCtrlr"}, "variable": {"name": "Enabled"}}]} for GetVariables, '
            '{"type": "OnIdle"} for Reset, {"idToken": {"idToken": "A014310E004E", "type": '
            '"MacAddress"}, "remoteStartId": 1} for RequestStartTransaction.'
        ),
        widget=forms.Textarea(attrs={"rows": 6, "cols": 80}),
    )


class OperatedStationForm(StationForm):
    """The station form, able to send the new password to the station."""

    push_authorization_key = forms.BooleanField(
        label=_("Send it to the station"),
        required=False,
        help_text=_(
            "Once saved, send the new password to the station: OCPP 1.6 as its "
            "AuthorizationKey (ChangeConfiguration, at most 20 characters), OCPP 2.0.1 as "
            "SecurityCtrlr.BasicAuthPassword (SetVariables). The station must be connected."
        ),
    )

    def clean(self):
        cleaned_data = super().clean()
        if not cleaned_data.get("push_authorization_key") or self.errors:
            return cleaned_data
        change = getattr(self, "password_change", None)
        if change is None or change.password is None:
            self.add_error(
                "push_authorization_key",
                _("Type or generate a new password to send: the stored one is only a hash."),
            )
            return cleaned_data
        try:
            password_check(station=self.instance, password=change.password)
        except CommandInvalid as invalid:
            self.add_error("new_password", invalid.message)
            return cleaned_data
        if self.instance.connection_state != ConnectionState.CONNECTED:
            self.add_error(
                "push_authorization_key",
                _("%(station)s is not connected: the password cannot be sent to it.")
                % {"station": self.instance.charge_point_id or _("A new station")},
            )
        return cleaned_data


def _with_push(fieldsets: list) -> list:
    """The station's fieldsets, the password's ending with the "send it" checkbox."""
    return [
        (name, {**options, "fields": [*options["fields"], "push_authorization_key"]})
        if "new_password" in options["fields"]
        else (name, options)
        for name, options in fieldsets
    ]


class OperatedStationAdmin(StationAdmin):
    """The station admin, with the operations only the gateway can carry out: commands, the
    Autocharge configuration, the local list, and sending the station its password."""

    actions = [
        *StationAdmin.actions,
        "read_configuration",
        "enable_autocharge",
        "sync_local_list",
        "clear_cache",
        "soft_reset",
        "hard_reset",
    ]
    form = OperatedStationForm
    fieldsets = [
        *_with_push(StationAdmin.fieldsets),
        (_("Commands"), {"fields": ["command_links", "recent_commands"]}),
    ]
    readonly_fields = [*StationAdmin.readonly_fields, "command_links", "recent_commands"]

    def has_operate_permission(self, request) -> bool:
        return request.user.has_perm("ocpp_gateway.add_command")

    def get_urls(self):
        view = self.admin_site.admin_view(self.send_command_view)
        return [
            path("<int:station_id>/command/", view, name="stations_station_command"),
            *super().get_urls(),
        ]

    # --- Station page ---------------------------------------------------------------------

    def save_model(self, request, obj, form, change) -> None:
        super().save_model(request, obj, form, change)
        if not form.cleaned_data.get("push_authorization_key"):
            return
        action, payload = password_command(station=obj, password=form.password_change.password)
        try:
            command = command_send(
                station=obj, action=action, payload=payload, requested_by=request.user
            )
        except StationNotConnected:  # it went away since the form was checked
            messages.error(
                request,
                _(
                    "The password was saved but not sent: %(station)s is no longer connected. "
                    "Set it on the station by hand, or send a new one once it is back."
                )
                % {"station": obj.charge_point_id},
            )
            return
        messages.success(
            request,
            format_html(
                '{} <a href="{}">{}</a>',
                _("The new password was sent to %(station)s.") % {"station": obj.charge_point_id},
                reverse("admin:ocpp_gateway_command_change", args=[command.pk]),
                _("Its answer"),
            ),
        )

    @admin.display(description=_("operate"))
    def command_links(self, station: Station) -> str:
        if station.pk is None:
            return ""
        history = reverse("admin:ocpp_gateway_command_changelist")
        history += f"?{urlencode({'station__id__exact': station.pk})}"
        return format_html(
            '<a href="{}">{}</a> · <a href="{}">{}</a>',
            reverse("admin:stations_station_command", args=[station.pk]),
            _("Send a command"),
            history,
            _("Command history"),
        )

    @admin.display(description=_("recent commands"))
    def recent_commands(self, station: Station) -> str:
        commands = list(station.commands.all()[:5]) if station.pk else []
        if not commands:
            return _("None yet.")
        return format_html(
            "<table><tbody>{}</tbody></table>",
            format_html_join(
                "",
                '<tr><td>{}</td><td><a href="{}">{}</a></td><td>{}</td><td>{}</td></tr>',
                (
                    (
                        date_format(
                            timezone.localtime(command.created_at), "SHORT_DATETIME_FORMAT"
                        ),
                        reverse("admin:ocpp_gateway_command_change", args=[command.pk]),
                        command.action,
                        command.get_state_display(),
                        ocpp_label_html(command.ocpp_status),
                    )
                    for command in commands
                ),
            ),
        )

    # --- Send any command -----------------------------------------------------------------

    def send_command_view(self, request, station_id: int):
        station = self.get_object(request, str(station_id))
        if station is None:
            raise Http404
        if not self.has_operate_permission(request):
            raise PermissionDenied
        form = SendCommandForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                command = command_send(
                    station=station,
                    action=form.cleaned_data["action"],
                    payload=form.cleaned_data["payload"],
                    requested_by=request.user,
                )
            except CommandInvalid as invalid:
                form.add_error(
                    invalid.field if invalid.field in form.fields else None, invalid.message
                )
            except StationNotConnected as offline:
                messages.error(request, _("%(station)s is not connected.") % {"station": station})
                return redirect("admin:ocpp_gateway_command_change", offline.command.pk)
            else:
                messages.success(
                    request,
                    _("%(action)s sent to %(station)s; its answer will show here.")
                    % {"action": command.action, "station": station},
                )
                return redirect("admin:ocpp_gateway_command_change", command.pk)
        context = {
            **self.admin_site.each_context(request),
            "title": _("Send a command to %(station)s") % {"station": station},
            "opts": self.opts,
            "original": station,
            "form": form,
        }
        return TemplateResponse(request, "admin/stations/station/send_command.html", context)

    # --- Actions on the list --------------------------------------------------------------

    def _send_each(self, request, queryset, command_for) -> None:
        """Send each station ``command_for(station)``: ``(action, payload)`` in its protocol."""
        sent, offline = 0, []
        for station in queryset:
            action, payload = command_for(station)
            try:
                command_send(
                    station=station, action=action, payload=payload, requested_by=request.user
                )
                sent += 1
            except StationNotConnected:
                offline.append(str(station))
        self._report(request, sent, offline)

    def _report(self, request, started: int, offline: list[str]) -> None:
        if started:
            messages.success(
                request,
                _("Sent to %(count)d station(s); the answers show in the command history.")
                % {"count": started},
            )
        if offline:
            messages.error(
                request, _("Not connected: %(stations)s.") % {"stations": ", ".join(offline)}
            )

    @admin.action(description=_("Read the configuration"), permissions=["operate"])
    def read_configuration(self, request, queryset) -> None:
        self._send_each(request, queryset, configuration_read_command)

    @admin.action(description=_("Clear the authorization cache"), permissions=["operate"])
    def clear_cache(self, request, queryset) -> None:
        self._send_each(request, queryset, lambda station: (CommandAction.CLEAR_CACHE, {}))

    @admin.action(description=_("Reset (soft)"), permissions=["operate"])
    def soft_reset(self, request, queryset) -> None:
        self._send_each(request, queryset, lambda station: reset_command(station, hard=False))

    @admin.action(description=_("Reset (hard)"), permissions=["operate"])
    def hard_reset(self, request, queryset) -> None:
        self._send_each(request, queryset, lambda station: reset_command(station, hard=True))

    @admin.action(description=_("Enable Autocharge"), permissions=["operate"])
    def enable_autocharge(self, request, queryset) -> None:
        started, offline, no_profile = 0, [], []
        for station in queryset:
            try:
                readiness = autocharge_enable(station=station, requested_by=request.user)
            except StationNotConnected:
                offline.append(str(station))
                continue
            if readiness == AutochargeReadiness.NO_PROFILE:
                no_profile.append(str(station))
            else:
                started += 1
        if started:
            messages.success(
                request,
                _(
                    "Configuring %(count)d station(s) for Autocharge; the readiness column shows "
                    "the outcome."
                )
                % {"count": started},
            )
        if no_profile:
            messages.warning(
                request,
                _("No Autocharge profile for: %(stations)s.") % {"stations": ", ".join(no_profile)},
            )
        if offline:
            messages.error(
                request, _("Not connected: %(stations)s.") % {"stations": ", ".join(offline)}
            )

    @admin.action(description=_("Sync the local authorization list"), permissions=["operate"])
    def sync_local_list(self, request, queryset) -> None:
        started, offline = 0, []
        for station in queryset:
            try:
                local_list_sync(station=station, requested_by=request.user)
                started += 1
            except StationNotConnected:
                offline.append(str(station))
        self._report(request, started, offline)


# The gateway extends the stations' own admin: the stations app does not know about OCPP.
admin.site.unregister(Station)
admin.site.register(Station, OperatedStationAdmin)

# Firmware campaigns and log uploads (issue #17): their own module.
from ocpp_gateway import maintenance_admin  # noqa: E402, F401
