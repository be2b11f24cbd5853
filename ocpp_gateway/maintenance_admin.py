"""Admin of firmware campaigns and log uploads: create one (the services send the commands),
then follow each station's progress; download an uploaded log (staff of the station's company
only, like every admin page)."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from fleet.models import AuthorizationGroup
from ocpp_gateway.models import FirmwareCampaign, FirmwareProgress, LogProgress, LogRequest
from ocpp_gateway.operations.commands import CommandInvalid
from ocpp_gateway.operations.firmware import (
    FirmwareOrder,
    campaign_progress,
    campaign_stations,
    firmware_campaign_start,
    update_progress,
)
from ocpp_gateway.operations.log_uploads import log_progress, log_request_send
from ocpp_gateway.views import log_file_response, upload_base_url
from stations.models import Station
from supervision import tenancy
from supervision.admin import CompanyScopedAdminMixin, ocpp_value_display
from supervision.ocpp_labels import ocpp_label_html

OPERATE_PERMISSION = "ocpp_gateway.add_command"


class FirmwareCampaignForm(forms.ModelForm):
    """The campaign, and which stations it goes to: chosen ones, or a vendor (and model)
    and/or an authorization group."""

    location = forms.URLField(
        label=capfirst(_("firmware location")),
        max_length=512,
        assume_scheme="https",
        help_text=_("Where the stations download it."),
    )
    vendor = forms.CharField(label=capfirst(_("vendor")), required=False)
    model = forms.CharField(label=capfirst(_("model")), required=False)
    group = forms.ModelChoiceField(
        label=capfirst(_("authorization group")),
        queryset=AuthorizationGroup.objects.all(),
        required=False,
    )
    stations = forms.ModelMultipleChoiceField(
        label=capfirst(_("stations")),
        queryset=Station.objects.all(),
        required=False,
        help_text=_("Chosen stations; if none, those of the vendor, model and group above."),
    )

    class Meta:
        model = FirmwareCampaign
        fields = [
            "company",
            "name",
            "location",
            "retrieve_at",
            "install_at",
            "retries",
            "retry_interval",
            "signing_certificate",
            "signature",
        ]

    user = None  # set by the admin: whose stations may be chosen

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        visible = tenancy.scope(Station.objects.all(), self.user)
        self.fields["stations"].queryset = visible
        self.fields["group"].queryset = tenancy.scope(AuthorizationGroup.objects.all(), self.user)

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("company") is None:
            return cleaned  # the field's own error says so
        self.targets = list(
            campaign_stations(
                tenancy.scope(Station.objects.all(), self.user),
                company=cleaned["company"],
                vendor=cleaned.get("vendor", ""),
                model=cleaned.get("model", ""),
                group=cleaned.get("group"),
                chosen=cleaned.get("stations") or [],
            )
        )
        if not self.targets:
            raise forms.ValidationError(
                _("No station of the company matches: choose stations, a vendor or a group.")
            )
        if cleaned.get("location") and cleaned.get("retrieve_at"):
            order = FirmwareOrder(
                **{field: cleaned.get(field) for field in FirmwareOrder.__dataclass_fields__}
            )
            try:
                order.check()
            except CommandInvalid as invalid:
                raise forms.ValidationError(invalid.message) from None
        return cleaned


@admin.register(FirmwareCampaign)
class FirmwareCampaignAdmin(CompanyScopedAdminMixin, admin.ModelAdmin):
    form = FirmwareCampaignForm
    list_display = ["name", "company", "location", "retrieve_at", "progress_summary", "created_at"]
    list_filter = ["company"]
    search_fields = ["name", "location"]
    readonly_fields = ["progress_summary", "station_progress", "created_by", "created_at"]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("updates__command")

    def has_add_permission(self, request) -> bool:
        return super().has_add_permission(request) and request.user.has_perm(OPERATE_PERMISSION)

    def has_change_permission(self, request, obj=None) -> bool:
        return False  # sent is sent: a new campaign for another firmware

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        return type(form.__name__, (form,), {"user": request.user})

    def get_fields(self, request, obj=None):
        if obj is None:
            return [*FirmwareCampaignForm.Meta.fields, "vendor", "model", "group", "stations"]
        return [*FirmwareCampaignForm.Meta.fields, *self.readonly_fields]

    def save_model(self, request, obj, form, change) -> None:
        firmware_campaign_start(campaign=obj, stations=form.targets, requested_by=request.user)

    @admin.display(description=_("progress"))
    def progress_summary(self, campaign: FirmwareCampaign) -> str:
        counts = campaign_progress(campaign)
        return ", ".join(
            _("%(step)s: %(count)d") % {"step": FirmwareProgress(step).label, "count": count}
            for step, count in counts.items()
            if count
        )

    @admin.display(description=_("stations"))
    def station_progress(self, campaign: FirmwareCampaign) -> str:
        updates = campaign.updates.select_related("station", "command").order_by("station__pk")
        return format_html(
            "<table><thead><tr><th>{}</th><th>{}</th><th>{}</th></tr></thead>"
            "<tbody>{}</tbody></table>",
            _("station"),
            _("progress"),
            _("last status reported"),
            format_html_join(
                "",
                "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
                (
                    (
                        update.station.charge_point_id,
                        FirmwareProgress(update_progress(update)).label,
                        ocpp_label_html(update.ocpp_status),
                    )
                    for update in updates
                ),
            ),
        )


class LogRequestForm(forms.ModelForm):
    class Meta:
        model = LogRequest
        fields = ["station", "log_type"]
        help_texts = {"log_type": _("OCPP 1.6 stations upload their diagnostics.")}


@admin.register(LogRequest)
class LogRequestAdmin(CompanyScopedAdminMixin, admin.ModelAdmin):
    """Logs asked of stations; each station uploads to a one-time address of the portal."""

    form = LogRequestForm
    list_display = [
        "created_at",
        "station",
        "log_type",
        "current_progress",
        "ocpp_status_label",
        "file_size",
        "download_link",
    ]
    list_filter = ["station", "log_type", "progress"]
    readonly_fields = [
        "current_progress",
        "ocpp_status_label",
        "command_link",
        "file_name",
        "file_size",
        "uploaded_at",
        "expires_at",
        "download_link",
        "requested_by",
        "created_at",
    ]
    ocpp_status_label = ocpp_value_display(
        "ocpp_status", LogRequest._meta.get_field("ocpp_status").verbose_name
    )

    def has_add_permission(self, request) -> bool:
        return super().has_add_permission(request) and request.user.has_perm(OPERATE_PERMISSION)

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def get_fields(self, request, obj=None):
        return (
            ["station", "log_type"]
            if obj is None
            else ["station", "log_type", *self.readonly_fields]
        )

    def get_urls(self):
        view = self.admin_site.admin_view(self.download_view)
        return [
            path("<int:pk>/download/", view, name="ocpp_gateway_logrequest_download"),
            *super().get_urls(),
        ]

    def save_model(self, request, obj, form, change) -> None:
        sent = log_request_send(
            station=obj.station,
            log_type=obj.log_type,
            base_url=upload_base_url(request),
            requested_by=request.user,
        )
        obj.pk = sent.pk  # the admin's redirect and message name the request sent

    def download_view(self, request, pk: int):
        if not self.has_view_permission(request):
            raise PermissionDenied
        log_request = self.get_queryset(request).filter(pk=pk).first()
        if log_request is None or not log_request.file_path:
            raise Http404
        return log_file_response(log_request)

    @admin.display(description=_("progress"))
    def current_progress(self, log_request: LogRequest) -> str:
        return LogProgress(log_progress(log_request)).label

    @admin.display(description=_("command"))
    def command_link(self, log_request: LogRequest) -> str:
        if log_request.command_id is None:
            return "-"
        return format_html(
            '<a href="{}">{}</a>',
            reverse("admin:ocpp_gateway_command_change", args=[log_request.command_id]),
            log_request.command,
        )

    @admin.display(description=_("file"))
    def download_link(self, log_request: LogRequest) -> str:
        if not log_request.file_path:
            return "-"
        return format_html(
            '<a href="{}">{}</a>',
            reverse("admin:ocpp_gateway_logrequest_download", args=[log_request.pk]),
            log_request.file_name,
        )
