"""The one authorization decision, for Authorize and StartTransaction, RFID and Autocharge alike.

``decide`` is pure: it looks only at facts already loaded. ``authorize`` loads those facts in at
most four queries (five while another badge's reservation holds at the station). The domain
speaks in its own terms (a status and a reason); the statuses are OCPP 1.6's
``idTagInfo.status`` strings so the gateway maps them without a table.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from badges.identifiers import IdTagError, is_autocharge_tag, normalize_id_tag
from badges.models import Badge, BadgeState, Reservation

if TYPE_CHECKING:
    from fleet.models import Company, Vehicle
    from stations.models import Station


class AuthorizationStatus(models.TextChoices):
    ACCEPTED = "Accepted", _("Accepted")
    BLOCKED = "Blocked", _("Blocked")
    EXPIRED = "Expired", _("Expired")
    INVALID = "Invalid", _("Invalid")
    CONCURRENT_TX = "ConcurrentTx", _("Already charging elsewhere")


class Reason(models.TextChoices):
    """Why a decision was taken. Staff see it next to the log entry; stations never do."""

    ACCEPTED = "accepted", _("Badge accepted")
    PAIRED = "paired", _("Unknown vehicle enrolled by pairing mode, accepted")
    OPEN_CHARGE = "open_charge", _("Open-charge station: everyone is accepted")
    MALFORMED_ID_TAG = "malformed_id_tag", _("Malformed VID tag (no usable MAC address)")
    UNSUPPORTED_IDENTIFIER = (
        "unsupported_identifier",
        _("Kind of identifier not accepted here (only RFID cards and vehicle MAC addresses)"),
    )
    UNKNOWN_BADGE = "unknown_badge", _("Unknown badge")
    BADGE_DISABLED = "badge_disabled", _("Badge disabled")
    BADGE_EXPIRED = "badge_expired", _("Badge expired")
    COMPANY_ARCHIVED = "company_archived", _("The badge's company is archived")
    VEHICLE_INACTIVE = "vehicle_inactive", _("Vehicle inactive")
    NOT_PERMITTED_AT_STATION = "not_permitted_at_station", _("Badge not permitted at this station")
    CONCURRENT_SESSION = "concurrent_session", _("Badge already charging at another station")
    # Reservations.
    RESERVED_FOR_ANOTHER = "reserved_for_another", _("Connector reserved for another badge")


# --- Reservations ------------------------------------------------------------------------------


@dataclass(frozen=True)
class HeldConnector:
    """A reservation holding at the station: its connector (0: any one) for a badge, until."""

    connector_id: int
    badge_id: int
    expires_at: datetime


def reserved_for_another(facts: AuthorizationFacts) -> bool:
    """Whether the station's reservations leave no connector to this tag: one reserved for
    another badge is taken, and each of their "any connector" reservations takes one more of
    the free ones (OCPP 2.0.1 H01.FR.xx: an unspecified reservation keeps one EVSE free).
    ``connector_id`` unknown (Authorize): refused only when no connector is left at all. The
    badge's own reservation there is what it uses. Past their expiry, reservations hold
    nothing."""
    holding = [held for held in facts.reservations if held.expires_at > facts.now]
    badge_id = facts.badge.pk if facts.badge is not None else None
    own = [held for held in holding if held.badge_id == badge_id]
    connector = facts.connector_id or None
    if any(connector is None or held.connector_id in (0, connector) for held in own):
        return False
    others = [held for held in holding if held.badge_id != badge_id]
    if not others:
        return False
    taken = {held.connector_id for held in others if held.connector_id}
    if connector is not None and connector in taken:
        return True
    free = max([facts.connector_count, *taken]) - len(taken)
    anywhere = sum(1 for held in others if not held.connector_id)
    return anywhere >= free


@dataclass(frozen=True)
class AuthorizationFacts:
    """Everything the decision looks at, loaded beforehand."""

    station: Station
    id_tag: str
    """Canonical form when the tag could be normalised, else the tag as received."""
    id_tag_malformed: bool
    badge: Badge | None
    station_in_badge_groups: bool
    active_session_elsewhere: bool
    now: datetime
    identifier_unsupported: bool = False
    """The station named a kind of identifier no badge can be (an OCPP 2.0.1 eMAID, say)."""
    connector_id: int | None = None
    """Where the tag is presented, when the station says (StartTransaction, TransactionEvent)."""
    reservations: tuple[HeldConnector, ...] = ()
    """The station's reservations holding when the facts were loaded (expiry checked again)."""
    connector_count: int = 1
    """The station's connectors, loaded only while others' reservations hold there."""


@dataclass(frozen=True)
class Decision:
    status: AuthorizationStatus
    reason: Reason
    id_tag: str
    badge: Badge | None = None
    expires_at: datetime | None = None

    @property
    def accepted(self) -> bool:
        return self.status == AuthorizationStatus.ACCEPTED

    @property
    def vehicle(self) -> Vehicle | None:
        return self.badge.vehicle if self.badge is not None else None

    @property
    def company(self) -> Company | None:
        return self.badge.company if self.badge is not None else None

    @property
    def auth_method(self) -> str:
        """``autocharge``, ``rfid`` or ``open``: how the session was authorized."""
        if self.reason == Reason.OPEN_CHARGE:
            return "open"
        return "autocharge" if is_autocharge_tag(self.id_tag) else "rfid"


