"""Webhooks: a company's URLs that receive what happens at its stations and to its sessions,
as signed JSON POSTs, queued in the database and sent by the job runner."""

from __future__ import annotations

import secrets
import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from supervision.history import tracked


class EventType(models.TextChoices):
    SESSION_STARTED = "session.started", _("Session started")
    SESSION_STOPPED = "session.stopped", _("Session stopped")
    VEHICLE_REFUSED = "vehicle.refused", _("Vehicle refused")
    VEHICLE_UNKNOWN = "vehicle.unknown", _("Unknown vehicle refused")
    STATION_CONNECTED = "station.connected", _("Station connected")
    STATION_DISCONNECTED = "station.disconnected", _("Station disconnected")
    SECURITY_EVENT = "security.event", _("Security event")


# Sent only on demand ("send test event"), never subscribed to.
TEST_EVENT = "webhook.test"


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def validate_events(value) -> None:
    if not isinstance(value, list) or not value:
        raise ValidationError(_("Choose at least one event."), code="events")
    unknown = sorted({str(item) for item in value} - set(EventType.values))
    if unknown:
        raise ValidationError(
            _("Unknown events: %(events)s."), params={"events": ", ".join(unknown)}, code="events"
        )


class Webhook(models.Model):
    company = models.ForeignKey(
        "fleet.Company",
        verbose_name=_("company"),
        on_delete=models.CASCADE,
        related_name="webhooks",
    )
    url = models.URLField(
        _("URL"),
        max_length=500,
        # http(s) only: no file://, ftp:// or other scheme urllib would open.
        validators=[URLValidator(schemes=["http", "https"])],
        help_text=_("Receives a POST with a JSON body for each event (http or https)."),
    )
    events = models.JSONField(
        _("events"),
        default=list,
        validators=[validate_events],
        help_text=_("The events sent to this URL."),
    )
    secret = models.CharField(
        _("secret"),
        max_length=128,
        blank=True,
        help_text=_(
            "Signs each body (X-Autocharge-Signature: sha256=HMAC-SHA256 of the body). "
            "Generated when left empty."
        ),
    )
    active = models.BooleanField(_("active"), default=True)
    description = models.CharField(_("description"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=pgettext_lazy("webhook", "created by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    # The secret stays out of the history: its rows are read by more people, for longer.
    history = tracked(excluded_fields=["secret"])

    class Meta:
        ordering = ["company", "url"]
        verbose_name = _("webhook")
        verbose_name_plural = _("webhooks")

    def __str__(self) -> str:
        return self.url

    def save(self, *args, **kwargs) -> None:
        if not self.secret:
            self.secret = new_secret()
        super().save(*args, **kwargs)

    def listens_to(self, event_type: str) -> bool:
        return event_type == TEST_EVENT or event_type in self.events


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    DELIVERED = "delivered", _("Delivered")
    FAILED = "failed", _("Failed (given up)")


class WebhookDelivery(models.Model):
    """One event for one webhook: its body, and how its sending went. Its ``id`` is the
    ``X-Autocharge-Delivery`` header; ``event_id`` the body's ``id`` (the same for every
    webhook the event goes to)."""

    id = models.UUIDField(_("delivery id"), primary_key=True, default=uuid.uuid4, editable=False)
    webhook = models.ForeignKey(
        Webhook, verbose_name=_("webhook"), on_delete=models.CASCADE, related_name="deliveries"
    )
    event_id = models.UUIDField(_("event id"), db_index=True)
    event_type = models.CharField(_("event"), max_length=32)
    payload = models.JSONField(_("body"))
    status = models.CharField(
        _("status"), max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    status_code = models.PositiveSmallIntegerField(_("HTTP status"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next try"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        indexes = [models.Index(fields=["status", "next_attempt_at"])]

    def __str__(self) -> str:
        return f"{self.event_type} → {self.webhook_id}"
