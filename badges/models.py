import unicodedata

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Upper
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from badges.identifiers import IdTagError, is_locally_administered, mac_of, normalize_id_tag
from supervision.history import tracked


class BadgeType(models.TextChoices):
    PHYSICAL = "physical", _("Physical")
    VIRTUAL = "virtual", _("Virtual")


class BadgeState(models.TextChoices):
    ENABLED = "enabled", _("Enabled")
    DISABLED = "disabled", _("Disabled")


class BadgeUsage(models.TextChoices):
    PROFESSIONAL = "professional", _("Professional")
    PERSONAL = "personal", _("Personal")


class BadgeMode(models.TextChoices):
    VEHICLE = "vehicle", _("Vehicle – badge attributed to one vehicle only")
    COMPANY = "company", _("Company – a shared badge of the company")


class EnrolledVia(models.TextChoices):
    MANUAL = "manual", _("Created by hand")
    INBOX = "inbox", _("Enrolled from the unknown-vehicle inbox")
    PAIRING = "pairing", _("Enrolled by pairing mode")


class BadgeQuerySet(models.QuerySet):
    def autocharge(self) -> "BadgeQuerySet":
        return self.filter(rfid__startswith="VID:")

    def enabled(self) -> "BadgeQuerySet":
        return self.filter(state=BadgeState.ENABLED)


def autocharge_description_prefix() -> str:
    """What a pre-filled badge form starts the description with; staff add the plate."""
    return gettext("Autocharge badge, vehicle")


def autocharge_description(vehicle) -> str:
    """The seed's recommended description, e.g. "Badge Autocharge véhicule FT-123-ER"
    (the seed writes "Auto-Charge"; the portal has one spelling)."""
    return f"{autocharge_description_prefix()} {vehicle.license_plate}"


