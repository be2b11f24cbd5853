from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models.functions import Upper
from django.utils.translation import gettext_lazy as _

from supervision.history import tracked


def normalize_license_plate(plate: str) -> str:
    """Plates compare without case or surrounding blanks: 'ft-123-er ' is FT-123-ER."""
    return plate.strip().upper()


class Company(models.Model):
    """A fleet operator: owns vehicles, badges and stations."""

    name = models.CharField(_("name"), max_length=200, unique=True)
    address = models.TextField(_("address"), blank=True)
    contact_email = models.EmailField(_("contact e-mail"), blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    archived_at = models.DateTimeField(
        _("archived at"),
        null=True,
        blank=True,
        editable=False,
        help_text=_("An archived company's badges are refused everywhere; its history stays."),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    history = tracked()

    class Meta:
        ordering = ["name"]
        verbose_name = _("company")
        verbose_name_plural = _("companies")

    def __str__(self) -> str:
        return self.name


class Vehicle(models.Model):
    """A fleet vehicle, identified by its licence plate; Autocharge badges point at it."""

    company = models.ForeignKey(
        Company, verbose_name=_("company"), on_delete=models.PROTECT, related_name="vehicles"
    )
    license_plate = models.CharField(
        _("license plate"),
        max_length=20,
        unique=True,
        help_text=_("For example FT-123-ER."),
        error_messages={"unique": _("A vehicle with this license plate already exists.")},
    )
    make = models.CharField(_("make"), max_length=100, blank=True)
    model = models.CharField(_("model"), max_length=100, blank=True)
    vin = models.CharField(_("VIN"), max_length=17, blank=True)
    description = models.TextField(_("description"), blank=True)
    charging_priority = models.PositiveSmallIntegerField(
        _("charging priority"),
        default=1,
        validators=[MinValueValidator(1)],
        help_text=_("Its weight when a site's power is shared: 2 gets twice the share of 1."),
    )
    active = models.BooleanField(
        _("active"), default=True, help_text=_("An inactive vehicle is refused at every station.")
    )
    archived_at = models.DateTimeField(
        _("archived at"),
        null=True,
        blank=True,
        editable=False,
        help_text=_("An archived vehicle is inactive and offered nowhere; its sessions stay."),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    # An archived vehicle is also inactive (``supervision.archiving``).
    ARCHIVED_ALSO = {"active": False}
    history = tracked()

    class Meta:
        ordering = ["license_plate"]
        verbose_name = _("vehicle")
        verbose_name_plural = _("vehicles")
        constraints = [
            # Stored upper case, so the unique index is also unique regardless of case.
            models.CheckConstraint(
                condition=models.Q(license_plate=Upper("license_plate")),
                name="vehicle_license_plate_upper",
            ),
            models.CheckConstraint(
                condition=models.Q(archived_at__isnull=True) | models.Q(active=False),
                name="vehicle_archived_is_inactive",
                violation_error_message=_("An archived vehicle stays inactive: restore it first."),
            ),
        ]

    def __str__(self) -> str:
        label = " ".join(part for part in (self.make, self.model) if part)
        return f"{self.license_plate} ({label})" if label else self.license_plate

    def clean(self) -> None:
        self.license_plate = normalize_license_plate(self.license_plate)


class AuthorizationGroup(models.Model):
    """The seed's "Groupes": a set of stations where the badges of the group may charge,
    in addition to the stations of the badge's own company."""

    name = models.CharField(_("name"), max_length=200)
    company = models.ForeignKey(
        Company,
        verbose_name=_("company"),
        on_delete=models.CASCADE,
        related_name="authorization_groups",
    )
    stations = models.ManyToManyField(
        "stations.Station",
        verbose_name=_("stations"),
        related_name="authorization_groups",
        blank=True,
    )
    description = models.TextField(_("description"), blank=True)

    history = tracked(m2m_fields=["stations"])

    class Meta:
        ordering = ["company__name", "name"]
        verbose_name = _("authorization group")
        verbose_name_plural = _("authorization groups")
        constraints = [
            models.UniqueConstraint(
                fields=["company", "name"], name="group_name_unique_per_company"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.company})"


class StaffMembership(models.Model):
    """The company a staff user works for. A staff user who is not a superuser sees and changes
    only that company's records, in the admin and in the API (``supervision.tenancy``); without
    a membership they see nothing."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="staff_membership",
    )
    company = models.ForeignKey(
        Company,
        verbose_name=_("company"),
        # A company with staff is not deleted by accident: move or remove its staff first.
        on_delete=models.PROTECT,
        related_name="staff_memberships",
    )

    class Meta:
        verbose_name = _("staff membership")
        verbose_name_plural = _("staff memberships")

    def __str__(self) -> str:
        return f"{self.user} ({self.company})"
