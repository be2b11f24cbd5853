"""Reads about stations: their Autocharge profile, reported configuration and local list."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime

from django.db.models import F, OuterRef, Q, Subquery
from django.utils import timezone

from badges.authorization import AuthorizationStatus
from badges.models import Badge
from stations.autocharge import (
    ReportedKey,
    Setting,
    configuration_of,
    matching_profile,
    variable_key,
)
from stations.models import (
    AuthMode,
    AutochargeProfile,
    AutochargeSetting,
    ChargingSession,
    OcppVersion,
    Station,
)

# OCPP 1.6 idTag is CiString20: a longer tag cannot go into a local list.
LOCAL_LIST_ID_TAG_MAX_LENGTH = 20


@dataclass(frozen=True)
class LocalListItem:
    """An id tag as a station's local authorization list holds it."""

    id_tag: str
    status: str = AuthorizationStatus.ACCEPTED
    expires_at: datetime | None = None


def _for_protocol(station: Station) -> Q:
    """The settings that apply to the station's protocol: 1.6 keys, or 2.0.1 variables."""
    if station.ocpp_version == OcppVersion.V201:
        return ~Q(component="")
    return ~Q(key="")


class ProfileVendors:
    """The vendors some Autocharge profile names, kept by each process for a second: after a
    restart thousands of stations boot at once and each asks whether a profile applies to it,
    while most vendors have none. A profile saved in this process counts at once (signals),
    one saved elsewhere within ``KEEP_SECONDS``."""

    KEEP_SECONDS = 1.0

    def __init__(self) -> None:
        self._vendors: frozenset[str] = frozenset()
        self._read_at = float("-inf")

    @property
    def stale(self) -> bool:
        return time.monotonic() - self._read_at > self.KEEP_SECONDS

    def read(self) -> None:
        """From the database (the caller's thread may use it), unless fresh: the stations of a
        storm that found them stale queue their reads behind the first one."""
        if not self.stale:
            return
        read_at = time.monotonic()
        vendors = AutochargeProfile.objects.values_list("vendor", flat=True).distinct()
        self._vendors = frozenset(vendor.strip().casefold() for vendor in vendors)
        self._read_at = read_at

    def may_have_profile(self, vendor: str) -> bool:
        """False when no profile can match a station of this vendor (``read`` it when stale)."""
        return vendor.strip().casefold() in self._vendors

    def forget(self, **_) -> None:
        self._read_at = float("-inf")


profile_vendors = ProfileVendors()


def autocharge_profile_for(*, station: Station) -> AutochargeProfile | None:
    """The profile that says how to enable Autocharge on this station (by its boot data, and
    among those with settings for its protocol)."""
    if not station.vendor:
        return None
    settings = AutochargeSetting.objects.filter(_for_protocol(station))
    candidates = AutochargeProfile.objects.filter(
        vendor__iexact=station.vendor.strip(), pk__in=settings.values("profile_id")
    )
    profile = matching_profile(
        candidates,
        vendor=station.vendor,
        model=station.model,
        firmware_version=station.firmware_version,
    )
    return profile


def profile_settings(*, profile: AutochargeProfile, station: Station) -> list[Setting]:
    """The profile's settings for the station's protocol."""
    return [
        Setting(
            key=setting.key or variable_key(setting.component, setting.variable),
            value=setting.value,
            mode=setting.mode,
        )
        for setting in profile.settings.filter(_for_protocol(station))
    ]


def station_configuration(*, station: Station) -> dict[str, ReportedKey]:
    """The station's configuration as last read, by lower-case key."""
    return configuration_of(
        ReportedKey(key=row.key, value=row.value, readonly=row.readonly)
        for row in station.configuration_keys.all()
    )


def local_list_wanted(*, station: Station, limit: int) -> tuple[list[LocalListItem], int]:
    """The badges that may charge at this station, as local list entries, and how many were
    left out to stay within ``limit`` (the station's ``LocalAuthListMaxLength``).

    The same rules as the authorization decision, minus what only holds at one moment (a
    session elsewhere): enabled, not expired, vehicle active, and the station belongs to the
    badge's company or to one of its groups. When the list is too long, the badges that
    charged here most recently come first.
    """
    now = timezone.now()
    in_groups = Badge.groups.through.objects.filter(authorizationgroup__stations=station).values(
        "badge_id"
    )
    last_here = (
        ChargingSession.objects.filter(badge=OuterRef("pk"), station=station)
        .order_by("-started_at")
        .values("started_at")[:1]
    )
    badges = (
        Badge.objects.enabled()
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
        .filter(Q(vehicle__isnull=True) | Q(vehicle__active=True))
        .filter(company__archived_at__isnull=True)
        .filter(Q(company_id=station.company_id) | Q(pk__in=in_groups))
        .annotate(last_here=Subquery(last_here))
        .order_by(F("last_here").desc(nulls_last=True), "rfid")
        .values_list("rfid", "expires_at")
    )
    items = [
        LocalListItem(id_tag=rfid, expires_at=expires_at)
        for rfid, expires_at in badges
        if len(rfid) <= LOCAL_LIST_ID_TAG_MAX_LENGTH
    ]
    return items[:limit], max(0, len(items) - limit)


def local_list_held(*, station: Station) -> dict[str, LocalListItem]:
    """The local list the station accepted last, by id tag."""
    return {
        entry.id_tag: LocalListItem(
            id_tag=entry.id_tag, status=entry.status, expires_at=entry.expires_at
        )
        for entry in station.local_list_entries.all()
    }


def needs_local_list(*, station: Station) -> bool:
    """An open-charge station accepts everyone: a list of badges would add nothing."""
    return station.auth_mode != AuthMode.OPEN