def decide(facts: AuthorizationFacts) -> Decision:
    """Apply the rules, first refusal wins. See README "Authorization rules"."""
    badge = facts.badge

    def refuse(status: AuthorizationStatus, reason: Reason) -> Decision:
        return Decision(status=status, reason=reason, id_tag=facts.id_tag, badge=badge)

    if facts.station.auth_mode == "open":
        # Open-charge accepts everyone (but on what others reserved); a known badge still gets
        # the session attributed.
        if reserved_for_another(facts):
            return refuse(AuthorizationStatus.INVALID, Reason.RESERVED_FOR_ANOTHER)
        return Decision(
            status=AuthorizationStatus.ACCEPTED,
            reason=Reason.OPEN_CHARGE,
            id_tag=facts.id_tag,
            badge=badge,
        )
    if facts.identifier_unsupported:
        return refuse(AuthorizationStatus.INVALID, Reason.UNSUPPORTED_IDENTIFIER)
    if facts.id_tag_malformed:
        return refuse(AuthorizationStatus.INVALID, Reason.MALFORMED_ID_TAG)
    if badge is None:
        return refuse(AuthorizationStatus.INVALID, Reason.UNKNOWN_BADGE)
    if badge.state != BadgeState.ENABLED:
        return refuse(AuthorizationStatus.BLOCKED, Reason.BADGE_DISABLED)
    if badge.company.archived_at is not None:
        return refuse(AuthorizationStatus.BLOCKED, Reason.COMPANY_ARCHIVED)
    if badge.is_expired(facts.now):
        return refuse(AuthorizationStatus.EXPIRED, Reason.BADGE_EXPIRED)
    if badge.vehicle is not None and not badge.vehicle.active:
        return refuse(AuthorizationStatus.INVALID, Reason.VEHICLE_INACTIVE)
    permitted = badge.company_id == facts.station.company_id or facts.station_in_badge_groups
    if not permitted:
        return refuse(AuthorizationStatus.INVALID, Reason.NOT_PERMITTED_AT_STATION)
    if reserved_for_another(facts):
        return refuse(AuthorizationStatus.INVALID, Reason.RESERVED_FOR_ANOTHER)
    if facts.active_session_elsewhere:
        return refuse(AuthorizationStatus.CONCURRENT_TX, Reason.CONCURRENT_SESSION)
    return Decision(
        status=AuthorizationStatus.ACCEPTED,
        reason=Reason.ACCEPTED,
        id_tag=facts.id_tag,
        badge=badge,
        expires_at=badge.expires_at,
    )


def load_facts(
    *,
    id_tag: str,
    station: Station,
    now: datetime | None = None,
    identifier_unsupported: bool = False,
    connector_id: int | None = None,
) -> AuthorizationFacts:
    """Load what ``decide`` needs: at most four queries, each on an index, and a fifth while
    another badge's reservation holds at the station."""
    now = now or timezone.now()
    try:
        canonical, malformed = normalize_id_tag(id_tag), False
    except IdTagError:
        canonical, malformed = id_tag.strip().upper(), True
    badge = None
    if not malformed and not identifier_unsupported:
        badge = Badge.objects.select_related("vehicle", "company").filter(rfid=canonical).first()
    in_groups = elsewhere = False
    if badge is not None:
        if badge.company_id != station.company_id:
            in_groups = badge.groups.filter(stations=station).exists()
        # Only sessions that were accepted count: a refused start the station never stopped
        # must not lock the vehicle out everywhere else.
        elsewhere = (
            badge.sessions.active()
            .filter(authorization_status=AuthorizationStatus.ACCEPTED)
            .exclude(station=station)
            .exists()
        )
    reservations, connector_count = (), 1
    if badge is not None or station.auth_mode == "open":  # else refused whatever is reserved
        reservations = tuple(
            HeldConnector(connector_id=connector, badge_id=badge_id, expires_at=expires_at)
            for connector, badge_id, expires_at in Reservation.objects.holding(now)
            .filter(station=station)
            .values_list("connector_id", "badge_id", "expires_at")
        )
        if any(held.badge_id != getattr(badge, "pk", None) for held in reservations):
            connector_count = station.connectors.filter(connector_id__gt=0).count()
    return AuthorizationFacts(
        station=station,
        id_tag=canonical,
        id_tag_malformed=malformed,
        badge=badge,
        station_in_badge_groups=in_groups,
        active_session_elsewhere=elsewhere,
        now=now,
        identifier_unsupported=identifier_unsupported,
        connector_id=connector_id,
        reservations=reservations,
        connector_count=connector_count,
    )


def authorize(
    *,
    id_tag: str,
    station: Station,
    identifier_unsupported: bool = False,
    connector_id: int | None = None,
) -> Decision:
    """The decision for ``id_tag`` presented at ``station`` (on ``connector_id`` when the
    station says), now. ``identifier_unsupported``: the station said the identifier is of a
    kind no badge can be."""
    return decide(
        load_facts(
            id_tag=id_tag,
            station=station,
            identifier_unsupported=identifier_unsupported,
            connector_id=connector_id,
        )
    )
