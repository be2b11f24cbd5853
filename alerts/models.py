"""What each staff user asked to be told by e-mail about a company, and what they were told."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from supervision.history import tracked


class AlertKind(models.TextChoices):
    STATION_OFFLINE = "station_offline", _("Station offline")
    CONNECTOR_FAULTED = "connector_faulted", _("Connector faulted")
    UNKNOWN_VEHICLE = "unknown_vehicle", _("Unknown vehicle refused")
    DAILY_DIGEST = "daily_digest", _("Daily digest")


# The subscription's flag for each kind: the receivers and jobs filter on it.
KIND_FIELDS = {
    AlertKind.STATION_OFFLINE: "station_offline",
    AlertKind.CONNECTOR_FAULTED: "connector_faulted",
    AlertKind.UNKNOWN_VEHICLE: "unknown_vehicle",
    AlertKind.DAILY_DIGEST: "daily_digest",
}


class AlertSubscription(models.Model):
    """The alerts one staff user receives about one company's stations: a company's staff
    about their own company, superusers about any. Mailed to the user's address, in
    ``language``."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="alert_subscriptions",
    )
    company = models.ForeignKey(
        "fleet.Company",
        verbose_name=_("company"),
        on_delete=models.CASCADE,
        related_name="alert_subscriptions",
    )
    station_offline = models.BooleanField(
        _("station offline"),
        default=True,
        help_text=_("A station of the company stays disconnected longer than the delay below."),
    )
    offline_minutes = models.PositiveIntegerField(
        _("offline for (minutes)"),
        default=15,
        validators=[MinValueValidator(1), MaxValueValidator(7 * 24 * 60)],
        help_text=_("How long a station stays disconnected before the alert (1 to 10080)."),
    )
    connector_faulted = models.BooleanField(
        _("connector faulted"),
        default=True,
        help_text=_("A connector of one of the company's stations reports Faulted."),
    )
    unknown_vehicle = models.BooleanField(
        _("unknown vehicle refused"),
        default=True,
        help_text=_("A vehicle nobody enrolled is refused at one of the company's stations."),
    )
    daily_digest = models.BooleanField(
        _("daily digest"),
        default=False,
        help_text=_("Every morning, the last 24 hours: sessions, energy, refusals, outages."),
    )
    language = models.CharField(
        _("language of the e-mails"), max_length=8, choices=settings.LANGUAGES, default="fr"
    )
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    history = tracked()

    class Meta:
        ordering = ["company__name", "user__username"]
        verbose_name = _("alert subscription")
        verbose_name_plural = _("alert subscriptions")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "company"], name="alert_subscription_unique_per_user_company"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} → {self.company}"

    def clean(self) -> None:
        user = self.user if self.user_id else None
        if user is None:
            return
        if not (user.is_active and user.is_staff):
            raise ValidationError({"user": _("Only active staff users receive alerts.")})
        if not user.email:
            raise ValidationError({"user": _("This user has no e-mail address.")})
        if self.company_id and not user.is_superuser:
            membership = getattr(user, "staff_membership", None)
            if membership is None or membership.company_id != self.company_id:
                raise ValidationError(
                    {"company": _("A staff user receives alerts about their own company only.")}
                )

    def wants(self, kind: AlertKind) -> bool:
        return self.active and getattr(self, KIND_FIELDS[kind])


class AlertNotice(models.Model):
    """One alert mailed: the throttle counts them, and the offline job remembers by them which
    disconnection it already told about."""

    subscription = models.ForeignKey(
        AlertSubscription,
        verbose_name=_("subscription"),
        on_delete=models.CASCADE,
        related_name="notices",
    )
    kind = models.CharField(_("kind"), max_length=32, choices=AlertKind.choices)
    station = models.ForeignKey(
        "stations.Station",
        verbose_name=_("station"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
    )
    # The disconnection a station-offline alert told about (its connection that ended).
    station_connection = models.ForeignKey(
        "stations.StationConnection",
        verbose_name=_("disconnection"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    email = models.ForeignKey(
        "supervision.OutgoingEmail",
        verbose_name=_("e-mail"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("sent at"), default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("alert sent")
        verbose_name_plural = _("alerts sent")
        indexes = [models.Index(fields=["subscription", "kind", "station", "-created_at"])]
        constraints = [
            # A disconnection is told about once per subscription, even by two job runs.
            models.UniqueConstraint(
                fields=["subscription", "station_connection"],
                condition=models.Q(station_connection__isnull=False),
                name="alert_notice_once_per_disconnection",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.subscription}"
