"""Badge rules that need no station: the shared-MAC check, dismissing an inbox entry, and the
error staff see when an enrolment or pairing is refused (enrolment and pairing themselves meet
stations: ``stations.enrolment``)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from badges.models import InboxStatus, SharedMacModel, UnknownVehicle
from fleet.models import Vehicle

# A pairing's connector: connector ids are kept in 32-bit columns, and the gateway refuses
# larger ones from stations.
MAX_CONNECTOR_ID = 2**31 - 1


class EnrolmentError(ValidationError):
    """An enrolment or pairing that staff must correct; ``code`` tells which rule refused."""


def shared_mac_model_of(vehicle: Vehicle) -> SharedMacModel | None:
    """The shared-EVCCID model line this vehicle belongs to, if any."""
    return next((line for line in SharedMacModel.objects.all() if line.matches(vehicle)), None)


def check_shared_mac(*, vehicle: Vehicle, acknowledged: bool) -> None:
    """Refuse, unless acknowledged, to tie a MAC to a model line whose cars share theirs."""
    line = shared_mac_model_of(vehicle)
    if line is not None and not acknowledged:
        raise EnrolmentError(
            _(
                "%(model)s vehicles are known to send a shared or changing MAC address: a badge "
                "for it could let every car of the model charge. Confirm to enrol anyway."
            )
            % {"model": line},
            code="shared_mac",
        )


def unknown_vehicle_dismiss(*, entry: UnknownVehicle, reason: str, dismissed_by=None) -> None:
    """Not a fleet vehicle (a visitor, say): leave the open list, stay visible."""
    if entry.status == InboxStatus.ENROLLED:
        raise EnrolmentError(
            _("%(tag)s is already enrolled.") % {"tag": entry.id_tag}, code="enrolled"
        )
    if not reason.strip():
        raise EnrolmentError({"reason": _("Say why this vehicle is dismissed.")})
    entry.status = InboxStatus.DISMISSED
    entry.dismissed_reason = reason.strip()[:200]
    entry.resolved_by = dismissed_by
    entry.resolved_at = timezone.now()
    entry.save(update_fields=["status", "dismissed_reason", "resolved_by", "resolved_at"])
