import os
import time
import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _

from badges.authorization import Reason
from ocpp_gateway.fields import OrderedJSONField


class Direction(models.TextChoices):
    IN = "in", _("Station → supervision")
    OUT = "out", _("Supervision → station")


class MessageType(models.IntegerChoices):
    CALL = 2, _("Call")
    CALL_RESULT = 3, _("Call result")
    CALL_ERROR = 4, _("Call error")


class LogStatus(models.TextChoices):
    """The outcome staff filter on: the seed's ``"status": "Rejected"`` for refused tags."""

    ACCEPTED = "Accepted", _("Accepted")
    REJECTED = "Rejected", _("Rejected")
    ERROR = "Error", _("Error")


def time_ordered_uuid() -> uuid.UUID:
    """A UUIDv7: millisecond time first, then randomness. The gateway knows a log row's id
    before it is written (a refusal records which entry it came from), and new ids still land
    at the end of the primary-key index like a sequence would."""
    value = (time.time_ns() // 1_000_000) << 80 | int.from_bytes(os.urandom(10))
    value = (value & ~(0xF << 76)) | (0x7 << 76)  # version 7
    value = (value & ~(0x3 << 62)) | (0x2 << 62)  # RFC 4122 variant
    return uuid.UUID(int=value)


class OcppMessage(models.Model):
    """One OCPP-J frame, in or out, as it crossed the WebSocket.

    For Authorize and StartTransaction requests, ``status`` says whether the tag was accepted,
    ``ocpp_status`` what the station was told (``Invalid``, ``Blocked``…) and ``reason`` why.
    A frame that is not valid OCPP is kept whole in ``payload`` with ``message_type`` empty.
    """

    id = models.UUIDField(primary_key=True, default=time_ordered_uuid, editable=False)
    station = models.ForeignKey(
        "stations.Station",
        verbose_name=_("station"),
        on_delete=models.SET_NULL,
        related_name="ocpp_messages",
        null=True,
        blank=True,
    )
    charge_point_id = models.CharField(_("charge point id"), max_length=64)
    direction = models.CharField(_("direction"), max_length=3, choices=Direction.choices)
    message_type = models.PositiveSmallIntegerField(
        _("message type"), choices=MessageType.choices, null=True, blank=True
    )
    unique_id = models.CharField(_("unique id"), max_length=64, blank=True)
    action = models.CharField(_("action"), max_length=64, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=LogStatus.choices, blank=True)
    ocpp_status = models.CharField(
        _("OCPP status"),
        max_length=64,
        blank=True,
        help_text=_("The status the frame carried, or the error code of a call error."),
    )
    reason = models.CharField(_("reason"), max_length=32, choices=Reason.choices, blank=True)
    id_tag = models.CharField(_("id tag"), max_length=64, blank=True)
    payload = OrderedJSONField(_("payload"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("OCPP message")
        verbose_name_plural = _("OCPP messages")
        indexes = [
            models.Index(fields=["station", "-created_at"]),
            models.Index(fields=["action", "status"]),
            models.Index(fields=["id_tag"]),
        ]

    def __str__(self) -> str:
        return f"{self.charge_point_id} {self.direction} {self.action or self.message_type}"