class Badge(models.Model):
    """An id tag a station may present: a card (RFID) or a vehicle's MAC (``VID:…``).

    ``rfid`` is stored in canonical form (upper case; ``VID:`` + 12 hex for Autocharge), so
    lookups are exact and one MAC can only have one badge.
    """

    # Badge
    rfid = models.CharField(
        _("RFID"),
        max_length=64,
        unique=True,
        help_text=_(
            "The id tag the station sends. For Autocharge: VID: followed by the vehicle's MAC "
            "address, e.g. VID:A014310E004E."
        ),
        error_messages={"unique": _("A badge with this RFID already exists.")},
    )
    visual_number = models.CharField(
        _("visual badge number"),
        max_length=64,
        blank=True,
        help_text=_("Number printed on the badge. Left empty, it is the MAC address."),
    )
    type = models.CharField(
        _("type"), max_length=16, choices=BadgeType.choices, default=BadgeType.PHYSICAL
    )
    state = models.CharField(
        _("state"), max_length=16, choices=BadgeState.choices, default=BadgeState.ENABLED
    )
    provider = models.ForeignKey(
        "fleet.Company",
        verbose_name=_("provider"),
        on_delete=models.PROTECT,
        related_name="provided_badges",
        null=True,
        blank=True,
        help_text=_("Entity that owns the badge or the station."),
    )
    description = models.TextField(_("description"), blank=True)
    expires_at = models.DateTimeField(
        _("expires at"), null=True, blank=True, help_text=_("Empty: never expires.")
    )

    # Attribution and usage
    usage = models.CharField(
        _("usage"), max_length=16, choices=BadgeUsage.choices, default=BadgeUsage.PROFESSIONAL
    )
    mode = models.CharField(
        _("mode"), max_length=16, choices=BadgeMode.choices, default=BadgeMode.VEHICLE
    )
    company = models.ForeignKey(
        "fleet.Company",
        verbose_name=_("company"),
        on_delete=models.PROTECT,
        related_name="badges",
        help_text=_("The company the vehicle belongs to."),
    )
    vehicle = models.ForeignKey(
        "fleet.Vehicle",
        verbose_name=_("vehicle"),
        on_delete=models.PROTECT,
        related_name="badges",
        null=True,
        blank=True,
    )
    groups = models.ManyToManyField(
        "fleet.AuthorizationGroup",
        verbose_name=_("groups"),
        related_name="badges",
        blank=True,
        help_text=_("Authorization groups: more stations where this badge may charge."),
    )

    enrolled_via = models.CharField(
        _("enrolled via"), max_length=16, choices=EnrolledVia.choices, default=EnrolledVia.MANUAL
    )
    enrolled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("enrolled by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    archived_at = models.DateTimeField(
        _("archived at"),
        null=True,
        blank=True,
        editable=False,
        help_text=_("An archived badge is disabled and offered nowhere; its sessions stay."),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = BadgeQuerySet.as_manager()
    # ``updated_at`` changes at every save: the history's own date says when.
    history = tracked(m2m_fields=["groups"], excluded_fields=["updated_at"])

    # An archived badge is also disabled (``supervision.archiving``).
    ARCHIVED_ALSO = {"state": BadgeState.DISABLED}

    class Meta:
        ordering = ["rfid"]
        verbose_name = _("badge")
        verbose_name_plural = _("badges")
        constraints = [
            # Canonical form is upper case, so exact uniqueness is case-insensitive uniqueness.
            models.CheckConstraint(condition=models.Q(rfid=Upper("rfid")), name="badge_rfid_upper"),
            models.CheckConstraint(
                condition=~models.Q(mode="vehicle", vehicle__isnull=True),
                name="badge_vehicle_mode_has_vehicle",
            ),
            models.CheckConstraint(
                condition=models.Q(archived_at__isnull=True) | models.Q(state="disabled"),
                name="badge_archived_is_disabled",
                violation_error_message=_("An archived badge stays disabled: restore it first."),
            ),
        ]
        indexes = [models.Index(fields=["vehicle", "state"])]

    def __str__(self) -> str:
        return self.rfid

    @property
    def is_autocharge(self) -> bool:
        return self.mac is not None

    @property
    def mac(self) -> str | None:
        return mac_of(self.rfid)

    def is_expired(self, now=None) -> bool:
        return self.expires_at is not None and self.expires_at <= (now or timezone.now())

    def clean(self) -> None:
        """Canonical RFID, default visual number and description, coherent attribution."""
        errors: dict[str, str] = {}
        try:
            self.rfid = normalize_id_tag(self.rfid or "")
        except IdTagError as error:
            errors["rfid"] = str(error)
        else:
            if not self.visual_number and self.mac:
                self.visual_number = self.mac
        if self.mode == BadgeMode.VEHICLE:
            if self.vehicle_id is None:
                errors["vehicle"] = gettext("A badge in vehicle mode must name its vehicle.")
            elif self.company_id is not None and self.vehicle.company_id != self.company_id:
                errors["vehicle"] = gettext(
                    "The vehicle %(plate)s belongs to %(owner)s, not to the badge's company."
                ) % {"plate": self.vehicle.license_plate, "owner": self.vehicle.company}
        elif self.vehicle_id is not None:
            errors["vehicle"] = gettext(
                "A shared company badge is not attributed to a vehicle: choose vehicle mode."
            )
        unfinished = self.description.strip() in ("", autocharge_description_prefix())
        if self.is_autocharge and unfinished and self.vehicle_id is not None:
            self.description = autocharge_description(self.vehicle)
        if errors:
            raise ValidationError(errors)


class InboxStatus(models.TextChoices):
    OPEN = "open", _("Open")
    ENROLLED = "enrolled", _("Enrolled")
    DISMISSED = "dismissed", _("Dismissed")


class UnknownVehicle(models.Model):
    """The inbox: one row per company and MAC that the company's stations presented and no
    badge knew, aggregating those attempts, so staff enrol vehicles without digging through the
    OCPP log. Each company has its own entry, counters and decision for a MAC: what another
    company saw or decided about it is that company's business."""

    company = models.ForeignKey(
        "fleet.Company",
        verbose_name=_("company"),
        on_delete=models.CASCADE,
        related_name="unknown_vehicles",
        help_text=_("The company whose stations saw the vehicle."),
    )
    mac = models.CharField(_("MAC address"), max_length=12)
    id_tag = models.CharField(_("id tag"), max_length=16)
    first_seen_at = models.DateTimeField(_("first seen"))
    last_seen_at = models.DateTimeField(_("last seen"), db_index=True)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    last_reason = models.CharField(_("latest refusal reason"), max_length=32)
    vendor_hint = models.CharField(
        _("vendor hint"),
        max_length=200,
        blank=True,
        help_text=_("The organisation registered at the IEEE for the MAC's first three bytes."),
    )
    status = models.CharField(
        _("status"), max_length=16, choices=InboxStatus.choices, default=InboxStatus.OPEN
    )
    badge = models.ForeignKey(
        Badge,
        verbose_name=_("badge"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    dismissed_reason = models.CharField(_("dismissal reason"), max_length=200, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("resolved by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)

    class Meta:
        ordering = ["-last_seen_at"]
        verbose_name = _("unknown vehicle")
        verbose_name_plural = _("unknown vehicles")
        constraints = [
            models.UniqueConstraint(fields=["company", "mac"], name="unknown_vehicle_company_mac")
        ]

    def __str__(self) -> str:
        return self.id_tag

    @property
    def locally_administered(self) -> bool:
        """A randomised (not factory-assigned) address: the vehicle may change it."""
        return is_locally_administered(self.mac)


class VehicleSighting(models.Model):
    """One refused attempt of a ``VID:`` tag: where, when, why, and which log entry says so."""

    mac = models.CharField(_("MAC address"), max_length=12, db_index=True)
    id_tag = models.CharField(_("id tag as sent"), max_length=64)
    station = models.ForeignKey(
        "stations.Station",
        verbose_name=_("station"),
        on_delete=models.CASCADE,
        related_name="vehicle_sightings",
    )
    connector_id = models.PositiveIntegerField(_("connector id"), null=True, blank=True)
    reason = models.CharField(_("reason"), max_length=32)
    # The OCPP log row of the refused request; a plain id because the domain does not depend
    # on the gateway (and the row is written just after this one).
    log_entry_id = models.UUIDField(_("log entry"), null=True, blank=True)
    seen_at = models.DateTimeField(_("seen at"))
    unknown_vehicle = models.ForeignKey(
        UnknownVehicle,
        verbose_name=_("unknown vehicle"),
        on_delete=models.CASCADE,
        related_name="sightings",
        null=True,
        blank=True,
    )

    class Meta:
        ordering = ["-seen_at"]
        verbose_name = _("vehicle sighting")
        verbose_name_plural = _("vehicle sightings")
        indexes = [models.Index(fields=["mac", "seen_at"])]

    def __str__(self) -> str:
        return f"{self.id_tag} @ {self.station_id}"


class PairingWindowQuerySet(models.QuerySet):
    def open(self, now=None) -> "PairingWindowQuerySet":
        return self.filter(closed_at__isnull=True, expires_at__gt=now or timezone.now())


class PairingOutcome(models.TextChoices):
    PAIRED = "paired", _("Paired")
    CANCELLED = "cancelled", _("Cancelled")
    EXPIRED = "expired", _("Expired")


class PairingWindow(models.Model):
    """Staff arm a station (or one connector) for a vehicle: the next unknown ``VID:`` tag
    presented there within the window becomes that vehicle's badge."""

    station = models.ForeignKey(
        "stations.Station",
        verbose_name=_("station"),
        on_delete=models.CASCADE,
        related_name="pairing_windows",
    )
    connector_id = models.PositiveIntegerField(
        _("connector id"), null=True, blank=True, help_text=_("Empty: any connector.")
    )
    vehicle = models.ForeignKey(
        "fleet.Vehicle",
        verbose_name=_("vehicle"),
        on_delete=models.CASCADE,
        related_name="pairing_windows",
    )
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("opened by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    opened_at = models.DateTimeField(_("opened at"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires at"))
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    outcome = models.CharField(
        _("outcome"), max_length=16, choices=PairingOutcome.choices, blank=True
    )
    badge = models.ForeignKey(
        Badge,
        verbose_name=_("badge"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    objects = PairingWindowQuerySet.as_manager()

    class Meta:
        ordering = ["-opened_at"]
        verbose_name = _("pairing window")
        verbose_name_plural = _("pairing windows")
        constraints = [
            models.UniqueConstraint(
                fields=["station"],
                condition=models.Q(closed_at__isnull=True),
                name="one_unclosed_pairing_window_per_station",
            )
        ]

    def __str__(self) -> str:
        return f"{self.station} → {self.vehicle}"

    @property
    def is_open(self) -> bool:
        return self.closed_at is None and self.expires_at > timezone.now()

    @property
    def status(self) -> str:
        """``open``, or how it ended (``paired``, ``cancelled``, ``expired``)."""
        if self.closed_at is not None:
            return self.outcome
        return "open" if self.is_open else PairingOutcome.EXPIRED


class SharedMacModel(models.Model):
    """A vehicle model line known to send one EVCCID for every car, or a new one each time:
    a badge for such a MAC would let every car of the model charge."""

    make = models.CharField(_("make"), max_length=100, help_text=_("Matched ignoring case."))
    model = models.CharField(
        _("model"),
        max_length=100,
        blank=True,
        help_text=_("Matched ignoring case, as part of the vehicle's model. Empty: every model."),
    )
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        ordering = ["make", "model"]
        verbose_name = _("shared-MAC vehicle model")
        verbose_name_plural = _("shared-MAC vehicle models")
        constraints = [
            models.UniqueConstraint(fields=["make", "model"], name="shared_mac_model_unique")
        ]

    def __str__(self) -> str:
        return f"{self.make} {self.model}".strip()

    def matches(self, vehicle) -> bool:
        return _folded(self.make) in _folded(vehicle.make) and (
            _folded(self.model) in _folded(vehicle.model)
        )


def _folded(text: str) -> str:
    """Compare names ignoring case and accents: "Škoda" is "skoda"."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(char for char in decomposed if not unicodedata.combining(char)).casefold()


class AuthorizationChange(models.Model):
    """A change that may alter authorization decisions, for the processes' caches (see
    ``stations.authorization_index``): about one badge (its sessions, its state), or about
    anything (a station, a company, a group, a vehicle) when ``badge_id`` is empty. Written in
    the transaction of the change; read by every server process a few times a second; kept an
    hour."""

    badge_id = models.BigIntegerField(_("badge"), null=True, blank=True)
    # A session starting or stopping changes where its badge charges, never a tag: while only
    # such changes are unread, a tag no badge carries is still refused from memory.
    tags_unchanged = models.BooleanField(_("tags unchanged"), default=False)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("authorization change")
        verbose_name_plural = _("authorization changes")

    def __str__(self) -> str:
        return f"{self.badge_id or 'all'} at {self.created_at:%H:%M:%S.%f}"


# --- Reservations (OCPP 1.6 Reservation profile, 2.0.1 block H) ------------------------------


class ReservationStatus(models.TextChoices):
    """Where a reservation stands. The station's ReserveNow answers are OCPP's words in lower
    case (accepted, faulted, occupied, rejected, unavailable)."""

    REQUESTED = "requested", _("Requested, waiting for the station")
    ACCEPTED = "accepted", _("Accepted by the station")
    FAULTED = "faulted", _("Refused: connector faulted")
    OCCUPIED = "occupied", _("Refused: connector occupied")
    REJECTED = "rejected", _("Refused by the station")
    UNAVAILABLE = "unavailable", _("Refused: connector unavailable")
    FAILED = "failed", _("Not delivered (station offline or no answer)")
    CANCELLED = "cancelled", _("Cancelled")
    EXPIRED = "expired", _("Expired")
    USED = "used", _("Used: the badge started charging")


class ReservationQuerySet(models.QuerySet):
    def holding(self, now=None) -> "ReservationQuerySet":
        """Reservations that keep their connector for their badge now: requested (the station
        may already hold it) or accepted, and not past their expiry."""
        return self.filter(
            status__in=[ReservationStatus.REQUESTED, ReservationStatus.ACCEPTED],
            expires_at__gt=now or timezone.now(),
        )


class Reservation(models.Model):
    """A connector of a station (0: any connector of it) kept for one badge until
    ``expires_at``. While it holds, other badges are refused there; the badge's own start uses
    it. ``reservation_id`` is the id the station knows it by, unique per station."""

    station = models.ForeignKey(
        "stations.Station",
        verbose_name=_("station"),
        on_delete=models.CASCADE,
        related_name="reservations",
    )
    connector_id = models.PositiveIntegerField(
        _("connector id"),
        default=0,
        help_text=_("0: any connector of the station (OCPP 2.0.1: no EVSE named)."),
    )
    connector_type = models.CharField(
        _("connector type"),
        max_length=20,
        blank=True,
        help_text=_("OCPP 2.0.1 only: reserve a connector of this type (cType2, cCCS2…)."),
    )
    badge = models.ForeignKey(
        Badge,
        verbose_name=_("badge"),
        on_delete=models.CASCADE,
        related_name="reservations",
    )
    reservation_id = models.PositiveIntegerField(_("reservation id"))
    expires_at = models.DateTimeField(_("expires at"))
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=ReservationStatus.choices,
        default=ReservationStatus.REQUESTED,
    )
    detail = models.CharField(_("detail"), max_length=255, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)

    objects = ReservationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("reservation")
        verbose_name_plural = _("reservations")
        constraints = [
            models.UniqueConstraint(
                fields=["station", "reservation_id"], name="reservation_id_unique_per_station"
            )
        ]
        indexes = [models.Index(fields=["station", "status", "expires_at"])]

    def __str__(self) -> str:
        return f"#{self.reservation_id} {self.badge} @ {self.station_id}:{self.connector_id}"

    def holds(self, now=None) -> bool:
        return self.status in (
            ReservationStatus.REQUESTED,
            ReservationStatus.ACCEPTED,
        ) and self.expires_at > (now or timezone.now())
