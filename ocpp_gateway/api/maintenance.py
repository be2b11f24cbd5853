"""REST for firmware campaigns (``/firmware-campaigns/``) and log uploads (``/log-uploads/``):
created through ``ocpp_gateway.operations.firmware`` and
``ocpp_gateway.operations.log_uploads``, read within the user's company like every endpoint."""

from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied

from fleet.models import AuthorizationGroup, Company
from ocpp_gateway.models import FirmwareCampaign, FirmwareUpdate, LogRequest, LogType
from ocpp_gateway.operations.commands import CommandInvalid
from ocpp_gateway.operations.firmware import (
    campaign_progress,
    campaign_stations,
    firmware_campaign_start,
    update_progress,
)
from ocpp_gateway.operations.log_uploads import log_progress, log_request_send
from ocpp_gateway.views import log_file_response, upload_base_url
from stations.models import Station
from supervision import tenancy
from supervision.api import CompanyScopedSerializerMixin, CompanyScopedViewSetMixin

OPERATE_PERMISSION = "ocpp_gateway.add_command"  # sending anything to a station


def _check_may_operate(user) -> None:
    if not user.has_perm(OPERATE_PERMISSION):
        raise PermissionDenied(_("Sending commands to stations needs the add command right."))


class FirmwareUpdateSerializer(serializers.ModelSerializer):
    progress = serializers.SerializerMethodField()

    class Meta:
        model = FirmwareUpdate
        fields = ["id", "station", "progress", "ocpp_status", "command", "updated_at"]

    def get_progress(self, update: FirmwareUpdate) -> str:
        return update_progress(update)


class FirmwareCampaignSerializer(CompanyScopedSerializerMixin, serializers.ModelSerializer):
    """A campaign; on creation, its stations: ``stations`` (ids), or ``vendor`` (and
    ``model``) and/or ``group``. ``progress`` counts the stations at each step."""

    company = serializers.PrimaryKeyRelatedField(
        queryset=Company.objects.all(), required=False, help_text="Default: the user's company."
    )
    vendor = serializers.CharField(write_only=True, required=False, default="")
    model = serializers.CharField(write_only=True, required=False, default="")
    group = serializers.PrimaryKeyRelatedField(
        queryset=AuthorizationGroup.objects.all(), write_only=True, required=False
    )
    stations = serializers.PrimaryKeyRelatedField(
        queryset=Station.objects.all(), many=True, write_only=True, required=False
    )
    progress = serializers.SerializerMethodField()
    updates = FirmwareUpdateSerializer(many=True, read_only=True)

    class Meta:
        model = FirmwareCampaign
        fields = [
            "id",
            "company",
            "name",
            "location",
            "retrieve_at",
            "install_at",
            "retries",
            "retry_interval",
            "signing_certificate",
            "signature",
            "vendor",
            "model",
            "group",
            "stations",
            "created_by",
            "created_at",
            "progress",
            "updates",
        ]
        read_only_fields = ["created_by", "created_at"]

    def get_progress(self, campaign: FirmwareCampaign) -> dict[str, int]:
        return campaign_progress(campaign)

    def validate(self, attrs):
        user = self.context["request"].user
        if attrs.get("company") is None:
            attrs["company"] = tenancy.company_of(user)
            if attrs["company"] is None:
                raise serializers.ValidationError({"company": [_("This field is required.")]})
        targets = campaign_stations(
            tenancy.scope(Station.objects.all(), user),
            company=attrs["company"],
            vendor=attrs.pop("vendor", ""),
            model=attrs.pop("model", ""),
            group=attrs.pop("group", None),
            chosen=attrs.pop("stations", []),
        )
        attrs["targets"] = list(targets)
        if not attrs["targets"]:
            raise serializers.ValidationError(
                {
                    "stations": [
                        _("No station of the company matches: name stations, a vendor or a group.")
                    ]
                }
            )
        return attrs

    def create(self, validated_data):
        targets = validated_data.pop("targets")
        try:
            return firmware_campaign_start(
                campaign=FirmwareCampaign(**validated_data),
                stations=targets,
                requested_by=self.context["request"].user,
            )
        except CommandInvalid as invalid:
            raise serializers.ValidationError({invalid.field: [invalid.message]}) from None


class FirmwareCampaignViewSet(
    CompanyScopedViewSetMixin,
    mixins.CreateModelMixin,
    viewsets.ReadOnlyModelViewSet,
):
    """Firmware campaigns: POST starts one (UpdateFirmware to each station, in its protocol);
    GET shows each station's progress from its FirmwareStatusNotifications."""

    queryset = FirmwareCampaign.objects.prefetch_related("updates__command")
    serializer_class = FirmwareCampaignSerializer
    filterset_fields = ["company"]

    def perform_create(self, serializer):
        _check_may_operate(self.request.user)
        serializer.save()


class LogRequestSerializer(CompanyScopedSerializerMixin, serializers.ModelSerializer):
    """A request for a station's log; POST ``{"station", "log_type"}`` sends it (1.6 stations:
    GetDiagnostics, always diagnostics)."""

    progress = serializers.SerializerMethodField()
    log_type = serializers.ChoiceField(choices=LogType.choices, default=LogType.DIAGNOSTICS)
    downloadable = serializers.SerializerMethodField()

    class Meta:
        model = LogRequest
        fields = [
            "id",
            "station",
            "log_type",
            "progress",
            "ocpp_status",
            "command",
            "file_name",
            "file_size",
            "uploaded_at",
            "expires_at",
            "requested_by",
            "created_at",
            "downloadable",
        ]
        read_only_fields = [
            "command",
            "ocpp_status",
            "file_name",
            "file_size",
            "uploaded_at",
            "expires_at",
            "requested_by",
            "created_at",
        ]

    def get_progress(self, request: LogRequest) -> str:
        return log_progress(request)

    def get_downloadable(self, request: LogRequest) -> bool:
        return bool(request.file_path)

    def create(self, validated_data):
        request = self.context["request"]
        return log_request_send(
            station=validated_data["station"],
            log_type=validated_data["log_type"],
            base_url=upload_base_url(request),
            requested_by=request.user,
        )


class LogRequestViewSet(
    CompanyScopedViewSetMixin,
    mixins.CreateModelMixin,
    viewsets.ReadOnlyModelViewSet,
):
    """Logs asked of stations and uploaded by them to the portal; ``download`` gives the file."""

    queryset = LogRequest.objects.select_related("command")
    serializer_class = LogRequestSerializer
    filterset_fields = ["station", "log_type", "progress"]

    def perform_create(self, serializer):
        _check_may_operate(self.request.user)
        serializer.save()

    @extend_schema(
        responses={
            (200, "application/octet-stream"): OpenApiResponse(description="The file."),
            404: OpenApiResponse(description="Nothing uploaded yet."),
        }
    )
    @action(detail=True, methods=["get"])
    def download(self, request, pk=None):
        log_request = self.get_object()
        if not log_request.file_path:
            raise Http404
        return log_file_response(log_request)
