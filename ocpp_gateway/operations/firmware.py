"""Firmware updates: UpdateFirmware to one station or to a campaign's stations, in each
station's protocol (OCPP 1.6, or 2.0.1 with its signed-firmware fields), and their progress
from the stations' FirmwareStatusNotifications (1.6 Firmware Management, 2.0.1 block L)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils.translation import gettext

from ocpp_gateway.models import (
    CommandAction,
    FirmwareCampaign,
    FirmwareProgress,
    FirmwareUpdate,
    progress_before_report,
)
from ocpp_gateway.operations.commands import (
    CommandInvalid,
    StationNotConnected,
    command_send,
    protocol_of,
    validate_command,
)
from ocpp_gateway.versions.v16.conversions import format_timestamp
from stations import services as station_services
from stations.models import OcppVersion, Station

# What a FirmwareStatusNotification's status (1.6 and 2.0.1 enums together) says of the
# progress; Idle says nothing of an update (the answer to a TriggerMessage with none running).
_PROGRESS_OF_STATUS = {
    "Downloading": FirmwareProgress.DOWNLOADING,
    "DownloadScheduled": FirmwareProgress.DOWNLOADING,
    "DownloadPaused": FirmwareProgress.DOWNLOADING,
    "Downloaded": FirmwareProgress.DOWNLOADED,
    "SignatureVerified": FirmwareProgress.DOWNLOADED,
    "Installing": FirmwareProgress.INSTALLING,
    "InstallScheduled": FirmwareProgress.INSTALLING,
    "InstallRebooting": FirmwareProgress.INSTALLING,
    "Installed": FirmwareProgress.INSTALLED,
    "DownloadFailed": FirmwareProgress.FAILED,
    "InstallationFailed": FirmwareProgress.FAILED,
    "InstallVerificationFailed": FirmwareProgress.FAILED,
    "InvalidSignature": FirmwareProgress.FAILED,
}


@dataclass(frozen=True)
class FirmwareOrder:
    """What every station of an update is told; the 2.0.1-only fields are left out for 1.6."""

    location: str
    retrieve_at: datetime
    install_at: datetime | None = None
    retries: int | None = None
    retry_interval: int | None = None
    signing_certificate: str = ""
    signature: str = ""

    @classmethod
    def of_campaign(cls, campaign: FirmwareCampaign) -> FirmwareOrder:
        return cls(
            location=campaign.location,
            retrieve_at=campaign.retrieve_at,
            install_at=campaign.install_at,
            retries=campaign.retries,
            retry_interval=campaign.retry_interval,
            signing_certificate=campaign.signing_certificate,
            signature=campaign.signature,
        )

    def payload(self, version: str, request_id: int) -> dict[str, Any]:
        retry = {
            key: value
            for key, value in (("retries", self.retries), ("retryInterval", self.retry_interval))
            if value is not None
        }
        if version == OcppVersion.V201:
            firmware: dict[str, Any] = {
                "location": self.location,
                "retrieveDateTime": format_timestamp(self.retrieve_at),
            }
            if self.install_at is not None:
                firmware["installDateTime"] = format_timestamp(self.install_at)
            if self.signing_certificate:
                firmware["signingCertificate"] = self.signing_certificate
            if self.signature:
                firmware["signature"] = self.signature
            return {"requestId": request_id, "firmware": firmware, **retry}
        return {
            "location": self.location,
            "retrieveDate": format_timestamp(self.retrieve_at),
            **retry,
        }

    def check(self) -> None:
        """Raise CommandInvalid unless both protocols' schemas take the order."""
        for version in (OcppVersion.V16, OcppVersion.V201):
            validate_command(
                action=CommandAction.UPDATE_FIRMWARE,
                payload=self.payload(version, request_id=1),
                version=version,
            )


def firmware_update_send(
    *,
    station: Station,
    order: FirmwareOrder,
    campaign: FirmwareCampaign | None = None,
    requested_by=None,
) -> FirmwareUpdate:
    """Record the update and send the station its UpdateFirmware. A station that is not
    connected gets a failed command (the update shows ``failed``), not an exception; a payload
    its schema refuses raises CommandInvalid and records nothing."""
    with transaction.atomic():
        update = FirmwareUpdate.objects.create(
            station=station, campaign=campaign, location=order.location
        )
        # The primary key is the requestId: known only once the row exists.
        payload = order.payload(protocol_of(station), request_id=update.pk)
        try:
            update.command = command_send(
                station=station,
                action=CommandAction.UPDATE_FIRMWARE,
                payload=payload,
                requested_by=requested_by,
            )
        except StationNotConnected as offline:
            update.command = offline.command
            update.progress = FirmwareProgress.FAILED
        update.save(update_fields=["command", "progress"])
    return update


def firmware_campaign_start(
    *, campaign: FirmwareCampaign, stations: Iterable[Station], requested_by=None
) -> FirmwareCampaign:
    """Save the campaign and send its firmware to each station (see firmware_update_send).
    Raises CommandInvalid, nothing saved, when a station's protocol refuses the order."""
    stations = list(stations)
    if not stations:
        raise CommandInvalid(gettext("The campaign names no station."), field="stations")
    order = FirmwareOrder.of_campaign(campaign)
    order.check()
    campaign.created_by = requested_by
    campaign.save()
    for station in stations:
        firmware_update_send(
            station=station, order=order, campaign=campaign, requested_by=requested_by
        )
    return campaign


def campaign_stations(
    stations: QuerySet[Station],
    *,
    company,
    vendor: str = "",
    model: str = "",
    group=None,
    chosen: Iterable[Station] = (),
) -> QuerySet[Station]:
    """The stations a campaign of ``company`` goes to, among ``stations`` (those the user may
    operate) of that company: the chosen ones if any, else those of the vendor (and model)
    and/or of the authorization group."""
    stations = stations.filter(company=company)
    chosen = [station.pk for station in chosen]
    if chosen:
        return stations.filter(pk__in=chosen)
    if not (vendor or model or group):
        return stations.none()
    if vendor:
        stations = stations.filter(vendor__iexact=vendor)
    if model:
        stations = stations.filter(model__iexact=model)
    if group is not None:
        stations = stations.filter(pk__in=group.stations.values("pk"))
    return stations


def firmware_status_record(*, station: Station, status: str, request_id: int | None) -> None:
    """A FirmwareStatusNotification: the station's firmware status, and the progress of the
    update it names (2.0.1 ``requestId``; without one, the station's latest update)."""
    station_services.station_record_firmware_status(station=station, status=status)
    updates = FirmwareUpdate.objects.filter(station=station)
    update = (
        updates.filter(pk=request_id).first()
        if request_id is not None
        else updates.order_by("-created_at", "-pk").first()
    )
    if update is None:
        return
    update.ocpp_status = status[:32]
    update.progress = _PROGRESS_OF_STATUS.get(status, update.progress)
    update.save(update_fields=["ocpp_status", "progress", "updated_at"])


def update_progress(update: FirmwareUpdate) -> str:
    """The update's progress, the command's fate included until the station reports."""
    if update.progress != FirmwareProgress.PENDING:
        return update.progress
    return progress_before_report(update.command)


def campaign_progress(campaign: FirmwareCampaign) -> dict[str, int]:
    """How many of the campaign's stations are at each step, every step named."""
    # .all(): the updates and their commands prefetched by the list, when they are.
    counts = Counter(update_progress(update) for update in campaign.updates.all())
    return {progress.value: counts.get(progress.value, 0) for progress in FirmwareProgress}
