from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Upper
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from badges.identifiers import IdTagError, mac_of, normalize_id_tag


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


class BadgeQuerySet(models.QuerySet):
    def autocharge(self) -> "BadgeQuerySet":
        return self.filter(rfid__startswith="VID:")

    def enabled(self) -> "BadgeQuerySet":
        return self.filter(state=BadgeState.ENABLED)


def autocharge_description_prefix() -> str:
    """What a pre-filled badge form starts the description with; staff add the plate."""
    return gettext("Autocharge badge, vehicle")


def autocharge_description(vehicle) -> str:
    """The seed's recommended description, e.g. "Badge Auto-Charge véhicule FT-123-ER"."""
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

    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = BadgeQuerySet.as_manager()

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
